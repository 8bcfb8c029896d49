"""Data-driven: every scenario finds a query file for every query, in the languages its engine
claims. A missing file fails here, not in the middle of a campaign."""

from __future__ import annotations

import pytest

from btb.bench.runner import languages
from btb.config.scenarios import SCENARIOS
from btb.engines import registry
from btb.workload import catalog, execution

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("qid", catalog.all_ids())
def test_scenario_has_a_file_for_every_query(scenario, qid):
    sc = SCENARIOS[scenario]
    engine_cls = registry.engine_class(sc.engine)
    langs = languages(engine_cls(), scenario)
    q = catalog.get(qid)
    p = execution.plan(q, langs, sc.hybrid, langs)
    assert p.text.strip()
    if p.mode == "federate" and q.fed_columns:
        assert p.graph_text and p.graph_text.strip()


def test_every_query_has_reference_and_meta():
    for qid in catalog.all_ids():
        q = catalog.get(qid)
        assert q.has("reference"), f"{qid}: no reference.sql"
        assert q.columns, f"{qid}: meta.yml lists no columns"
        if q.kind != "structure":
            assert q.has("ts"), f"{qid}: a {q.kind} query needs ts.sql for the hybrids"
