"""Dataset store: write modes, atomicity, fingerprints, verify, catalog, lock, push/pull,
extract."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from btb.config.profiles import get_profile
from btb.dataset import remote
from btb.dataset.extract import extract
from btb.dataset.store import Store
from btb.errors import BtbError

pytestmark = pytest.mark.unit

D1, D2 = "2025-01-06", "2025-01-07"
SEED = 42


# ---------------------------------------------------------------------------- fake datasets
def _site_of(b: int, bps: int) -> int:
    return (b - 1) // bps + 1


def structure(buildings=(1, 2), bps: int = 1) -> dict[str, pa.Table]:
    """nodes/points/edges/classes shaped like the generator's (ids b * 1_000_000 + local)."""
    nodes, points, edges = [], [], []
    for s in sorted({_site_of(b, bps) for b in buildings}):
        nodes.append((s, "Site", f"S{s}", None, None, None))
    for b in buildings:
        i = b * 1_000_000
        floor, zone, room, ahu, vav, meter = (i + k for k in range(1, 7))
        nodes += [(i, "Building", f"B{b:02d}", i, 500.0, None),
                  (floor, "Floor", f"B{b:02d}.F01", i, 400.0, 1),
                  (zone, "HVAC_Zone", f"B{b:02d}.Z001", i, 50.0, None),
                  (room, "Room", f"B{b:02d}.F01.R001", i, 50.0, None),
                  (ahu, "AHU", f"B{b:02d}.AHU01", i, None, None),
                  (vav, "VAV", f"B{b:02d}.VAV001", i, None, None),
                  (meter, "Building_Electrical_Meter", f"B{b:02d}.M.ELEC", i, None, None)]
        edges += [(_site_of(b, bps), "hasPart", i), (i, "hasPart", floor),
                  (floor, "hasPart", room), (zone, "hasPart", room), (ahu, "feeds", vav),
                  (vav, "feeds", zone), (vav, "hasLocation", room), (meter, "meters", i)]
        for k, (typ, cls, parent, unit, interval) in enumerate([
            ("vav.zat", "Zone_Air_Temperature_Sensor", vav, "degC", 300),
            ("vav.saf", "Supply_Air_Flow_Sensor", vav, "m3/h", 60),
            ("vav.fsp", "Supply_Air_Flow_Setpoint", vav, "m3/h", 0),
            ("vav.hsp", "Zone_Air_Heating_Temperature_Setpoint", vav, "degC", 0),
            ("vav.csp", "Zone_Air_Cooling_Temperature_Setpoint", vav, "degC", 0),
            ("vav.alm", "Air_Temperature_Alarm", vav, "bool", 0),
            ("room.occ", "Occupancy_Sensor", room, "bool", 0),
            ("emeter.power", "Electric_Power_Sensor", meter, "kW", 900),
            ("emeter.energy", "Electric_Energy_Sensor", meter, "kWh", 900),
        ]):
            pid = i + 10 + k
            points.append((pid, cls, f"P{pid}", i, parent, typ, unit, interval, 0))
            edges.append((pid, "isPointOf", parent))
    i32, s = pa.int32(), pa.string()
    node_schema = pa.schema([("id", i32), ("class", s), ("name", s), ("building_id", i32),
                             ("area_m2", pa.float64()), ("level", i32)])
    point_schema = pa.schema([("id", i32), ("class", s), ("name", s), ("building_id", i32),
                              ("parent_id", i32), ("type", s), ("unit", s),
                              ("interval_s", i32), ("entity", i32)])
    edge_schema = pa.schema([("src", i32), ("rel", s), ("dst", i32)])
    classes = pa.table({"class": ["Point", "Sensor"], "parent": [None, "Point"],
                        "category": [None, "sensor"]})
    return {
        "nodes": pa.Table.from_pylist([dict(zip(node_schema.names, r)) for r in nodes],
                                      node_schema),
        "points": pa.Table.from_pylist([dict(zip(point_schema.names, r)) for r in points],
                                       point_schema),
        "edges": pa.Table.from_pylist([dict(zip(edge_schema.names, r)) for r in edges],
                                      edge_schema),
        "classes": classes,
    }


def ts_table(b: int, date: str, offset: float = 0.0, hours=(0, 6, 12, 18)) -> pa.Table:
    pids = np.arange(b * 1_000_000 + 10, b * 1_000_000 + 19, dtype=np.int32)
    day = np.datetime64(date, "ms")
    times = day + np.array(hours, dtype="timedelta64[h]").astype("timedelta64[ms]")
    pid = np.repeat(pids, len(times))
    t = np.tile(times, len(pids))
    value = offset + (pid % 100).astype(np.float64) + np.tile(np.array(hours, float), len(pids))
    return pa.table({"point_id": pa.array(pid, pa.int32()),
                     "time": pa.array(t, pa.timestamp("ms")),
                     "value": pa.array(value, pa.float64())})


def ts_rel(date: str, b: int) -> str:
    return f"timeseries/date={date}/part-b{b:03d}.parquet"


def write_files(d: Path, buildings=(1, 2), dates=(D1, D2), offset: float = 0.0,
                with_structure: bool = True, bps: int = 1) -> None:
    if with_structure:
        for name, table in structure(buildings, bps).items():
            pq.write_table(table, d / f"{name}.parquet", compression="zstd")
        (d / "params.json").write_text(json.dumps({"seed": SEED}))
    for date in dates:
        for b in buildings:
            p = d / ts_rel(date, b)
            p.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(ts_table(b, date, offset), p, compression="zstd")


def meta(profile="tiny-2d", buildings=2, dates=(D1, D2)) -> dict:
    return {"generator_version": "test", "profile": profile, "seed": SEED,
            "buildings": buildings, "dates": list(dates)}


NAME = f"tiny-2d_seed{SEED}"


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "datasets")


@pytest.fixture
def ds(store) -> str:
    with store.write(NAME, meta()) as staging:
        write_files(staging)
    return NAME


def leftovers(store: Store) -> list[str]:
    return sorted(p.name for p in store.root.iterdir() if p.name.startswith((".tmp", ".old")))


def flip_byte(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    i = len(data) // 2 if offset is None else offset
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------------------- replace
def test_replace_writes_dataset_fingerprint_and_catalog(store, ds):
    d = store.path(ds)
    fp = json.loads((d / "fingerprint.json").read_text())
    assert fp["profile"] == "tiny-2d" and fp["seed"] == SEED
    assert set(fp["files"]) == {"nodes.parquet", "points.parquet", "edges.parquet",
                                "classes.parquet", "params.json",
                                *(ts_rel(t, b) for t in (D1, D2) for b in (1, 2))}
    assert fp["row_counts"]["timeseries"] == 4 * 9 * 4
    assert fp["row_counts"]["points"] == 18
    assert fp["row_counts"]["nodes"] == 2 + 14  # 2 sites (1 building per site) + 2 × 7
    assert fp["files"]["nodes.parquet"]["rows"] == 16
    assert "rows" not in fp["files"]["params.json"]
    assert "created_at" not in fp
    assert store.verify(ds) == fp == store.fingerprint(ds)
    (entry,) = store.list()
    assert entry["name"] == ds and entry["dataset_sha256"] == fp["dataset_sha256"]
    assert entry["profile"] == "tiny-2d" and entry["seed"] == SEED and entry["parent"] is None
    assert entry["rows"] == sum(fp["row_counts"].values()) and entry["created_at"]
    assert store.names() == [ds] and store.exists(ds)
    assert leftovers(store) == []


def test_replace_replaces_everything(store, ds):
    with store.write(ds, meta(dates=(D2,)), mode="replace") as staging:
        write_files(staging, dates=(D2,))
    fp = store.verify(ds)
    assert not any(rel.startswith(f"timeseries/date={D1}") for rel in fp["files"])
    assert not (store.path(ds) / "timeseries" / f"date={D1}").exists()
    assert leftovers(store) == []


def test_fingerprint_is_byte_identical_for_identical_content(tmp_path):
    a, b = Store(tmp_path / "a"), Store(tmp_path / "b")
    for s in (a, b, a):  # a twice: rewriting the same content gives the same bytes
        with s.write(NAME, meta()) as staging:
            write_files(staging)
    fa = (a.path(NAME) / "fingerprint.json").read_bytes()
    assert fa == (b.path(NAME) / "fingerprint.json").read_bytes()
    assert json.loads(fa) == json.loads(json.dumps(json.loads(fa), sort_keys=True))


def test_bad_mode_lists_valid_modes(store):
    with pytest.raises(BtbError, match="'merge'.*replace, append, upsert"):
        with store.write(NAME, meta(), mode="merge"):
            pass


def test_failure_inside_block_keeps_old_dataset(store, ds):
    before = (store.path(ds) / "fingerprint.json").read_bytes()
    for mode in ("replace", "append", "upsert"):
        with pytest.raises(RuntimeError, match="boom"):
            with store.write(ds, meta(), mode=mode) as staging:
                write_files(staging, dates=("2025-01-08",), offset=5.0)
                raise RuntimeError("boom")
        assert leftovers(store) == []
        assert (store.path(ds) / "fingerprint.json").read_bytes() == before
        store.verify(ds)


# ---------------------------------------------------------------------------- append / upsert
def test_append_adds_partitions_and_hard_links_existing(store, tmp_path):
    with store.write(NAME, meta(dates=(D1,))) as staging:
        write_files(staging, dates=(D1,))
    d = store.path(NAME)
    inode = {rel: (d / rel).stat().st_ino for rel in ("nodes.parquet", ts_rel(D1, 1))}
    with store.write(NAME, meta(), mode="append") as staging:
        write_files(staging, dates=(D2,), with_structure=False)
    fp = store.verify(NAME)
    assert {ts_rel(t, b) for t in (D1, D2) for b in (1, 2)} <= set(fp["files"])
    assert fp["dates"] == [D1, D2]
    for rel, ino in inode.items():  # linked, never copied
        assert (d / rel).stat().st_ino == ino
    assert store.list()[0]["dataset_sha256"] == fp["dataset_sha256"]


def test_append_never_overwrites_rows(store, ds):
    before = (store.path(ds) / "fingerprint.json").read_bytes()
    with pytest.raises(BtbError, match=rf"{ts_rel(D1, 1)} already exists.*upsert"):
        with store.write(ds, meta(), mode="append") as staging:
            write_files(staging, buildings=(1,), dates=(D1,), with_structure=False)
    assert (store.path(ds) / "fingerprint.json").read_bytes() == before
    assert leftovers(store) == []


def test_append_structure_must_be_identical(store, ds):
    with store.write(ds, meta(), mode="append") as staging:  # identical structure: fine
        write_files(staging, dates=("2025-01-08",))
    assert ts_rel("2025-01-08", 2) in store.verify(ds)["files"]
    with pytest.raises(BtbError, match=r"staged edges\.parquet differs.*mode='replace'"):
        with store.write(ds, meta(), mode="append") as staging:
            write_files(staging, buildings=(1,), dates=("2025-01-09",))
    assert ts_rel("2025-01-09", 1) not in store.verify(ds)["files"]


def test_append_refuses_corrupt_existing_dataset(store, ds):
    flip_byte(store.path(ds) / ts_rel(D1, 2))
    with pytest.raises(BtbError, match=rf"(?s)cannot append.*changed file: {ts_rel(D1, 2)}"):
        with store.write(ds, meta(), mode="append") as staging:
            write_files(staging, dates=("2025-01-08",), with_structure=False)
    assert leftovers(store) == []


def test_upsert_merges_dedupes_staged_rows_win(store, ds):
    rel = ts_rel(D1, 1)
    new = ts_table(1, D1, offset=1000.0, hours=(12, 18, 20))  # 12, 18 overlap; 20 is new
    with store.write(ds, meta(), mode="upsert") as staging:
        (staging / rel).parent.mkdir(parents=True)
        pq.write_table(new, staging / rel, compression="zstd")
    fp = store.verify(ds)
    path = store.path(ds) / rel
    merged = pq.read_table(path)
    assert merged.num_rows == 9 * 5 == fp["files"][rel]["rows"]
    keys = list(zip(merged["point_id"].to_pylist(), merged["time"].to_pylist()))
    assert keys == sorted(set(keys))  # sorted, no duplicate (point_id, time)
    by_key = dict(zip(keys, merged["value"].to_pylist()))
    pid = 1_000_010
    day = dt.datetime.fromisoformat(D1)
    assert by_key[(pid, day.replace(hour=12))] >= 1000  # staged wins
    assert by_key[(pid, day.replace(hour=0))] < 1000  # old row kept
    assert pq.read_metadata(path).row_group(0).column(0).compression == "ZSTD"
    assert merged.schema.field("time").type == pa.timestamp("ms")
    assert fp["row_counts"]["timeseries"] == 4 * 9 * 4 + 9


def test_upsert_refuses_different_schema(store, ds):
    rel = ts_rel(D1, 1)
    bad = ts_table(1, D1).set_column(2, "value", pa.array([1.0] * 36, pa.float32()))
    with pytest.raises(BtbError, match="schema differs"):
        with store.write(ds, meta(), mode="upsert") as staging:
            (staging / rel).parent.mkdir(parents=True)
            pq.write_table(bad, staging / rel)
    store.verify(ds)


# ---------------------------------------------------------------------------- verify
def test_verify_names_flipped_file_then_deleted_partition(store, ds):
    d = store.path(ds)
    flip_byte(d / "nodes.parquet")
    with pytest.raises(BtbError, match=r"changed file: nodes\.parquet") as e:
        store.verify(ds)
    assert "btb generate tiny-2d --seed 42" in str(e.value)
    # an extra and a deleted partition are both reported, with their paths
    (d / "timeseries" / "date=2025-01-09").mkdir()
    (d / "timeseries" / "date=2025-01-09" / "stray.parquet").write_bytes(b"x")
    for f in (d / "timeseries" / f"date={D2}").iterdir():
        f.unlink()
    (d / "timeseries" / f"date={D2}").rmdir()
    with pytest.raises(BtbError) as e:
        store.verify(ds)
    msg = str(e.value)
    assert f"missing file: {ts_rel(D2, 1)}" in msg and f"missing file: {ts_rel(D2, 2)}" in msg
    assert "extra file: timeseries/date=2025-01-09/stray.parquet" in msg
    assert "changed file: nodes.parquet" in msg


def test_verify_refuses_missing_or_invalid_fingerprint(store, ds):
    fp = store.path(ds) / "fingerprint.json"
    fp.write_text("{not json")
    with pytest.raises(BtbError, match="incomplete or corrupt.*not valid JSON.*regenerate"):
        store.verify(ds)
    fp.unlink()
    with pytest.raises(BtbError, match="incomplete or corrupt: fingerprint.json is missing"):
        store.verify(ds)
    with pytest.raises(BtbError, match="incomplete or corrupt"):
        store.fingerprint(ds)


def test_unknown_dataset_lists_known_names(store, ds):
    with pytest.raises(BtbError, match=rf"unknown dataset 'nope'.*{ds}"):
        store.verify("nope")
    with pytest.raises(BtbError, match="bad dataset name"):
        store.path("../escape")


def test_unknown_dataset_in_empty_store(store):
    with pytest.raises(BtbError, match="no datasets yet"):
        store.fingerprint("small-1w_seed42")


# ---------------------------------------------------------------------------- root, disk, lock
def test_root_under_a_regular_file_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    where = rf"{re.escape(str(f / 'sub'))}.*{re.escape(str(f))} is a file"
    with pytest.raises(BtbError, match=where):
        Store(f / "sub")
    with pytest.raises(BtbError, match=rf"{re.escape(str(f))} exists but is not a directory"):
        Store(f)


def _writable(d: Path) -> bool:
    try:
        (d / "probe").touch()
    except OSError:
        return False
    (d / "probe").unlink()
    return True


def test_root_without_write_permission_is_refused(tmp_path):
    """chmod 500 for a normal user; as root (mode bits do not apply) the immutable attribute."""
    root = tmp_path / "ro"
    root.mkdir()
    root.chmod(0o500)
    immutable = False
    if _writable(root) and shutil.which("chattr"):
        immutable = subprocess.run(["chattr", "+i", str(root)], capture_output=True).returncode == 0
    try:
        if _writable(root):
            pytest.skip("cannot make a directory unwritable here (root without chattr +i)")
        with pytest.raises(BtbError, match=rf"{re.escape(str(root))} is not writable"):
            Store(root)
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(root)], check=True)
        root.chmod(0o700)


def test_not_enough_disk_names_the_need(store):
    need = 10**18
    with pytest.raises(BtbError, match=rf"need .*{need} bytes.*free ") as e:
        with store.write(NAME, meta(), need_bytes=need):
            pytest.fail("must not yield")
    assert str(store.root) in str(e.value)
    assert leftovers(store) == [] and not store.exists(NAME)


def test_lock_timeout_names_the_holder_pid(store):
    code = textwrap.dedent(f"""
        import sys, time
        from btb.dataset.store import Store
        with Store({str(store.root)!r}).lock():
            print("locked", flush=True)
            sys.stdin.read()
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(BtbError, match=rf"locked by pid {holder.pid}.*waited 0.2 s"):
            with store.lock(timeout_s=0.2):
                pass
        with pytest.raises(BtbError, match=f"pid {holder.pid}"):
            with store.write(NAME, meta(), lock_timeout_s=0):
                pytest.fail("must not yield")
        assert leftovers(store) == [] and not store.exists(NAME)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    with store.lock(timeout_s=5):  # released when the holder exits
        assert (store.root / ".lock").read_text().strip() == str(os.getpid())


def test_lock_is_reentrant_within_a_store(store, ds):
    with store.lock():
        store.delete(ds)  # takes the lock again
    assert not store.exists(ds)


def test_recovery_after_crash_between_renames(store, ds):
    d = store.path(ds)
    before = store.verify(ds)
    os.rename(d, store.root / f".old-{ds}-deadbeef")  # crash: old moved away, new not in place
    (store.root / f".tmp-{ds}-xyz").mkdir()  # and a staging dir left behind
    s2 = Store(store.root)
    assert s2.verify(ds) == before
    assert leftovers(s2) == []
    os.mkdir(store.root / f".old-{ds}-cafe0000")  # old left after a successful swap: deleted
    with s2.lock():
        pass
    assert leftovers(s2) == [] and s2.verify(ds) == before


# ---------------------------------------------------------------------------- catalog, delete
def test_list_rebuilds_missing_or_stale_catalog(store, ds):
    created = store.list()[0]["created_at"]
    cat = store.root / "catalog.json"
    cat.unlink()
    (entry,) = store.list()
    assert entry["name"] == ds and cat.exists()
    cat.write_text(json.dumps({"gone_seed1": {"rows": 1}, ds: {**entry, "created_at": created}}))
    assert [e["name"] for e in store.list()] == [ds]
    assert "gone_seed1" not in json.loads(cat.read_text())


def test_delete_removes_dataset_and_catalog_entry(store, ds):
    store.delete(ds)
    assert not store.exists(ds) and store.list() == []
    assert json.loads((store.root / "catalog.json").read_text()) == {}
    with pytest.raises(BtbError, match="unknown dataset"):
        store.delete(ds)


# ---------------------------------------------------------------------------- push / pull
@pytest.mark.parametrize("scheme", ["file", "memory"])
def test_push_pull_roundtrip(store, ds, tmp_path, scheme):
    url = f"file://{tmp_path / 'remote'}" if scheme == "file" else f"memory://btb-{os.getpid()}"
    dest = remote.push(store, ds, url)
    assert dest == f"{url}/{ds}"
    other = Store(tmp_path / "other")
    assert remote.pull(other, dest) == ds
    same = (store.path(ds) / "fingerprint.json").read_bytes()
    assert (other.path(ds) / "fingerprint.json").read_bytes() == same
    assert other.verify(ds)["dataset_sha256"] == store.fingerprint(ds)["dataset_sha256"]
    assert [e["name"] for e in other.list()] == [ds]
    assert leftovers(other) == []


def test_push_uploads_fingerprint_last(store, ds, monkeypatch):
    from fsspec.implementations.memory import MemoryFileSystem

    order = []
    real = MemoryFileSystem.put_file

    def spy(self, lpath, rpath, *a, **kw):
        order.append(rpath)
        return real(self, lpath, rpath, *a, **kw)

    monkeypatch.setattr(MemoryFileSystem, "put_file", spy)
    remote.push(store, ds, f"memory://order-{os.getpid()}")
    assert order[-1].endswith(f"/{ds}/fingerprint.json")
    assert len(order) == len(store.fingerprint(ds)["files"]) + 1


def test_pull_tampered_or_incomplete_remote_installs_nothing(store, ds, tmp_path):
    rdir = tmp_path / "remote"
    dest = remote.push(store, ds, f"file://{rdir}")
    other = Store(tmp_path / "other")
    flip_byte(rdir / ds / ts_rel(D2, 1))
    with pytest.raises(BtbError, match=rf"{ts_rel(D2, 1)} does not match.*nothing was installed"):
        remote.pull(other, dest)
    assert not other.exists(ds) and leftovers(other) == [] and other.list() == []
    (rdir / ds / ts_rel(D2, 1)).unlink()
    with pytest.raises(BtbError, match=rf"{ts_rel(D2, 1)} is listed.*but missing"):
        remote.pull(other, dest)
    (rdir / ds / "fingerprint.json").unlink()
    fp_url = re.escape(f"{dest}/fingerprint.json")
    with pytest.raises(BtbError, match=rf"no fingerprint\.json at {fp_url}"):
        remote.pull(other, dest)
    assert not other.exists(ds) and leftovers(other) == []


def test_push_refuses_corrupt_dataset(store, ds, tmp_path):
    flip_byte(store.path(ds) / "edges.parquet")
    with pytest.raises(BtbError, match="changed file: edges.parquet"):
        remote.push(store, ds, f"file://{tmp_path / 'remote'}")
    assert not (tmp_path / "remote" / ds / "fingerprint.json").exists()


# ---------------------------------------------------------------------------- extract
def _fake_write_params(staging: Path, seed: int) -> None:
    (staging / "params.json").write_text(json.dumps({"seed": seed, "fake": True}))


# The real params writer when it exists (integration), a stand-in only while it is absent.
PARAMS = None if importlib.util.find_spec("btb.dataset.params") else _fake_write_params


def test_extract_fewer_buildings_and_days_records_parent(store):
    master = f"large-2d_seed{SEED}"  # 4 buildings over 2 sites (10 buildings per site)
    with store.write(master, meta("large-2d", buildings=50)) as staging:
        write_files(staging, buildings=(1, 2, 11, 12), bps=10)
    name = extract(store, master, get_profile("medium-1d"), SEED, params_writer=PARAMS)
    assert name == f"medium-1d_seed{SEED}"
    fp = store.verify(name)
    src_fp = store.fingerprint(master)
    assert fp["parent"] == {"name": master, "dataset_sha256": src_fp["dataset_sha256"]}
    assert fp["profile"] == "medium-1d" and fp["dates"] == [D1] and fp["buildings"] == 10
    assert fp["generator_version"] == "test" and fp["seed"] == SEED
    ts = sorted(r for r in fp["files"] if r.startswith("timeseries/"))
    assert ts == [ts_rel(D1, 1), ts_rel(D1, 2)]
    d, m = store.path(name), store.path(master)
    assert (d / ts[0]).stat().st_ino == (m / ts[0]).stat().st_ino  # linked, not rewritten
    nodes = pq.read_table(d / "nodes.parquet").to_pylist()
    assert {n["id"] for n in nodes if n["class"] == "Site"} == {1}
    assert {n["building_id"] for n in nodes} == {None, 1_000_000, 2_000_000}
    point_ids = set(pq.read_table(d / "points.parquet")["id"].to_pylist())
    assert point_ids == {b * 1_000_000 + 10 + k for b in (1, 2) for k in range(9)}
    kept = {n["id"] for n in nodes} | point_ids
    edges = pq.read_table(d / "edges.parquet").to_pylist()
    assert edges and all(e["src"] in kept and e["dst"] in kept for e in edges)
    assert (1, 1_000_000) in {(e["src"], e["dst"]) for e in edges}  # site hasPart building
    assert (d / "classes.parquet").read_bytes() == (m / "classes.parquet").read_bytes()
    assert (d / "params.json").exists()
    assert {e["name"]: e["parent"] for e in store.list()}[name]["name"] == master
    store.verify(master)  # the master is untouched


def test_extract_same_scale_fewer_days(store):
    master = f"medium-2d_seed{SEED}"
    with store.write(master, meta("medium-2d", buildings=10)) as staging:
        write_files(staging, buildings=(1, 2), bps=10)
    name = extract(store, master, get_profile("medium-1d"), SEED, params_writer=PARAMS)
    fp = store.verify(name)
    assert sorted(r for r in fp["files"] if r.startswith("timeseries/")) == [
        ts_rel(D1, 1), ts_rel(D1, 2)]
    assert fp["row_counts"]["points"] == 18
    with pytest.raises(BtbError, match="needs 50 buildings, the source has 10"):
        extract(store, master, get_profile("large-1d"), SEED, params_writer=PARAMS)
    with pytest.raises(BtbError, match="needs 50 buildings, the source has 10"):
        extract(store, master, get_profile("large-1d"), SEED, params_writer=PARAMS)


def test_extract_refuses_incompatible_profiles(store, ds):
    master = f"small-2d_seed{SEED}"
    with store.write(master, meta("small-2d", buildings=1)) as staging:
        write_files(staging, buildings=(1,))
    with pytest.raises(BtbError, match=r"cannot cut tiny-1d.*can be cut from it: small-1d;"):
        extract(store, master, get_profile("tiny-1d"), SEED, params_writer=PARAMS)
    with pytest.raises(BtbError, match="needs 7 days, the source has 2"):
        extract(store, master, get_profile("small-1w"), SEED, params_writer=PARAMS)
    with pytest.raises(BtbError, match="keeps its master's seed; use seed 42"):
        extract(store, master, get_profile("small-1d"), 7, params_writer=PARAMS)
    assert sorted(store.names()) == sorted([master, ds])
