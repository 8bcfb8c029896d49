"""params.json: query parameters name real things of the right class, windows lie inside the
generated period, the large variant fans out at least as wide as the small one, and the draw is
deterministic."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import numpy as np
import pytest

from btb.dataset import params

from .conftest import SEED

pytestmark = pytest.mark.unit

EXPECTED_CLASS = {"building": "Building", "floor": "Floor", "ahu": "AHU", "room": "Room",
                  "equipment": "VAV", "meter": "Building_Electrical_Meter"}
WINDOWS = ("day", "window", "month", "last_24h")
DATASETS = ["tiny1d", "small2d"]


@pytest.fixture(params=DATASETS)
def ds(request):
    return request.getfixturevalue(request.param)


def _iso(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s)


def test_params_json_is_the_draw(ds):
    stored = params.load(ds.path)
    assert stored == params.draw(ds.path, SEED)
    assert stored == json.loads((ds.path / "params.json").read_text())
    assert stored["seed"] == SEED and stored["version"] == params.PARAMS_VERSION
    assert set(stored["variants"]) == {"small", "large"}


def test_ids_exist_with_the_expected_class(ds):
    nodes, points = ds.cols("nodes"), ds.cols("points")
    node_class = dict(zip(nodes["id"].tolist(), nodes["class"].tolist()))
    node_name = dict(zip(nodes["id"].tolist(), nodes["name"].tolist()))
    point_class = dict(zip(points["id"].tolist(), points["class"].tolist()))
    for variant, v in params.load(ds.path)["variants"].items():
        for key, cls in EXPECTED_CLASS.items():
            assert node_class.get(v[key]) == cls, (variant, key, v[key])
            assert v["names"][key] == node_name[v[key]], (variant, key)
        for pid in [v["point"], *v["points"]]:
            assert point_class.get(pid) == "Zone_Air_Temperature_Sensor", (variant, pid)
        assert v["points"] == sorted(set(v["points"]))
        assert len(v["points"]) == min(params.N_POINTS[variant],
                                       sum(c == "Zone_Air_Temperature_Sensor"
                                           for c in point_class.values()))


def test_time_windows_lie_within_the_generated_period(ds):
    p = params.load(ds.path)
    dates = ds.profile.dates()
    start = dt.datetime.combine(dates[0], dt.time())
    end = dt.datetime.combine(dates[-1], dt.time()) + dt.timedelta(days=1)
    assert (_iso(p["period"]["start"]), _iso(p["period"]["end"])) == (start, end)
    assert p["period"]["days"] == len(dates)
    for variant, v in p["variants"].items():
        for key in WINDOWS:
            lo, hi = _iso(v[key]["start"]), _iso(v[key]["end"])
            assert start <= lo < hi <= end, (variant, key, lo, hi)
        day = _iso(v["day"]["start"])
        assert day.time() == dt.time() and day.date() in dates
        assert _iso(v["day"]["end"]) - day == dt.timedelta(days=1)
        assert _iso(v["last_24h"]["end"]) == end
        # the timeseries really has rows in the day window
        assert ds.partition(day.date()).is_file()


def _fanouts(ds, v: dict) -> dict[str, int]:
    edges, points = ds.cols("edges"), ds.cols("points")
    out_edges = Counter(zip(edges["src"].tolist(), edges["rel"].tolist()))
    per_parent = Counter(points["parent_id"].tolist())
    return {"floor": out_edges[(v["floor"], "hasPart")],
            "ahu": out_edges[(v["ahu"], "feeds")],
            "room": per_parent[v["room"]],
            "equipment": per_parent[v["equipment"]],
            "points": len(v["points"]),
            "window": (_iso(v["window"]["end"]) - _iso(v["window"]["start"])).days}


def test_large_variant_fans_out_at_least_as_wide(ds):
    vs = params.load(ds.path)["variants"]
    small, large = _fanouts(ds, vs["small"]), _fanouts(ds, vs["large"])
    for key in small:
        assert large[key] >= small[key], (key, small[key], large[key])


def test_variants_differ_where_the_structure_allows(small2d):
    """small-2d has AHUs feeding 31 and 32 VAVs (4 × 31, 3 × 32): the variants pick from opposite
    halves, so large's AHU is strictly wider; N points and the window are wider by definition."""
    vs = params.load(small2d.path)["variants"]
    small, large = _fanouts(small2d, vs["small"]), _fanouts(small2d, vs["large"])
    for key in ("ahu", "points", "window"):
        assert large[key] > small[key], (key, small[key], large[key])
    nodes = small2d.cols("nodes")
    ahus = nodes["id"][nodes["class"] == "AHU"]
    edges = small2d.cols("edges")
    feeds = Counter(edges["src"][(edges["rel"] == "feeds") & np.isin(edges["src"], ahus)].tolist())
    assert small["ahu"] == min(feeds.values()) and large["ahu"] == max(feeds.values())


def test_same_seed_same_params_other_seed_other_params(small2d, tiny1d, tmp_path):
    a = params.draw(small2d.path, SEED)
    assert params.draw(small2d.path, SEED) == a
    b = params.draw(small2d.path, SEED + 1)
    assert b != a
    assert b["variants"]["large"]["points"] != a["variants"]["large"]["points"]
    # write_params writes exactly the stored bytes (params.json is part of the fingerprint)
    copy = tmp_path / "ds"
    copy.mkdir()
    for f in ("nodes.parquet", "points.parquet", "edges.parquet"):
        (copy / f).write_bytes((tiny1d.path / f).read_bytes())
    (copy / "timeseries").symlink_to(tiny1d.path / "timeseries")
    params.write_params(copy, SEED)
    assert (copy / "params.json").read_bytes() == (tiny1d.path / "params.json").read_bytes()
