"""The oxigraph engine against a real `oxigraph serve` started by the local runtime."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from btb.engines.base import EngineCrashed, QueryTimeout
from btb.engines.oxigraph import Oxigraph, OxigraphError
from btb.export import rdf
from btb.runtime import process
from btb.runtime.base import ServerSpec, Unavailable
from btb.runtime.launchers import oxigraph as launcher
from btb.runtime.local import LocalRuntime
from tests.conftest import need

pytestmark = pytest.mark.engines

PREFIXES = """PREFIX brick: <https://brickschema.org/schema/Brick#>
PREFIX btb: <urn:btb:vocab#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""
# A Q1-shaped query: points of one equipment, with their most specific class.
POINTS_OF = PREFIXES + """SELECT ?point_id (STRAFTER(STR(?c), "#") AS ?class) WHERE {
  ?e btb:id ?equipment . ?p brick:isPointOf ?e ; btb:id ?point_id ; a ?c .
}"""
# One ArchiveDay of one point: what O1's de-chunking queries read.
ARCHIVE = PREFIXES + """SELECT ?minutes ?values ?n ?min ?max ?mean ?weekday WHERE {
  ?p btb:id ?point ; btb:hasTimeseries ?a .
  ?a a btb:ArchiveDay ; btb:point ?p ; btb:date ?date ; btb:minutes ?minutes ;
     btb:values ?values ; btb:n ?n ; btb:min ?min ; btb:max ?max ; btb:mean ?mean ;
     btb:weekday ?weekday .
}"""
HEAVY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # ~10^10 rows


def _start(root: Path, **options):
    need(launcher.find_binary() is not None, "oxigraph binary not found (pip install oxigraph)")
    return LocalRuntime().start(ServerSpec("oxigraph", root, options=options))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # the server-side timeout stops queries the client gave up on (see test_client_timeout)
    srv = _start(tmp_path_factory.mktemp("ox") / "server", query_timeout_s=5)
    yield srv
    srv.stop()
    assert not srv.alive() and srv.proc.poll() is not None


@pytest.fixture(scope="module")
def o1(server, tiny_dataset):
    """The engine with tiny_dataset loaded as O1 (module-scoped: loaded once)."""
    eng = Oxigraph(server.endpoint)
    eng.create_schema("O1")
    result = eng.load(tiny_dataset, "O1")
    yield eng, result
    eng.close()


def _params(ds: Path, variant: str = "small") -> dict:
    return json.loads((ds / "params.json").read_text())["variants"][variant]


def test_endpoint(server):
    e = server.endpoint
    assert server.alive() and e.host == "127.0.0.1"
    assert e.version and e.version[0].isdigit()
    assert Path(e.extra["store_dir"]).is_dir() and e.extra["query_timeout_s"] == 5
    assert launcher.answers(e.host, e.port)


@pytest.fixture
def own_engine(tmp_path):
    """An engine on a private server: tests that clear the store do not disturb `o1`."""
    srv = _start(tmp_path / "ox")
    eng = Oxigraph(srv.endpoint)
    yield eng
    eng.close()
    srv.stop()


def test_load_o2_then_o1(own_engine, tiny_dataset):
    engine = own_engine
    engine.create_schema("O2")
    assert engine.languages == ("sparql",)
    seen: list[int] = []
    o2 = engine.load(tiny_dataset, "O2", progress=seen.append)
    parts = rdf.count_triples(tiny_dataset, archive=False)
    assert o2.verified, (o2.counts, o2.expected)
    assert o2.counts == {"triples": sum(parts.values())} == {"triples": sum(seen)}
    assert o2.details["method"] == "http" and o2.details["triples_per_s"] > 0
    assert o2.details["sent"] == o2.details["parts"] == parts
    assert engine.data_size() > 0
    # O1 after O2: create_schema clears the default graph, the ArchiveDays come on top
    engine.create_schema("O1")
    assert engine.triple_count() == 0
    o1 = engine.load(tiny_dataset, "O1")
    parts1 = rdf.count_triples(tiny_dataset, archive=True)
    assert o1.verified and o1.counts["triples"] == sum(parts1.values())
    n_archive = engine.execute(PREFIXES + "SELECT (COUNT(*) AS ?n) { ?a a btb:ArchiveDay }")
    ts = pq.read_table(next(tiny_dataset.glob("timeseries/date=*/*.parquet")))
    assert n_archive == [(len(pc.unique(ts.column("point_id"))),)]
    assert parts1["archive"] == rdf.ARCHIVE_TRIPLES * n_archive[0][0]


@pytest.mark.parametrize("method", ["http", "http-transaction"])
def test_load_methods_two_days(tmp_path, tiny2_dataset, method):
    srv = _start(tmp_path / "ox")
    eng = Oxigraph(srv.endpoint, load_method=method, load_workers=2)
    try:
        seen: list[int] = []
        result = eng.load(tiny2_dataset, "O1", progress=seen.append)
        parts = rdf.count_triples(tiny2_dataset, archive=True)
        assert result.verified and result.counts["triples"] == sum(parts.values()) == sum(seen)
        assert result.details["sent"] == parts
        # two partition files: structure + one request per file; one request in a transaction
        assert result.details["streams"] == (3 if method == "http" else 1)
        assert result.details["data_size"] > 0 and eng.data_size() > 0
    finally:
        eng.close()
        srv.stop()


def test_bound_scalar(o1, tiny_dataset):
    eng, _ = o1
    equipment = _params(tiny_dataset)["equipment"]
    pts = pq.read_table(tiny_dataset / "points.parquet").to_pylist()
    want = sorted((p["id"], p["class"]) for p in pts if p["parent_id"] == equipment)
    got = eng.execute(POINTS_OF, {"equipment": equipment})
    assert want and sorted(got) == want
    assert all(isinstance(i, int) and isinstance(c, str) for i, c in got)
    assert eng.execute(POINTS_OF, {"equipment": -1}) == []


def test_bound_list(o1, tiny_dataset):
    eng, _ = o1
    points = _params(tiny_dataset, "large")["points"]
    q = PREFIXES + "SELECT ?point ?label WHERE { ?p btb:id ?point ; rdfs:label ?label }"
    got = eng.execute(q, {"points": points, "point": points})
    names = {p["id"]: p["name"] for p in pq.read_table(tiny_dataset / "points.parquet")
             .to_pylist()}
    assert len(points) > 1 and sorted(got) == sorted((p, names[p]) for p in points)
    assert eng.execute(q, {"point": []}) == []


def test_typed_bindings_and_results(o1):
    eng, _ = o1
    q = PREFIXES + """SELECT ?t ?d ?s ?i ?x ?b (xsd:date(?t) AS ?day) ?missing WHERE {
      OPTIONAL { ?nothing btb:nothing ?missing } }"""
    t = dt.datetime(2025, 1, 6, 12, 30, 15)
    s = 'quote " backslash \\ newline \n tab \t é'
    got = eng.execute(q, {"t": t, "d": dt.date(2025, 1, 7), "s": s, "i": 7, "x": 0.1,
                          "b": True})
    assert got == [(t, dt.date(2025, 1, 7), s, 7, 0.1, True, dt.date(2025, 1, 6), None)]


def test_archive_day_matches_parquet(o1, tiny_dataset):
    eng, _ = o1
    p = _params(tiny_dataset)
    point, day = p["point"], dt.date.fromisoformat(p["day"]["start"][:10])
    rows = eng.execute(ARCHIVE, {"point": point, "date": day})
    assert len(rows) == 1
    minutes, values, n, vmin, vmax, vmean, weekday = rows[0]
    t = pq.read_table(tiny_dataset / f"timeseries/date={day}").filter(
        pc.equal(pc.field("point_id"), point))
    ms = t.column("time").cast("int64").to_numpy()
    val = t.column("value").to_numpy()
    midnight = (day - dt.date(1970, 1, 1)).days * 86_400_000
    decoded_m = [int(m) for m in minutes.split()]
    decoded_v = [float(v) for v in values.split()]
    assert decoded_m == ((ms - midnight) // 60_000).tolist()
    assert decoded_v == val.tolist()  # exact: shortest round-trip formatting
    assert (n, vmin, vmax, weekday) == (len(val), val.min(), val.max(), day.isoweekday())
    assert vmean == pytest.approx(float(np.mean(val)), rel=1e-12)


def test_client_timeout(o1):
    eng, _ = o1
    t0 = time.monotonic()
    with pytest.raises(QueryTimeout):
        eng.execute(HEAVY, None, timeout_s=0.3)
    assert time.monotonic() - t0 < 3
    assert eng.triple_count() > 0  # the engine is usable after a timeout


def test_server_timeout_kill_and_stop(tmp_path, tiny_dataset):
    srv = _start(tmp_path / "ox", query_timeout_s=1)
    eng = Oxigraph(srv.endpoint)
    try:
        eng.load(tiny_dataset, "O2")
        t0 = time.monotonic()
        with pytest.raises(QueryTimeout, match="cancelled by the server"):
            eng.execute(HEAVY, None, timeout_s=30)
        assert time.monotonic() - t0 < 10
        with pytest.raises(OxigraphError, match="HTTP 400"):
            eng.execute("SELECT nonsense", None)
        assert eng.execute("ASK { ?s ?p ?o }", None) == [(True,)]
        os.killpg(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait(10)
        assert not srv.alive()
        with pytest.raises(EngineCrashed):
            eng.execute("ASK { ?s ?p ?o }", None)
    finally:
        eng.close()
        srv.stop()
    srv.stop()  # idempotent
    assert not process.port_open(srv.endpoint.host, srv.endpoint.port)


def test_clean_stop(tmp_path):
    srv = _start(tmp_path / "ox")
    e = srv.endpoint
    assert launcher.answers(e.host, e.port)
    srv.stop()
    assert srv.proc.returncode is not None and not process.port_open(e.host, e.port)


def test_missing_binary(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    with pytest.raises(Unavailable, match="pip install oxigraph"):
        LocalRuntime().start(ServerSpec("oxigraph", tmp_path / "ox"))
