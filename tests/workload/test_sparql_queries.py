"""The SPARQL query files (queries/Qnn/sparql.rq, sparql.hybrid.rq) against the reference, on a
real Oxigraph (and, for O2's federation, a real PostgreSQL), run the way the run loop runs them:

- O1: structure + ArchiveDays in Oxigraph; `execution.plan(q, languages, hybrid=False)` picks
  direct or dechunk from the file's first line, `execution.run` returns the final rows.
- O2: structure only in Oxigraph, timeseries in PostgreSQL ("TS" layout); Q1–Q6 direct, Q7–Q13
  federate (`sparql.hybrid.rq` feeds `ts.sql`; Q7/Q8 run `ts.sql` alone).

Every query and variant, on tiny-1d and tiny-2d (two days: windows crossing midnight), must
equal `Reference(dataset).answer(...)` in canonical form. A few extra windows not at midnight
check the O1 de-chunking queries' day selection (Q7, Q8, Q9) beyond what params.json holds.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from btb.engines.oxigraph import Oxigraph
from btb.engines.postgres import Postgres
from btb.runtime.base import ServerSpec
from btb.runtime.launchers import oxigraph as ox_launcher
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


def _need_oxigraph() -> None:
    need(ox_launcher.find_binary() is not None,
         "oxigraph binary not found (pip install oxigraph)")


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
def o1(dataset, tmp_path_factory):
    """Oxigraph with the dataset loaded as O1 (structure + ArchiveDays)."""
    _need_oxigraph()
    server = LocalRuntime().start(ServerSpec("oxigraph", tmp_path_factory.mktemp("o1") / "ox"))
    engine = Oxigraph(server.endpoint)
    try:
        engine.create_schema("O1")
        assert engine.load(dataset, "O1").verified
        yield engine
    finally:
        engine.close()
        server.stop()


@pytest.fixture(scope="module")
def o2(dataset, tmp_path_factory):
    """(Oxigraph with the O2 structure, PostgreSQL with the timeseries as "TS")."""
    _need_oxigraph()
    _need_postgres()
    root = tmp_path_factory.mktemp("o2")
    runtime = LocalRuntime()
    servers, engines = [], []
    try:
        servers.append(runtime.start(ServerSpec("oxigraph", root / "ox")))
        graph = Oxigraph(servers[-1].endpoint)
        engines.append(graph)
        servers.append(runtime.start(ServerSpec("postgres", root / "pg")))
        ts = Postgres(servers[-1].endpoint)
        engines.append(ts)
        graph.create_schema("O2")
        assert graph.load(dataset, "O2").verified
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


# -- O1: direct and dechunk ---------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("qid", catalog.all_ids())
def test_o1_matches_reference(o1, reference, params, qid, variant):
    q = catalog.get(qid)
    p = execution.plan(q, o1.languages, hybrid=False)
    assert p.language == "sparql"
    # Q10/Q11 read the daily aggregates (direct); Q7-Q9, Q12, Q13 need the readings
    want_mode = "dechunk" if qid in ("Q7", "Q8", "Q9", "Q12", "Q13") else "direct"
    assert p.mode == want_mode
    bound = catalog.bind(q, params, variant)
    _check(reference, qid, bound, execution.run(p, o1, bound, TIMEOUT_S).rows)


def test_o1_dechunk_queries_keep_meta_columns():
    """Dechunk files project point_id, date, minutes, values, then meta.yml's dechunk_keys."""
    for qid in catalog.all_ids():
        q = catalog.get(qid)
        text = q.path("sparql").read_text()
        if not text.startswith("# btb: dechunk"):
            continue
        projection = re.search(r"^SELECT(.*?)^WHERE", text, re.M | re.S).group(1)
        # `(?x AS ?name)` projects ?name
        projection = re.sub(r"\([^()]*\bAS\s+(\?\w+)\s*\)", r"\1", projection)
        names = re.findall(r"\?(\w+)", projection)
        assert names == ["point_id", "date", "minutes", "values", *q.dechunk_keys], qid


# Windows not on midnight, as offsets from the dataset's period (start + a, end - b): the day
# selection of the de-chunking queries must still be exact. On tiny-2d the Q7/Q8 window crosses
# midnight; Q9's ends fall before, on, and just after the first reading of a day.
_H, _M, _S = (dt.timedelta(hours=1), dt.timedelta(minutes=1), dt.timedelta(seconds=1))
_ODD_WINDOWS = [
    ("Q7", {"start": ("start", 13 * _H + 7 * _M), "end": ("end", -(2 * _H + 27 * _M))}),
    ("Q8", {"start": ("start", 13 * _H + 7 * _M), "end": ("end", -(2 * _H + 27 * _M))}),
    ("Q9", {"end": ("start", 24 * _H + 2 * _M)}),
    ("Q9", {"end": ("end", -(10 * _H + 57 * _M + 30 * _S))}),
    ("Q9", {"end": ("start", 30 * _S)}),  # only the first reading of the first day
    ("Q9", {"end": ("start", 0 * _S)}),  # before every reading: no rows
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("qid", "window"), _ODD_WINDOWS)
def test_o1_windows_off_midnight(o1, reference, params, qid, window, variant):
    q = catalog.get(qid)
    period = {k: dt.datetime.fromisoformat(params["period"][k]) for k in ("start", "end")}
    bound = {**catalog.bind(q, params, variant),
             **{name: period[base] + offset for name, (base, offset) in window.items()}}
    p = execution.plan(q, o1.languages, hybrid=False)
    _check(reference, qid, bound, execution.run(p, o1, bound, TIMEOUT_S).rows)


# -- O2: structure direct, hybrids federated ----------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("qid", catalog.all_ids())
def test_o2_matches_reference(o2, reference, params, qid, variant):
    graph, ts = o2
    q = catalog.get(qid)
    p = execution.plan(q, graph.languages, hybrid=True, graph_languages=graph.languages)
    assert p.mode == ("direct" if q.kind == "structure" else "federate")
    assert (p.graph_text is not None) == (p.mode == "federate" and bool(q.fed_columns))
    bound = catalog.bind(q, params, variant)
    _check(reference, qid, bound, execution.run(p, graph, bound, TIMEOUT_S, ts_engine=ts).rows)


@pytest.mark.parametrize("qid", ["Q9", "Q10", "Q11", "Q12", "Q13"])
def test_o2_graph_part_columns(o2, params, qid):
    """The graph part returns point_id + meta.yml fed_columns, ids as integers."""
    graph, _ = o2
    q = catalog.get(qid)
    p = execution.plan(q, graph.languages, hybrid=True, graph_languages=graph.languages)
    rows = graph.execute(p.graph_text, catalog.bind(q, params, "large"), TIMEOUT_S)
    assert q.fed_columns[0] == "point_id" and rows
    assert all(len(r) == len(q.fed_columns) and isinstance(r[0], int) for r in rows)
    if qid == "Q12":
        assert {r[3] for r in rows} == {"temp", "heat_sp", "cool_sp"}


def test_o2_federation_through_temp_table(o2, reference, params):
    """Above the threshold the fed ids go through a COPY-filled temp table: same answer."""
    graph, ts = o2
    q = catalog.get("Q12")
    p = execution.plan(q, graph.languages, hybrid=True, graph_languages=graph.languages)
    bound = catalog.bind(q, params, "large")
    out = execution.run(p, graph, bound, TIMEOUT_S, ts_engine=ts, fed_threshold=0)
    _check(reference, "Q12", bound, out.rows)
