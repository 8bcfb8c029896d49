"""Configuration: profiles (scales x durations), later scenarios, protocol and engine images."""
