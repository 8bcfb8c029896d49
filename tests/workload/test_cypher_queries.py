"""The Cypher query files (queries/Qnn/cypher.cypher, cypher.hybrid.cypher) against the
reference, on a real FalkorDB (and, for F2's federation, a real PostgreSQL), run the way the run
loop runs them. Memgraph reads the same files (no memgraph.cypher override exists) but cannot run
here; FalkorDB stands in for both dialects.

- F1: structure + ArchiveDays in FalkorDB; every query direct (`cypher.cypher`), de-chunking the
  ArchiveDay lists server-side.
- F2: structure only in FalkorDB, timeseries in PostgreSQL ("TS" layout); Q1–Q6 direct, Q7–Q13
  federate (`cypher.hybrid.cypher` feeds `ts.sql`; Q7/Q8 run `ts.sql` alone).

Every query and variant, on tiny-1d and tiny-2d (two days: windows crossing midnight), must
equal `Reference(dataset).answer(...)` in canonical form (timestamps come back as
'YYYY-MM-DDTHH:MM:SS' strings, which the canonical form compares with the reference's
datetimes). Extra windows not at midnight check the de-chunking queries' day and time-of-day
selection beyond what params.json holds.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from btb.engines import falkordb as fk
from btb.engines.postgres import Postgres
from btb.runtime.base import ServerSpec
from btb.runtime.launchers import falkordb as fk_launcher
from btb.runtime.launchers import postgres as pg_launcher
from btb.runtime.local import LocalRuntime
from btb.workload import catalog, execution
from btb.workload.answers import canonical, compare
from btb.workload.reference import Reference
from tests.conftest import need

pytestmark = pytest.mark.engines

VARIANTS = ("small", "large")
DATASETS = ("tiny_dataset", "tiny2_dataset")
TIMEOUT_S = 60.0
HYBRIDS = ("Q9", "Q10", "Q11", "Q12", "Q13")


def _need_falkordb() -> None:
    need(fk_launcher.find_files() is not None and fk._falkordb is not None,
         "falkordblite not installed (pip install falkordblite, Python >= 3.12)")


def _need_postgres() -> None:
    need(pg_launcher.find_bindir() is not None,
         "PostgreSQL server binaries not found (apt-get install postgresql)")


# -- fixtures: one dataset at a time (module scope, parametrised) ------------------------------
@pytest.fixture(scope="module", params=DATASETS)
def dataset(request) -> Path:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def reference(dataset):
    ref = Reference(dataset)
    yield ref
    ref.close()


@pytest.fixture(scope="module")
def params(dataset) -> dict:
    return json.loads((dataset / "params.json").read_text())


@pytest.fixture(scope="module")
def f1(dataset, tmp_path_factory):
    """FalkorDB with the dataset loaded as F1 (structure + ArchiveDays)."""
    _need_falkordb()
    server = LocalRuntime().start(ServerSpec("falkordb", tmp_path_factory.mktemp("f1") / "fk"))
    engine = fk.FalkorDB(server.endpoint)
    try:
        engine.create_schema("F1")
        assert engine.load(dataset, "F1").verified
        yield engine
    finally:
        engine.close()
        server.stop()


@pytest.fixture(scope="module")
def f2(dataset, tmp_path_factory):
    """(FalkorDB with the F2 structure, PostgreSQL with the timeseries as "TS")."""
    _need_falkordb()
    _need_postgres()
    root = tmp_path_factory.mktemp("f2")
    runtime = LocalRuntime()
    servers, engines = [], []
    try:
        servers.append(runtime.start(ServerSpec("falkordb", root / "fk")))
        graph = fk.FalkorDB(servers[-1].endpoint)
        engines.append(graph)
        servers.append(runtime.start(ServerSpec("postgres", root / "pg")))
        ts = Postgres(servers[-1].endpoint)
        engines.append(ts)
        graph.create_schema("F2")
        assert graph.load(dataset, "F2").verified
        ts.create_schema("TS")
        assert ts.load(dataset, "TS").verified
        yield graph, ts
    finally:
        for engine in engines:
            engine.close()
        for server in servers:
            server.stop()


def _check(reference, qid: str, bound: dict, rows) -> None:
    diff = compare(reference.answer(qid, bound), canonical(rows))
    assert diff is None, f"{qid} {bound}: {diff}"


# -- F1: every query direct ---------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("qid", catalog.all_ids())
def test_f1_matches_reference(f1, reference, params, qid, variant):
    q = catalog.get(qid)
    p = execution.plan(q, f1.languages, hybrid=False)
    assert (p.mode, p.language) == ("direct", "cypher")
    bound = catalog.bind(q, params, variant)
    _check(reference, qid, bound, execution.run(p, f1, bound, TIMEOUT_S).rows)


def test_f1_rows_have_meta_columns(f1, params):
    """One value per meta.yml column; ids as integers, timestamps as ISO strings (Q13's `hour`
    is an hour of day, an integer)."""
    for qid in catalog.all_ids():
        q = catalog.get(qid)
        p = execution.plan(q, f1.languages, hybrid=False)
        rows = execution.run(p, f1, catalog.bind(q, params, "large"), TIMEOUT_S).rows
        assert rows, qid
        for row in rows:
            assert len(row) == len(q.columns), qid
            for col, v in zip(q.columns, row):
                if col.endswith("_id") and v is not None:
                    assert isinstance(v, int), (qid, col, v)
                if col in ("time", "day") or (col == "hour" and qid == "Q8"):
                    assert isinstance(v, str) and dt.datetime.fromisoformat(v), (qid, col, v)
                    assert len(v) == 19, (qid, col, v)


# Windows not on midnight, as offsets from the dataset's period (start + a, end - b): the day and
# time-of-day selection of the de-chunking queries must still be exact. On tiny-2d the windows
# cross midnight; Q9's ends fall before, on, and just after the first reading of a day.
_H, _M, _S = (dt.timedelta(hours=1), dt.timedelta(minutes=1), dt.timedelta(seconds=1))
_CUT = {"start": ("start", 13 * _H + 7 * _M), "end": ("end", -(2 * _H + 27 * _M))}
_ODD_WINDOWS = [
    ("Q7", _CUT),
    ("Q8", _CUT),
    ("Q10", _CUT),
    ("Q11", _CUT),
    ("Q12", _CUT),
    ("Q12", {"start": ("start", 6 * _H + 30 * _S), "end": ("end", -(5 * _H + 59 * _M))}),
    ("Q9", {"end": ("start", 24 * _H + 2 * _M)}),
    ("Q9", {"end": ("end", -(10 * _H + 57 * _M + 30 * _S))}),
    ("Q9", {"end": ("start", 30 * _S)}),  # only the first reading of the first day
    ("Q9", {"end": ("start", 0 * _S)}),  # before every reading: no rows
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("qid", "window"), _ODD_WINDOWS)
def test_f1_windows_off_midnight(f1, reference, params, qid, window, variant):
    q = catalog.get(qid)
    period = {k: dt.datetime.fromisoformat(params["period"][k]) for k in ("start", "end")}
    bound = {**catalog.bind(q, params, variant),
             **{name: period[base] + offset for name, (base, offset) in window.items()}}
    p = execution.plan(q, f1.languages, hybrid=False)
    _check(reference, qid, bound, execution.run(p, f1, bound, TIMEOUT_S).rows)


# -- F2: structure direct, hybrids federated ----------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("qid", catalog.all_ids())
def test_f2_matches_reference(f2, reference, params, qid, variant):
    graph, ts = f2
    q = catalog.get(qid)
    p = execution.plan(q, graph.languages, hybrid=True, graph_languages=graph.languages)
    assert p.mode == ("direct" if q.kind == "structure" else "federate")
    assert (p.graph_text is not None) == (p.mode == "federate" and bool(q.fed_columns))
    bound = catalog.bind(q, params, variant)
    _check(reference, qid, bound, execution.run(p, graph, bound, TIMEOUT_S, ts_engine=ts).rows)


@pytest.mark.parametrize("qid", HYBRIDS)
def test_f2_graph_part_columns(f2, params, qid):
    """The graph part returns point_id + meta.yml fed_columns, ids as integers."""
    graph, _ = f2
    q = catalog.get(qid)
    p = execution.plan(q, graph.languages, hybrid=True, graph_languages=graph.languages)
    rows = graph.execute(p.graph_text, catalog.bind(q, params, "large"), TIMEOUT_S)
    assert q.fed_columns[0] == "point_id" and rows
    assert all(len(r) == len(q.fed_columns) and isinstance(r[0], int) for r in rows)
    if qid == "Q12":
        assert {r[3] for r in rows} == {"temp", "heat_sp", "cool_sp"}


def test_f2_federation_through_temp_table(f2, reference, params):
    """Above the threshold the fed ids go through a COPY-filled temp table: same answer."""
    graph, ts = f2
    q = catalog.get("Q12")
    p = execution.plan(q, graph.languages, hybrid=True, graph_languages=graph.languages)
    bound = catalog.bind(q, params, "large")
    out = execution.run(p, graph, bound, TIMEOUT_S, ts_engine=ts, fed_threshold=0)
    _check(reference, "Q12", bound, out.rows)
