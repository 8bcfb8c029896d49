"""Counter-based random numbers: a value is a pure function of (seed, stream, keys).

Every random draw in the simulation is addressed by what it belongs to — (seed, point id, minute)
for measurement noise, (seed, zone id, day) for a zone's occupancy — instead of coming from a
sequential generator. So regenerating any subset of points or days gives identical values, and
workers need no shared state. The mixer is SplitMix64's finaliser, vectorised with NumPy; one
64-bit hash per value keeps noise generation well under the Parquet writer's cost.
"""

from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)

# Streams: one constant per use, so two uses of the same keys never share values.
NOISE, OCCUPANCY, WEATHER, SCHEDULE, OVERRIDE, FILTER, ENERGY0, STRUCTURE, PARAMS = range(1, 10)


def _mix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def hash64(seed: int, stream: int, *keys) -> np.ndarray:
    """Mix seed, stream and any number of integer keys (arrays broadcast) into uint64 hashes."""
    with np.errstate(over="ignore"):
        h = _mix(np.uint64(seed) * _GOLDEN + np.uint64(stream))
        for k in keys:
            h = _mix(h ^ (np.asarray(k).astype(np.uint64) * _GOLDEN))
    return h


def uniform(seed: int, stream: int, *keys) -> np.ndarray:
    """Uniform floats in [0, 1) from the top 53 bits of the hash."""
    return (hash64(seed, stream, *keys) >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)


def normal(seed: int, stream: int, *keys) -> np.ndarray:
    """Zero-mean, unit-variance noise: the sum of the hash's two 32-bit uniforms (triangular).

    Bounded at ±2.45 σ and bell-shaped enough for sensor noise (no absurd outliers); half the
    cost of a four-term Irwin–Hall sum and a fraction of Box–Muller's.
    """
    h = hash64(seed, stream, *keys)
    s = (h & np.uint64(0xFFFFFFFF)).astype(np.float64)
    s += (h >> np.uint64(32)).astype(np.float64)
    # each 32-bit uniform has mean (2**32 - 1) / 2 and variance ~ 2**64 / 12
    return (s - (2.0**32 - 1)) * (np.sqrt(6.0) / 2.0**32)
