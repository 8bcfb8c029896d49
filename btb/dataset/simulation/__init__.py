"""Building simulation: counter-based random streams, environment, physics, row emission."""
