"""The one run loop: protocol, timing, statistics, per-cell results (later: RAM gradient)."""
