"""Latency statistics of one cell: every raw value is kept; these summarise them."""

from __future__ import annotations

import numpy as np

UNSTABLE_CV = 0.25  # coefficient of variation above which a cell is flagged unstable


def summarise(latencies_ms: list[float]) -> dict:
    if not latencies_ms:
        return {}
    a = np.asarray(latencies_ms, dtype=float)
    mean = float(a.mean())
    return {
        "n": int(a.size),
        "min": float(a.min()),
        "p50": float(np.percentile(a, 50)),
        "p95": float(np.percentile(a, 95)),
        "p99": float(np.percentile(a, 99)),
        "max": float(a.max()),
        "mean": mean,
        "cv": float(a.std(ddof=1) / mean) if a.size > 1 and mean > 0 else 0.0,
    }


def unstable(stats: dict, threshold: float = UNSTABLE_CV) -> bool:
    return bool(stats) and stats.get("n", 0) > 1 and stats["cv"] > threshold
