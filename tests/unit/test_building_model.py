"""The generated building model against DESIGN.md §3: sizes, densities, class mix, sampling,
relations, the class tree, and the layout of the timeseries files (checked on small-2d)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

from btb.config.profiles import SCALES
from btb.dataset import classes, model
from btb.dataset.classes import POINT_TYPES

from .conftest import SEED

pytestmark = pytest.mark.unit

# DESIGN.md §3 (Brick reference buildings, BTS dataset)
POINTS_PER_BUILDING = (1000, 10000)
POINTS_PER_M2 = (0.14, 0.41)
VAVS_PER_AHU = (15, 50)
POINTS_PER_VAV = (17, 19)
ZONE_AREA = (35.0, 65.0)
CLASS_MIX = {"sensor": (40, 50), "status": (15, 25), "setpoint": (10, 25), "command": (5, 30),
             "alarm": (1, 10)}


def _ids_of(nodes: dict, cls: str) -> np.ndarray:
    return nodes["id"][nodes["class"] == cls]


def _edges(edges: dict, rel: str, src: np.ndarray, dst: np.ndarray) -> tuple:
    m = (edges["rel"] == rel) & np.isin(edges["src"], src) & np.isin(edges["dst"], dst)
    return edges["src"][m], edges["dst"][m]


# ---------------------------------------------------------------------------- sizes
def test_points_per_building_and_density(small2d):
    nodes, points = small2d.cols("nodes"), small2d.cols("points")
    buildings = nodes["class"] == "Building"
    per_building = Counter(points["building_id"].tolist())
    assert set(per_building) == set(nodes["id"][buildings].tolist())
    for bid, area in zip(nodes["id"][buildings], nodes["area_m2"][buildings]):
        n = per_building[int(bid)]
        assert POINTS_PER_BUILDING[0] <= n <= POINTS_PER_BUILDING[1], (bid, n)
        assert POINTS_PER_M2[0] <= n / area <= POINTS_PER_M2[1], (bid, n / area)


def test_vavs_per_ahu(small2d):
    nodes, edges = small2d.cols("nodes"), small2d.cols("edges")
    ahus, vavs = _ids_of(nodes, "AHU"), _ids_of(nodes, "VAV")
    src, dst = _edges(edges, "feeds", ahus, vavs)
    per_ahu = Counter(src.tolist())
    assert set(per_ahu) == set(ahus.tolist())
    assert all(VAVS_PER_AHU[0] <= n <= VAVS_PER_AHU[1] for n in per_ahu.values()), per_ahu
    assert sorted(dst.tolist()) == sorted(vavs.tolist())  # each VAV fed by exactly one AHU


def test_points_per_vav(small2d):
    nodes, points = small2d.cols("nodes"), small2d.cols("points")
    vavs = _ids_of(nodes, "VAV")
    per_vav = Counter(points["parent_id"][np.isin(points["parent_id"], vavs)].tolist())
    assert set(per_vav) == set(vavs.tolist())
    counts = set(per_vav.values())
    assert min(counts) >= POINTS_PER_VAV[0] and max(counts) <= POINTS_PER_VAV[1], counts
    assert len(counts) > 1  # the options (CO2, max flow, pressure-dependent boxes) vary


def test_one_vav_per_zone_of_about_50_m2(small2d):
    nodes, edges = small2d.cols("nodes"), small2d.cols("edges")
    zones, vavs = _ids_of(nodes, "HVAC_Zone"), _ids_of(nodes, "VAV")
    src, dst = _edges(edges, "feeds", vavs, zones)
    assert sorted(src.tolist()) == sorted(vavs.tolist())
    assert sorted(dst.tolist()) == sorted(zones.tolist())
    area = nodes["area_m2"][nodes["class"] == "HVAC_Zone"]
    assert area.min() >= ZONE_AREA[0] and area.max() <= ZONE_AREA[1]
    assert 45 <= area.mean() <= 55


def test_class_mix(small2d):
    cls = small2d.cols("points")["class"]
    cats = Counter(classes.category(c) for c in cls)
    assert None not in cats
    share = {k: 100 * n / len(cls) for k, n in cats.items()}
    for k, (lo, hi) in CLASS_MIX.items():
        assert lo <= share[k] <= hi, (k, round(share[k], 1))


@pytest.mark.parametrize("scale", ["small", "medium", "large"])
def test_structure_ranges_of_every_building_of_a_scale(scale):
    """Every building of every non-tiny scale (structure only: cheap) meets DESIGN.md §3."""
    sc = SCALES[scale]
    for i in range(1, sc.buildings + 1):
        b = model.build(SEED, sc, i)
        n = len(b.points["id"])
        area = b.nodes["area_m2"][b.nodes["class"].index("Building")]
        assert POINTS_PER_BUILDING[0] <= n <= POINTS_PER_BUILDING[1], (i, n)
        assert POINTS_PER_M2[0] <= n / area <= POINTS_PER_M2[1], (i, n / area)
        vpa = np.bincount(b.zone_ahu)
        assert VAVS_PER_AHU[0] <= vpa.min() and vpa.max() <= VAVS_PER_AHU[1], (i, vpa)
        vav_ids = {nid for nid, c in zip(b.nodes["id"], b.nodes["class"]) if c == "VAV"}
        ppv = Counter(p for p in b.points["parent_id"] if p in vav_ids)
        assert len(ppv) == b.n_zones
        assert POINTS_PER_VAV[0] <= min(ppv.values()) <= max(ppv.values()) <= POINTS_PER_VAV[1]
        cats = Counter(classes.category(c) for c in b.points["class"])
        for k, (lo, hi) in CLASS_MIX.items():
            assert lo <= 100 * cats[k] / n <= hi, (i, k)


# ---------------------------------------------------------------------------- sampling
def _rows_per_point_per_day(ds) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for d in ds.profile.dates():
        pid = ds.day_table(d)["point_id"].to_numpy()
        ids, counts = np.unique(pid, return_counts=True)
        got = dict(zip(ids.tolist(), counts.tolist()))
        for i in ds.cols("points")["id"].tolist():
            out.setdefault(i, []).append(got.get(i, 0))
    return out


def _expected_interval(cls: str, unit: str) -> int:
    """DESIGN.md §3: analog sensors 5 min, airflow/valve/damper 1 min, meters 15 min, the rest
    (setpoints, commands, status, alarms, binary sensors) change-of-value."""
    if classes.category(cls) != "sensor" or unit == "bool":
        return 0
    if classes.is_a(cls, "Power_Sensor") or classes.is_a(cls, "Energy_Sensor"):
        return 900
    if any(classes.is_a(cls, c) for c in ("Air_Flow_Sensor", "Velocity_Pressure_Sensor",
                                          "Position_Sensor")):
        return 60
    return 300


def test_interval_of_each_point_class(small2d):
    points = small2d.cols("points")
    for cls, unit, interval in zip(points["class"], points["unit"], points["interval_s"]):
        assert interval == _expected_interval(cls, unit), cls
    for key, pt in POINT_TYPES.items():
        assert pt.interval_s == _expected_interval(pt.cls, pt.unit), key


def test_rows_per_point_per_day_match_the_interval(small2d):
    points = small2d.cols("points")
    rows = _rows_per_point_per_day(small2d)
    cov_rows = []
    for pid, interval, cls in zip(points["id"], points["interval_s"], points["class"]):
        per_day = rows[int(pid)]
        if interval:
            assert per_day == [86400 // interval] * len(per_day), (cls, per_day)
        else:
            assert all(1 <= n < 288 for n in per_day), (cls, per_day)
            cov_rows += per_day
    by_class = {c: rows[int(i)][0] for i, c in zip(points["id"], points["class"])}
    assert by_class["Zone_Air_Temperature_Sensor"] == 288
    assert by_class["Supply_Air_Flow_Sensor"] == 1440
    assert by_class["Valve_Position_Sensor"] == 1440
    assert by_class["Damper_Position_Sensor"] == 1440
    assert by_class["Electric_Power_Sensor"] == 96
    assert by_class["Thermal_Energy_Sensor"] == 96
    assert np.mean(cov_rows) < 0.05 * 288, np.mean(cov_rows)


def test_every_point_starts_each_day_at_midnight(small2d):
    """COV points re-send their value at 00:00, so every day is self-contained."""
    n_points = len(small2d.cols("points")["id"])
    for d in small2d.profile.dates():
        t = small2d.day_table(d)
        midnight = np.datetime64(dt.datetime.combine(d, dt.time()), "ms")
        at0 = t["point_id"].to_numpy()[t["time"].to_numpy() == midnight]
        assert len(np.unique(at0)) == len(at0) == n_points


# ---------------------------------------------------------------------------- graph
def test_relations_are_brick_names(small2d):
    assert set(small2d.cols("edges")["rel"].tolist()) <= set(classes.RELATIONS)


def test_every_edge_endpoint_exists(small2d):
    nodes, points, edges = small2d.cols("nodes"), small2d.cols("points"), small2d.cols("edges")
    known = np.concatenate([nodes["id"], points["id"]])
    assert len(np.unique(known)) == len(known)  # ids are unique across nodes and points
    assert "Site" in set(nodes["class"].tolist())
    for end in ("src", "dst"):
        missing = edges[end][~np.isin(edges[end], known)]
        assert len(missing) == 0, (end, missing[:10])
    # every point is the point of exactly one thing, and that thing is its parent_id
    src, dst = _edges(edges, "isPointOf", points["id"], known)
    assert dict(zip(src.tolist(), dst.tolist())) == dict(zip(points["id"].tolist(),
                                                             points["parent_id"].tolist()))
    assert len(src) == len(points["id"])


def test_class_tree(small2d):
    points, nodes = small2d.cols("points"), small2d.cols("nodes")
    for c in set(points["class"].tolist()):
        assert "Point" in classes.ancestors(c), c
    for c in set(nodes["class"].tolist()):
        assert "Point" not in classes.ancestors(c), c
    assert classes.ancestors("Zone_Air_Temperature_Sensor") == [
        "Zone_Air_Temperature_Sensor", "Air_Temperature_Sensor", "Temperature_Sensor",
        "Sensor", "Point"]
    assert classes.is_a("Zone_Air_Temperature_Sensor", "Temperature_Sensor")
    assert not classes.is_a("Temperature_Sensor", "Zone_Air_Temperature_Sensor")
    # classes.parquet carries the whole tree, parents before children
    rows = small2d.table("classes").to_pylist()
    assert rows == classes.class_rows()
    seen = set()
    for r in rows:
        assert r["parent"] is None or r["parent"] in seen, r
        seen.add(r["class"])
    assert set(points["class"].tolist()) | set(nodes["class"].tolist()) <= seen


# ---------------------------------------------------------------------------- timeseries files
def test_timeseries_files_sorted_unique_naive_ms_within_their_date(small2d):
    files = sorted(small2d.path.glob("timeseries/date=*/part-*.parquet"))
    assert [f.parent.name for f in files] == [f"date={d}" for d in small2d.profile.dates()]
    for f in files:
        date = dt.date.fromisoformat(f.parent.name.split("=", 1)[1])
        t = small2d.day_table(date)
        assert t.schema.field("time").type == pa.timestamp("ms")  # naive: no time zone
        assert t.schema.field("point_id").type == pa.int32()
        assert t.schema.field("value").type == pa.float64()
        pid = t["point_id"].to_numpy().astype(np.int64)
        ms = t["time"].to_numpy().astype(np.int64)
        # sorted by (point_id, time), no duplicate: time strictly increases within a point
        assert (np.diff(pid) >= 0).all()
        assert (np.diff(ms)[np.diff(pid) == 0] > 0).all()
        lo = np.datetime64(dt.datetime.combine(date, dt.time()), "ms").astype(np.int64)
        assert ms.min() >= lo and ms.max() < lo + 86_400_000
        assert not np.isnan(t["value"].to_numpy()).any()
