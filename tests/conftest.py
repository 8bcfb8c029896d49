"""Shared pytest configuration for btb's tests (fixtures are added as the suites grow)."""
