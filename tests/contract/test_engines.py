"""The same contract checked against every engine in the registry, on a real server:
start → create_schema → load (counts equal the dataset's) → bound query → timeout → stop.

Memgraph cannot run on this machine: its case runs against `BTB_MEMGRAPH_URI` when set and
says so when it skips (the README support table records it as not run here)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from btb.bench.runner import languages
from btb.config.scenarios import SCENARIOS
from btb.engines import registry
from btb.engines.base import QueryTimeout
from btb.runtime.base import Endpoint, ServerSpec, Unavailable
from btb.runtime.local import LocalRuntime
from btb.workload import catalog, execution
from btb.workload.answers import canonical, compare
from btb.workload.reference import Reference
from tests.conftest import need

pytestmark = pytest.mark.engines

# the pure scenario of each engine, and a query that keeps it busy past a tiny timeout
PURE = {s.engine: s.name for s in SCENARIOS.values() if not s.hybrid}
SLOW = {
    "postgres": "SELECT count(*) FROM pg_sleep(3)",
    "oxigraph": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "falkordb": "MATCH (a), (b), (c) RETURN count(*)",
    "memgraph": "MATCH (a), (b), (c), (d) RETURN count(*)",
}


@pytest.fixture(params=sorted(registry.ENGINES))
def started(request, tmp_path):
    name = request.param
    if name == "memgraph":
        uri = os.environ.get("BTB_MEMGRAPH_URI")
        if not uri:
            pytest.skip("BTB_MEMGRAPH_URI not set: Memgraph cannot run on this machine")
        u = urlparse(uri)
        engine = registry.create(name)
        engine.connect(Endpoint(u.hostname, u.port or 7687))
        yield name, engine
        engine.close()
        return
    try:
        server = LocalRuntime().start(ServerSpec(name, tmp_path / name,
                                                 options={"query_timeout_s": 30}))
    except Unavailable as e:
        need(False, f"{name}: {e}")
    engine = registry.create(name)
    engine.connect(server.endpoint)
    try:
        yield name, engine
    finally:
        engine.close()
        server.stop()
    assert not server.alive()


def test_engine_contract(started, tiny_dataset):
    name, engine = started
    scenario = PURE[name]
    engine.create_schema(scenario)
    res = engine.load(tiny_dataset, scenario)
    assert res.verified, (res.counts, res.expected)
    assert engine.data_size() != 0
    # a bound structure query answers like the reference
    q = catalog.get("Q1")
    params = catalog.bind(q, json.loads((tiny_dataset / "params.json").read_text()), "small")
    plan = execution.plan(q, languages(engine, scenario), hybrid=False)
    got = canonical(execution.run(plan, engine, params, 30).rows)
    ref = Reference(tiny_dataset)
    try:
        assert compare(ref.answer("Q1", params), got) is None
    finally:
        ref.close()
    with pytest.raises(QueryTimeout):
        engine.execute(SLOW[name], {}, timeout_s=0.3)


def test_every_registered_engine_has_a_launcher_or_says_why():
    for name in registry.ENGINES:
        assert Path(__file__).resolve().parents[2].joinpath(
            "btb", "runtime", "launchers", f"{name}.py").is_file(), name
