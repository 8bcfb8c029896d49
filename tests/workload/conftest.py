"""Shared by the per-language query suites (test_sparql_queries, test_cypher_queries): the
datasets they run on, the reference, engines started and loaded like the run loop does, and the
checks every language must pass in the same way."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path

import pytest

from btb.engines.postgres import Postgres
from btb.runtime.base import ServerSpec
from btb.runtime.launchers import postgres as pg_launcher
from btb.runtime.local import LocalRuntime
from btb.workload import catalog, execution
from btb.workload.answers import canonical, compare
from btb.workload.reference import Reference
from tests.conftest import need

VARIANTS = ("small", "large")
DATASETS = ("tiny_dataset", "tiny2_dataset")
TIMEOUT_S = 60.0
HYBRIDS = ("Q9", "Q10", "Q11", "Q12", "Q13")


def need_postgres() -> None:
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


@contextlib.contextmanager
def loaded(name: str, engine_cls, layout: str, dataset: Path, root: Path, with_ts: bool = False):
    """Start `name` with the dataset loaded as `layout`; with_ts also a PostgreSQL loaded as
    "TS" (a hybrid's timeseries side). Yields the engine, or (engine, ts engine)."""
    runtime = LocalRuntime()
    servers, engines = [], []
    try:
        servers.append(runtime.start(ServerSpec(name, root / name)))
        graph = engine_cls(servers[-1].endpoint)
        engines.append(graph)
        graph.create_schema(layout)
        assert graph.load(dataset, layout).verified
        if not with_ts:
            yield graph
            return
        servers.append(runtime.start(ServerSpec("postgres", root / "pg")))
        ts = Postgres(servers[-1].endpoint)
        engines.append(ts)
        ts.create_schema("TS")
        assert ts.load(dataset, "TS").verified
        yield graph, ts
    finally:
        for engine in engines:
            engine.close()
        for server in servers:
            server.stop()


def check(reference, qid: str, bound: dict, rows) -> None:
    diff = compare(reference.answer(qid, bound), canonical(rows))
    assert diff is None, f"{qid} {bound}: {diff}"


def bind_window(q, params: dict, variant: str, window: dict) -> dict:
    """The variant's parameters with `window` = {param: (period start|end, offset)} applied."""
    period = {k: dt.datetime.fromisoformat(params["period"][k]) for k in ("start", "end")}
    return {**catalog.bind(q, params, variant),
            **{name: period[base] + offset for name, (base, offset) in window.items()}}


# -- the hybrid checks, identical for every graph language ---------------------------------------
def hybrid_matches_reference(graph, ts, reference, params, qid: str, variant: str) -> None:
    q = catalog.get(qid)
    p = execution.plan(q, graph.languages, hybrid=True, graph_languages=graph.languages)
    assert p.mode == ("direct" if q.kind == "structure" else "federate")
    assert (p.graph_text is not None) == (p.mode == "federate" and bool(q.fed_columns))
    bound = catalog.bind(q, params, variant)
    check(reference, qid, bound, execution.run(p, graph, bound, TIMEOUT_S, ts_engine=ts).rows)


def hybrid_graph_part_columns(graph, params, qid: str) -> None:
    """The graph part returns point_id + meta.yml fed_columns, ids as integers."""
    q = catalog.get(qid)
    p = execution.plan(q, graph.languages, hybrid=True, graph_languages=graph.languages)
    rows = graph.execute(p.graph_text, catalog.bind(q, params, "large"), TIMEOUT_S)
    assert q.fed_columns[0] == "point_id" and rows
    assert all(len(r) == len(q.fed_columns) and isinstance(r[0], int) for r in rows)
    if qid == "Q12":
        assert {r[3] for r in rows} == {"temp", "heat_sp", "cool_sp"}


def hybrid_through_temp_table(graph, ts, reference, params) -> None:
    """Above the threshold the fed ids go through a COPY-filled temp table: same answer."""
    q = catalog.get("Q12")
    p = execution.plan(q, graph.languages, hybrid=True, graph_languages=graph.languages)
    bound = catalog.bind(q, params, "large")
    out = execution.run(p, graph, bound, TIMEOUT_S, ts_engine=ts, fed_threshold=0)
    check(reference, "Q12", bound, out.rows)
