"""Turn one day of simulated signals into timeseries rows: sampling, noise, resolution, COV.

Each point type reads one signal (classes.POINT_TYPES): periodic points sample it every 1, 5 or
15 minutes (linear interpolation below the 5-minute physics grid, mean or sample above it) and
add measurement noise addressed by (seed, point id, minute); change-of-value points emit a row at
00:00 and whenever the value, quantised to its resolution, changes. Points were numbered type by
type (model._points), so concatenating the per-type blocks yields rows sorted by (point_id, time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from btb.dataset.classes import POINT_TYPES, PointType
from btb.dataset.model import Building
from btb.dataset.simulation import rng
from btb.dataset.simulation.environment import STEPS

TS_SCHEMA = pa.schema([("point_id", pa.int32()), ("time", pa.timestamp("ms")),
                       ("value", pa.float64())])
_GRID_MIN = 5  # minutes per physics step


@dataclass
class Group:
    key: str
    ptype: PointType
    ids: np.ndarray  # int32 point ids, contiguous and increasing
    entities: np.ndarray  # index into the signal's first axis


def plan(b: Building, point_ids: np.ndarray | None = None) -> list[Group]:
    """Per-type groups of the building's points (optionally only `point_ids`), in id order."""
    ids = np.asarray(b.points["id"], dtype=np.int32)
    keys = np.asarray(b.points["type"])
    ent = np.asarray(b.points["entity"])
    keep = np.ones(len(ids), bool) if point_ids is None else np.isin(ids, point_ids)
    groups = []
    for key in dict.fromkeys(keys[keep]):  # first-seen order = id order
        m = keep & (keys == key)
        groups.append(Group(key, POINT_TYPES[key], ids[m], ent[m]))
    return groups


def _decimals(resolution: float) -> int:
    return max(0, -int(np.floor(np.log10(resolution) + 1e-9)))


def _resample(sig: np.ndarray, pt: PointType) -> np.ndarray:
    step = pt.interval_s // 60
    if step == _GRID_MIN:
        return sig
    if step < _GRID_MIN:  # linear interpolation between grid points, held after the last one
        pos = np.arange(STEPS * _GRID_MIN // step) * (step / _GRID_MIN)
        i0 = pos.astype(int)
        i1 = np.minimum(i0 + 1, STEPS - 1)
        frac = pos - i0
        return sig[:, i0] * (1 - frac) + sig[:, i1] * frac
    k = step // _GRID_MIN
    if pt.aggregate == "mean":
        return sig.reshape(sig.shape[0], -1, k).mean(axis=2)
    return sig[:, ::k]


def _periodic(g: Group, sig: np.ndarray, seed: int, day_min: int):
    values = _resample(sig, g.ptype)
    n = values.shape[1]
    minutes = day_min + np.arange(n, dtype=np.int64) * (g.ptype.interval_s // 60)
    if g.ptype.noise:
        values = values + g.ptype.noise * rng.normal(seed, rng.NOISE, g.ids[:, None], minutes)
    values = np.round(values, _decimals(g.ptype.resolution))
    return np.repeat(g.ids, n), np.tile(minutes, len(g.ids)), values.ravel()


def _cov(g: Group, sig: np.ndarray, day_min: int):
    res = g.ptype.resolution
    q = np.round(np.round(sig / res) * res, _decimals(res))
    change = np.ones(q.shape, bool)
    np.not_equal(q[:, 1:], q[:, :-1], out=change[:, 1:])
    rows, cols = np.nonzero(change)  # row-major: by point, then time
    return g.ids[rows], day_min + cols * _GRID_MIN, q[rows, cols]


def day_table(groups: list[Group], signals: dict, seed: int, date: dt.date) -> pa.Table:
    """All rows of one building-day, sorted by (point_id, time)."""
    day_min = date.toordinal() * 1440 - _EPOCH_ORDINAL_MIN  # minutes since 1970-01-01
    parts = []
    for g in groups:
        sig = signals[g.ptype.signal][g.entities]
        if sig.dtype != np.float64:  # boolean states
            sig = sig.astype(np.float64)
        parts.append(_cov(g, sig, day_min) if g.ptype.interval_s == 0
                     else _periodic(g, sig, seed, day_min))
    n = sum(len(p[0]) for p in parts)
    pid, ms, values = np.empty(n, np.int32), np.empty(n, np.int64), np.empty(n)
    i = 0
    for p_ids, p_min, p_val in parts:
        j = i + len(p_ids)
        pid[i:j], ms[i:j], values[i:j] = p_ids, p_min, p_val
        i = j
    ms *= 60_000
    return pa.Table.from_arrays([pa.array(pid), pa.array(ms, type=pa.timestamp("ms")),
                                 pa.array(values)], schema=TS_SCHEMA)


_EPOCH_ORDINAL_MIN = dt.date(1970, 1, 1).toordinal() * 1440
