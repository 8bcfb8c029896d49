"""The memgraph engine. Memgraph cannot run on the machines btb is developed on (no package, no
registry), so:

- the checks against a real server run only where `BTB_MEMGRAPH_URI` (bolt://host:port; optional
  BTB_MEMGRAPH_USER / BTB_MEMGRAPH_PASSWORD) points at one, and skip with that reason otherwise;
- the unit tests below always run: the module speaks Memgraph's index dialect, shares the loader
  with FalkorDB (same statements, same rows, checked against a recording driver), maps a dead
  server to EngineCrashed, and the launcher reports a missing binary as Unavailable.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from btb.engines import cypher
from btb.engines import falkordb as fk
from btb.engines import memgraph as mg
from btb.engines.base import EngineCrashed, QueryTimeout
from btb.export import cypher as X
from btb.runtime.base import Endpoint, ServerSpec, Unavailable
from btb.runtime.launchers import memgraph as launcher
from btb.runtime.local import LocalRuntime
from btb.runtime.process import free_port

URI = os.environ.get("BTB_MEMGRAPH_URI")
HEAVY = "MATCH (a), (b), (c), (d) RETURN count(*)"


# -- always: the module without a server --------------------------------------------------------
def _recording(cls):
    """The engine class with its driver replaced by a recorder of what it would send."""

    class Recording(cls):
        def __init__(self):
            super().__init__(load_workers=1)
            self.ddl: list[str] = []
            self.sent: list[tuple[str, object]] = []

        def _clear(self):
            self.sent.clear()

        def _ddl(self, statement):
            self.ddl.append(statement)

        def _send(self, statement, rows):
            self.sent.append((statement, rows))
            n = len(_rows(rows))
            return 2 * n if statement == cypher.ARCHIVE_STATEMENT else n

        def counts(self, archive):
            by = {"node": 0, "rel": 0, "archive": 0}
            for stmt, rows in self.sent:
                kind = ("archive" if stmt == cypher.ARCHIVE_STATEMENT else
                        "node" if " CREATE (n:" in stmt else "rel")
                by[kind] += len(_rows(rows))
            out = {"nodes": by["node"] + by["archive"], "relationships": by["rel"] + by["archive"]}
            if archive:
                out["archive_days"] = by["archive"]
            return out

        def data_size(self):
            return 0

        def memory_info(self):  # falkordb's load adds these figures
            return {"used_memory": 0, "used_memory_dataset": 0}

        def graph_memory(self):
            return None

    return Recording()


def _rows(payload) -> list[dict]:
    """A load payload as rows: dicts as they are, FalkorDB's encoded header decoded."""
    if isinstance(payload, fk.Header):
        body = re.sub(r"`(\w+)`:", r'"\1":', payload[len("CYPHER `rows`="):-1])
        return json.loads(body)
    return payload


@pytest.mark.unit
def test_memgraph_index_dialect():
    stmts = mg.Memgraph().index_statements()
    assert "CREATE INDEX ON :`Node`(id)" in stmts and "CREATE INDEX ON :`Point`(id)" in stmts
    assert "CREATE INDEX ON :`AHU`(id)" in stmts
    assert "CREATE INDEX ON :`ArchiveDay`" in stmts  # label indexes: Memgraph scans otherwise
    assert "CREATE INDEX ON :`Zone_Air_Temperature_Sensor`" in stmts
    assert not any("FOR (" in s for s in stmts)
    falkor = fk.FalkorDB().index_statements()
    assert "CREATE INDEX FOR (n:`Node`) ON (n.id)" in falkor
    assert len(falkor) == len(cypher.index_labels()) == sum(s.endswith("(id)") for s in stmts)


@pytest.mark.unit
def test_memgraph_shares_the_loader(tiny2_dataset):
    for name in ("create_schema", "load", "counts", "_phase", "reset_caches"):
        assert getattr(mg.Memgraph, name) is getattr(cypher.CypherEngine, name)
    assert mg.Memgraph.name == "memgraph" and mg.Memgraph.languages == ("memgraph", "cypher")
    sent = {}
    for cls, scenario in ((mg.Memgraph, "M1"), (fk.FalkorDB, "F1")):
        eng = _recording(cls)
        eng.create_schema(scenario)
        result = eng.load(tiny2_dataset, scenario)
        assert result.verified, (cls.__name__, result.counts, result.expected)
        assert result.counts["archive_days"] > 0
        sent[cls] = [(stmt, _rows(rows)) for stmt, rows in eng.sent]
    assert sent[mg.Memgraph] == sent[fk.FalkorDB]  # same statements, same values, same order
    with pytest.raises(ValueError, match="valid: M1, M2"):
        _recording(mg.Memgraph).create_schema("F1")


@pytest.mark.unit
def test_memgraph_never_runs_conflicting_writes_at_once(tiny2_dataset):
    """2 load workers: nodes in parallel, relationships one at a time, ArchiveDays of one
    partition file only (two files may touch the same points: a Memgraph write conflict)."""
    eng = _recording(mg.Memgraph)
    eng.load_workers = 2
    lock, running, overlaps = threading.Lock(), [], []
    record = eng._send

    def send(statement, rows):
        kind = ("archive" if statement == cypher.ARCHIVE_STATEMENT else
                "node" if " CREATE (n:" in statement else "rel")
        key = (kind, rows[0]["date"]) if kind == "archive" else (kind, None)
        with lock:
            overlaps.extend((key, other) for other in running)
            running.append(key)
        time.sleep(0.01)
        with lock:
            running.remove(key)
            return record(statement, rows)

    eng._send = send
    eng.load(tiny2_dataset, "M1", progress=None)
    kinds = {(a[0], b[0]) for a, b in overlaps}
    assert ("node", "node") in kinds  # parallel where it is safe
    assert not {k for k in kinds if "rel" in k} and all(a == b for a, b in overlaps
                                                         if a[0] == "archive")


@pytest.mark.unit
def test_memgraph_dead_server_is_crashed():
    eng = mg.Memgraph(Endpoint("127.0.0.1", free_port()))  # nobody listens there
    try:
        with pytest.raises(EngineCrashed, match="connection lost"):
            eng.execute("RETURN 1", None, timeout_s=5)
    finally:
        eng.close()


@pytest.mark.unit
def test_memgraph_sizes_and_values():
    assert mg.parse_size("43.15MiB") == int(43.15 * 2**20)
    assert mg.parse_size("512B") == 512 and mg.parse_size(1024) == 1024
    assert mg.parse_size("1.5GiB") == 3 * 2**29
    assert cypher.bind_params({"t": dt.datetime(2025, 1, 6, 6), "p": np.int64(5),
                               "ids": (1, 2)}) == {"t": "2025-01-06T06:00:00", "p": 5,
                                                    "ids": [1, 2]}


@pytest.mark.unit
def test_memgraph_launcher(tmp_path, monkeypatch):
    cmd = launcher.server_command(Path("/usr/lib/memgraph/memgraph"), 7777, tmp_path, 2.5)
    assert "--bolt-address=127.0.0.1" in cmd and "--bolt-port=7777" in cmd
    assert f"--data-directory={tmp_path / 'data'}" in cmd
    assert "--storage-mode=IN_MEMORY_TRANSACTIONAL" in cmd
    assert "--query-execution-timeout-sec=3" in cmd
    monkeypatch.setattr(launcher, "find_binary", lambda: None)
    with pytest.raises(Unavailable, match="Memgraph's .deb"):
        LocalRuntime().start(ServerSpec("memgraph", tmp_path / "mg"))


# -- against a real Memgraph (BTB_MEMGRAPH_URI) -------------------------------------------------
@pytest.fixture(scope="module")
def endpoint():
    if not URI:
        pytest.skip("BTB_MEMGRAPH_URI not set: Memgraph cannot run on this machine")
    u = urlparse(URI)
    return Endpoint(u.hostname or "127.0.0.1", u.port or 7687,
                    user=os.environ.get("BTB_MEMGRAPH_USER"),
                    password=os.environ.get("BTB_MEMGRAPH_PASSWORD"))


@pytest.fixture(scope="module")
def m1(endpoint, tiny_dataset):
    eng = mg.Memgraph(endpoint)
    eng.create_schema("M2")
    m2 = eng.load(tiny_dataset, "M2")
    eng.create_schema("M1")
    result = eng.load(tiny_dataset, "M1")
    yield eng, m2, result
    eng.close()


def _params(ds: Path, variant: str = "small") -> dict:
    return json.loads((ds / "params.json").read_text())["variants"][variant]


@pytest.mark.engines
def test_real_load_counts(m1, tiny_dataset):
    eng, m2, result = m1
    exp2, exp1 = X.expected_counts(tiny_dataset, False), X.expected_counts(tiny_dataset, True)
    assert m2.verified and m2.counts == exp2
    assert result.verified and result.counts == exp1
    assert result.details["archive_days_per_s"] > 0 and eng.data_size() > 0


@pytest.mark.engines
def test_real_multi_label_and_bound_query(m1, tiny_dataset):
    eng, *_ = m1
    anc = X.class_ancestors(tiny_dataset)
    pts = pq.read_table(tiny_dataset / "points.parquet").to_pylist()
    want = sum("Air_Temperature_Sensor" in anc[p["class"]] for p in pts)
    assert eng.execute("MATCH (p:Air_Temperature_Sensor) RETURN count(p)") == [(want,)]
    equipment = _params(tiny_dataset)["equipment"]
    got = eng.execute("MATCH (p:Point)-[:isPointOf]->(e:Node {id: $equipment}) "
                      "RETURN p.id, p.class", {"equipment": equipment})
    assert sorted(got) == sorted((p["id"], p["class"]) for p in pts
                                 if p["parent_id"] == equipment) != []


@pytest.mark.engines
def test_real_archive_day_matches_parquet(m1, tiny_dataset):
    eng, *_ = m1
    p = _params(tiny_dataset)
    point, day = p["point"], dt.date.fromisoformat(p["day"]["start"][:10])
    rows = eng.execute("MATCH (p:Point {id: $point})-[:hasTimeseries]->(a:ArchiveDay) "
                       "WHERE a.date = $date RETURN a.minutes, a.values, a.n, a.weekday",
                       {"point": point, "date": day})
    t = pq.read_table(tiny_dataset / f"timeseries/date={day}").filter(
        pc.equal(pc.field("point_id"), point)).sort_by("time")
    ms = t.column("time").cast("int64").to_numpy() % 86_400_000 // 60_000
    assert rows == [(ms.tolist(), t.column("value").to_pylist(), t.num_rows, day.isoweekday())]


@pytest.mark.engines
def test_real_timeout(m1):
    eng, *_ = m1
    with pytest.raises(QueryTimeout):
        eng.execute(HEAVY, None, timeout_s=0.5)
    assert eng.execute("RETURN 1") == [(1,)]
