"""Query parameters drawn with the dataset's seed from the generated data (`params.json`).

Every parameter names something that exists in the dataset (a real floor, AHU, room, building,
meter, equipment, points, and time windows inside the generated period). Two variants: `small`
draws from the lower half of fan-outs (a floor with few zones, an AHU with few VAVs, short
windows), `large` from the upper half (wide fan-out, long windows). The workload binds these
values as query parameters; nothing is ever formatted into query text.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from btb.dataset.simulation import rng

PARAMS_VERSION = 1
N_POINTS = {"small": 5, "large": 50}  # Q8: hourly stats of N points
WINDOW_DAYS = {"small": 1, "large": 7}  # Q8/Q12 windows
MONTH_DAYS = 30


def _dates(ds: Path) -> list[dt.date]:
    ts = ds / "timeseries"
    return sorted(dt.date.fromisoformat(p.name.split("=", 1)[1]) for p in ts.glob("date=*"))


def _pick(r: np.random.Generator, ids: np.ndarray, fanout: np.ndarray, variant: str) -> int:
    """A random id from the lower or upper half of the fan-out distribution (ties by id)."""
    order = np.lexsort((ids, fanout))
    half = max(1, len(order) // 2)
    pool = order[:half] if variant == "small" else order[len(order) - half:]
    return int(ids[pool[r.integers(len(pool))]])


def _iso(d: dt.datetime) -> str:
    return d.isoformat(timespec="seconds")


def draw(ds: Path, seed: int) -> dict:
    nodes = pq.read_table(ds / "nodes.parquet").to_pydict()
    points = pq.read_table(ds / "points.parquet")
    edges = pq.read_table(ds / "edges.parquet")
    dates = _dates(ds)
    if not dates:
        raise ValueError(f"{ds}: no timeseries partitions to draw time windows from")
    cls = np.asarray(nodes["class"])
    nid = np.asarray(nodes["id"])
    name = dict(zip(nodes["id"], nodes["name"]))
    p_parent = points["parent_id"].to_numpy()
    p_id = points["id"].to_numpy()
    p_cls = np.asarray(points["class"].to_pylist())
    src, dst = edges["src"].to_numpy(), edges["dst"].to_numpy()
    rel = np.asarray(edges["rel"].to_pylist())

    def count(rel_name: str, by_src: bool, of: np.ndarray) -> np.ndarray:
        m = rel == rel_name
        keys = src[m] if by_src else dst[m]
        u, c = np.unique(keys, return_counts=True)
        lookup = dict(zip(u.tolist(), c.tolist()))
        return np.array([lookup.get(int(i), 0) for i in of])

    def ids_of(c: str) -> np.ndarray:
        return nid[cls == c]

    start = dt.datetime.combine(dates[0], dt.time())
    end = dt.datetime.combine(dates[-1], dt.time()) + dt.timedelta(days=1)
    out = {"version": PARAMS_VERSION, "seed": seed,
           "period": {"start": _iso(start), "end": _iso(end), "days": len(dates)},
           "variants": {}}
    for variant in ("small", "large"):
        r = np.random.default_rng([seed, rng.PARAMS, 0 if variant == "small" else 1])
        buildings, floors, ahus = ids_of("Building"), ids_of("Floor"), ids_of("AHU")
        rooms, vavs = ids_of("Room"), ids_of("VAV")
        top_meters = ids_of("Building_Electrical_Meter")
        pts_per_parent = dict(zip(*np.unique(p_parent, return_counts=True)))
        v: dict = {
            "building": _pick(r, buildings, count("hasPart", True, buildings), variant),
            "floor": _pick(r, floors, count("hasPart", True, floors), variant),
            "ahu": _pick(r, ahus, count("feeds", True, ahus), variant),
            "room": _pick(r, rooms, np.array([pts_per_parent.get(i, 0) for i in rooms]),
                          variant),
            "equipment": _pick(r, vavs, np.array([pts_per_parent.get(i, 0) for i in vavs]),
                               variant),
            "meter": int(r.choice(top_meters)),
        }
        zat = np.sort(p_id[p_cls == "Zone_Air_Temperature_Sensor"])
        v["point"] = int(zat[r.integers(len(zat))])
        n = min(N_POINTS[variant], len(zat))
        v["points"] = sorted(int(i) for i in r.choice(zat, n, replace=False))
        day = dates[int(r.integers(len(dates)))]
        v["day"] = {"start": _iso(dt.datetime.combine(day, dt.time())),
                    "end": _iso(dt.datetime.combine(day, dt.time()) + dt.timedelta(days=1))}
        for key, days in (("window", WINDOW_DAYS[variant]), ("month", MONTH_DAYS)):
            days = min(days, len(dates))
            v[key] = {"start": _iso(end - dt.timedelta(days=days)), "end": _iso(end)}
        v["last_24h"] = {"start": _iso(end - dt.timedelta(hours=24)), "end": _iso(end)}
        v["names"] = {k: name[v[k]] for k in ("building", "floor", "ahu", "room", "equipment",
                                              "meter")}
        out["variants"][variant] = v
    return out


def write_params(ds: Path, seed: int) -> dict:
    """Draw the parameters and write `params.json` into the dataset directory `ds`."""
    params = draw(Path(ds), seed)
    (Path(ds) / "params.json").write_text(json.dumps(params, indent=2, sort_keys=True) + "\n")
    return params


def load(ds: Path) -> dict:
    return json.loads((Path(ds) / "params.json").read_text())
