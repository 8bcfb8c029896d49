"""Engines against servers started by the docker runtime (local images): tiny-1d loads over the
network into each container under a memory limit, counts are verified, and a structure and a
timeseries query answer like the reference, as they do on the local runtime."""

from __future__ import annotations

import json

import pytest

from btb.bench.runner import languages
from btb.engines import registry
from btb.runtime.base import ServerSpec
from btb.workload import catalog, execution
from btb.workload.answers import canonical, compare
from btb.workload.reference import Reference
from tests.integration.docker_env import MiB, need_image

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.mark.parametrize("engine, scenario", [("postgres", "P1"), ("oxigraph", "O1"),
                                              ("falkordb", "F1")])
def test_load_and_answer_in_a_container(docker_runtime, tiny_dataset, tmp_path, engine,
                                        scenario):
    need_image(docker_runtime, engine)
    server = docker_runtime.start(ServerSpec(engine, tmp_path, 768 * MiB,
                                             {"query_timeout_s": 30}))
    eng = registry.create(engine)
    ref = Reference(tiny_dataset)
    try:
        eng.connect(server.endpoint)
        eng.create_schema(scenario)
        res = eng.load(tiny_dataset, scenario)
        assert res.verified, (res.counts, res.expected)
        assert eng.data_size() > 0
        params = json.loads((tiny_dataset / "params.json").read_text())
        for qid in ("Q1", "Q7"):
            bound = catalog.bind(catalog.get(qid), params, "small")
            plan = execution.plan(catalog.get(qid), languages(eng, scenario), hybrid=False)
            got = canonical(execution.run(plan, eng, bound, 30).rows)
            assert got, qid
            assert compare(ref.answer(qid, bound), got) is None, qid
        assert server.memory.peak() <= 768 * MiB
        assert not server.oom_killed()
    finally:
        ref.close()
        eng.close()
        server.stop()
