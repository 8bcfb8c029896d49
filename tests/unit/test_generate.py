"""`btb generate`: determinism, regenerating any day / building / point subset, verify, bad input.

The issue's must-show items: the same seed gives byte-identical datasets (same fingerprint), a
different seed different data; one day, one building or a subset of points regenerated alone gives
exactly the rows of the full generation; `btb datasets verify` catches a flipped byte and a missing
partition; bad input exits 2 with a message naming the problem and leaves nothing half-written.
"""

from __future__ import annotations

import json
import shutil
import types

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from btb import cli
from btb.config.profiles import DURATIONS, SCALES, get_profile, profile_names
from btb.dataset import estimate, generator, model
from btb.dataset.store import Store

from .conftest import SEED, Dataset, run_generate

pytestmark = pytest.mark.unit


def _fingerprint(ds: Dataset) -> dict:
    return Store(ds.root).fingerprint(ds.name)


def _file_hashes(fp: dict) -> dict[str, str]:
    return {rel: e["sha256"] for rel, e in fp["files"].items()}


# ---------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_fingerprint(tiny1d, tmp_path, capsys):
    again = Dataset(tmp_path / "again", "tiny-1d")
    run_generate(again.root, "tiny-1d")
    a, b = _fingerprint(tiny1d), _fingerprint(again)
    assert a["dataset_sha256"] == b["dataset_sha256"]
    assert _file_hashes(a) == _file_hashes(b)
    assert {"nodes.parquet", "points.parquet", "edges.parquet", "classes.parquet", "params.json",
            "timeseries/date=2025-01-06/part-b001.parquet"} <= set(a["files"])
    assert a["seed"] == SEED and a["profile"] == "tiny-1d"

    # a second run finds it present and verified; --force regenerates the same bytes
    capsys.readouterr()
    run_generate(again.root, "tiny-1d")
    assert "already present and verified" in capsys.readouterr().out
    run_generate(again.root, "tiny-1d", SEED, "--force")
    assert _fingerprint(again) == b
    assert Store(again.root).verify(again.name)["dataset_sha256"] == a["dataset_sha256"]


def test_different_seed_gives_different_data(tiny1d, tmp_path):
    other = Dataset(tmp_path / "other", "tiny-1d", seed=7)
    run_generate(other.root, "tiny-1d", 7)
    assert _fingerprint(other)["dataset_sha256"] != _fingerprint(tiny1d)["dataset_sha256"]
    day = tiny1d.profile.dates()[0]
    a, b = tiny1d.day_table(day), other.day_table(day)
    assert not a.equals(b)

    def values(ds: Dataset, key: str) -> np.ndarray:  # same point type, whatever its ids
        t = ds.day_table(day)
        ids = pc.filter(ds.table("points")["id"], pc.equal(ds.table("points")["type"], key))
        return t.filter(pc.is_in(t["point_id"], value_set=ids))["value"].to_numpy()

    for key in ("ahu.oat", "vav.zat"):  # weather, and zone temperatures with their noise
        va, vb = values(tiny1d, key), values(other, key)
        assert len(va) == len(vb) > 0
        assert not np.array_equal(va, vb), key


def test_two_workers_same_fingerprint_as_one(tiny2d, tmp_path):
    """tiny has 1 building, so 2 workers split its days: day 2 fast-forwards the physics."""
    par = Dataset(tmp_path / "par", "tiny-2d")
    run_generate(par.root, "tiny-2d", SEED, "--workers", "2")
    assert _file_hashes(_fingerprint(par)) == _file_hashes(_fingerprint(tiny2d))
    assert _fingerprint(par)["dataset_sha256"] == _fingerprint(tiny2d)["dataset_sha256"]


def test_plan_units_splits_days_when_workers_outnumber_buildings():
    p = get_profile("tiny-2d")
    units = generator.plan_units(SEED, p, [1], workers=2)
    assert [(u.first_day, u.n_days) for u in units] == [(0, 1), (1, 1)]
    assert [(u.first_day, u.n_days) for u in generator.plan_units(SEED, p, [1], 1)] == [(0, 2)]


# ---------------------------------------------------------------------------- subsets
def test_one_day_regenerated_alone(tiny2d):
    p = tiny2d.profile
    dates = p.dates()
    full = generator.Unit(SEED, p, 1, first_day=0, n_days=2)
    [(d, date, table)] = list(generator.simulate(full, days={1}))
    assert (d, date) == (1, dates[1])
    assert table.equals(tiny2d.day_table(dates[1]))
    # a unit that starts at day 1 (what a second worker runs) gives the same rows
    [(d, date, table)] = list(generator.simulate(generator.Unit(SEED, p, 1, 1, 1)))
    assert (d, date) == (1, dates[1])
    assert table.equals(tiny2d.day_table(dates[1]))
    [(_, _, table)] = list(generator.simulate(full, days={0}))
    assert table.equals(tiny2d.day_table(dates[0]))


def _building_rows(table: pa.Table, key: str, building: int) -> dict:
    lo, hi = building * model.ID_STRIDE, (building + 1) * model.ID_STRIDE
    if key == "edges":  # the site -hasPart-> building edge has the building as dst
        inside = [(lo <= s < hi) or (lo <= d < hi)
                  for s, d in zip(table["src"].to_pylist(), table["dst"].to_pylist())]
        return table.filter(pa.array(inside)).to_pydict()
    return table.filter(pc.equal(table["building_id"], lo)).to_pydict()


def test_one_building_structure_regenerated_alone():
    p = get_profile("medium-1d")
    alone = model.build(SEED, p.scale, 3)
    joint = generator.structure_tables(SEED, p, [1, 2, 3])
    assert _building_rows(joint["nodes"], "nodes", 3) == alone.nodes
    assert _building_rows(joint["edges"], "edges", 3) == alone.edges
    points = {k: v for k, v in alone.points.items() if k != "entity"}
    assert _building_rows(joint["points"], "points", 3) == points
    single = generator.structure_tables(SEED, p, [3])
    for key in ("nodes", "points", "edges"):
        assert _building_rows(single[key], key, 3) == _building_rows(joint[key], key, 3), key


def test_one_building_timeseries_regenerated_alone(tmp_path):
    p = get_profile("medium-1d")
    day = p.dates()[0]
    [(_, _, alone)] = list(generator.simulate(generator.Unit(SEED, p, 3, 0, 1)))
    files = generator.generate(SEED, p, tmp_path, workers=1, buildings=[2, 3])
    rel = generator.partition_path(day, 3)
    assert files[rel] == alone.num_rows
    assert alone.equals(pq.read_table(tmp_path / rel))
    assert (tmp_path / generator.partition_path(day, 2)).is_file()


def test_point_subset_regenerated_alone(tiny2d):
    p = tiny2d.profile
    keys = ("vav.zat", "vav.saf", "vav.dpc", "vav.alm", "emeter.energy", "gmeter.power",
            "ahu.satsp", "room.occ")
    ids = sorted(tiny2d.point_of(k) for k in keys)
    subset = list(generator.simulate(generator.Unit(SEED, p, 1, 0, 2), point_ids=ids))
    assert [d for d, _, _ in subset] == [0, 1]
    for _, date, table in subset:
        full = tiny2d.day_table(date)
        want = full.filter(pc.is_in(full["point_id"], value_set=pa.array(ids, pa.int32())))
        assert table.equals(want)
        assert set(table["point_id"].to_pylist()) == set(ids)


# ---------------------------------------------------------------------------- verify
def _verify(ds: Dataset) -> int:
    return cli.main(["datasets", "verify", ds.name, "--root", str(ds.root)])


def test_verify_passes_on_a_good_dataset(tiny2d, capsys):
    assert _verify(tiny2d) == 0
    out = capsys.readouterr().out
    assert f"{tiny2d.name}: OK" in out
    assert _fingerprint(tiny2d)["dataset_sha256"] in out


@pytest.mark.parametrize("rel", ["timeseries/date=2025-01-07/part-b001.parquet",
                                 "nodes.parquet", "params.json"])
def test_verify_fails_after_one_flipped_byte(tiny2d, copy_dataset, capsys, rel):
    ds = copy_dataset(tiny2d)
    assert _verify(ds) == 0
    path = ds.path / rel
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    capsys.readouterr()
    assert _verify(ds) == 2
    err = capsys.readouterr().err
    assert err.startswith("btb: error:")
    assert f"changed file: {rel}" in err
    assert "Traceback" not in err


def test_verify_fails_after_deleting_a_partition(tiny2d, copy_dataset, capsys):
    ds = copy_dataset(tiny2d)
    shutil.rmtree(ds.path / "timeseries/date=2025-01-07")
    assert _verify(ds) == 2
    err = capsys.readouterr().err
    assert "missing file: timeseries/date=2025-01-07/part-b001.parquet" in err
    assert str(ds.path) in err  # the message names the dataset directory too


# ---------------------------------------------------------------------------- bad input
def _generate_fails(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert cli.main(["generate", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("btb: error:"), err
    assert "Traceback" not in err
    return err


def test_unknown_profile_lists_valid_profiles(tmp_path, capsys):
    err = _generate_fails(capsys, "bogus", "--root", str(tmp_path / "r"))
    assert "'bogus'" in err
    assert all(name in err for name in profile_names())
    assert not (tmp_path / "r").exists()


def test_unknown_scale_lists_valid_scales(tmp_path, capsys):
    err = _generate_fails(capsys, "huge-1d", "--root", str(tmp_path / "r"))
    assert "unknown scale 'huge'" in err
    assert all(s in err for s in SCALES)
    assert not (tmp_path / "r").exists()


def test_unknown_duration_lists_valid_durations(tmp_path, capsys):
    err = _generate_fails(capsys, "tiny-3d", "--root", str(tmp_path / "r"))
    assert "unknown duration '3d'" in err
    assert all(d in err for d in DURATIONS)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("seed", ["-1", str(2**32)])
def test_bad_seed(tmp_path, capsys, seed):
    err = _generate_fails(capsys, "tiny-1d", "--seed", seed, "--root", str(tmp_path / "r"))
    assert f"bad seed {seed}" in err
    assert not (tmp_path / "r").exists()


def test_bad_workers(tmp_path, capsys):
    err = _generate_fails(capsys, "tiny-1d", "--workers", "0", "--root", str(tmp_path / "r"))
    assert "--workers 0" in err


def test_root_under_a_regular_file(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("not a directory\n")
    root = afile / "datasets"
    err = _generate_fails(capsys, "tiny-1d", "--root", str(root))
    assert str(root) in err and "is a file" in err
    err = _generate_fails(capsys, "tiny-1d", "--root", str(afile))
    assert str(afile) in err and "not a directory" in err
    assert afile.read_text() == "not a directory\n"


def _tiny_disk(monkeypatch):
    real = shutil.disk_usage

    def disk_usage(path):
        u = real(path)
        return types.SimpleNamespace(total=u.total, used=u.total - 4096, free=4096)
    monkeypatch.setattr("btb.dataset.store.shutil.disk_usage", disk_usage)


def _huge_rows(monkeypatch):
    monkeypatch.setattr(estimate, "PARQUET_BYTES_PER_ROW", 1e15)


@pytest.mark.parametrize("shrink", [_tiny_disk, _huge_rows], ids=["free-4KiB", "huge-estimate"])
def test_not_enough_disk_leaves_nothing_half_written(tiny1d, copy_dataset, capsys, monkeypatch,
                                                     shrink):
    ds = copy_dataset(tiny1d)
    Store(ds.root).list()  # writes the catalog
    catalog = (ds.root / "catalog.json").read_bytes()
    assert ds.name in json.loads(catalog)
    fp = _fingerprint(ds)
    shrink(monkeypatch)

    err = _generate_fails(capsys, "tiny-2d", "--root", str(ds.root), "--workers", "1")
    assert "not enough disk space" in err and "need" in err and "tiny-2d_seed42" in err
    assert not (ds.root / "tiny-2d_seed42").exists()
    # an existing dataset that --force cannot regenerate stays whole
    err = _generate_fails(capsys, "tiny-1d", "--root", str(ds.root), "--workers", "1", "--force")
    assert "not enough disk space" in err
    assert sorted(p.name for p in ds.root.iterdir()) == [".lock", "catalog.json", ds.name]
    assert (ds.root / "catalog.json").read_bytes() == catalog
    monkeypatch.undo()
    assert Store(ds.root).verify(ds.name) == fp
