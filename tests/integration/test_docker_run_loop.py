"""`btb run --runtime docker` end to end on tiny-1d: a cell whose query needs more than the
container's RAM level is recorded `oom`, the container's PostgreSQL recovers and the next cell
is `ok`; results carry the limit read back from the container's cgroup and the image
provenance, and validate against the schema."""

from __future__ import annotations

import json
import shutil

import pytest

from btb.results import store as results
from btb.workflows.run import run
from btb.workload import catalog
from tests.integration.docker_env import LOCAL_IMAGES, MiB, need_image

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_oom_cell_then_ok_cell_in_a_container(docker_runtime, tiny_dataset, tmp_path,
                                              monkeypatch):
    need_image(docker_runtime, "postgres")
    queries = tmp_path / "queries"
    shutil.copytree(catalog.queries_dir(), queries)
    monkeypatch.setenv("BTB_QUERIES", str(queries))
    monkeypatch.setenv("BTB_IMAGES", str(LOCAL_IMAGES))
    # Q1 plus an array of 60 M integers built in memory (array_agg does not spill to disk):
    # ~0.5 GB in a 256 MiB container. generate_series in the select list streams its rows
    # (in FROM it would first write all 60 M to a temporary file, slow on a loaded machine)
    (queries / "Q01" / "sql.sql").write_text(
        "SELECT p.id, p.class FROM point p WHERE p.parent_id = %(equipment)s\n"
        "  AND (SELECT cardinality(array_agg(g))\n"
        "       FROM (SELECT generate_series(1, 60000000) AS g) s) > 0\n")
    written, summary = run("tiny-1d", ["P1"], ["Q1", "Q2"], "docker", tmp_path / "res",
                           tiny_dataset.parent, n_warmup=0, n_runs=1, timeout_s=60,
                           variants=["small"], ram=[0.25], log=lambda m: None)
    status = {r["query"]: r for r in written}
    assert status["Q1"]["status"] == "oom", status["Q1"]["reason"]
    assert "OOM kill" in status["Q1"]["reason"]
    assert status["Q2"]["status"] == "ok", status["Q2"]["reason"]
    for r in written:
        mem = r["memory"]["structure"]
        assert mem["requested_bytes"] == mem["limit_bytes"] == 256 * MiB
        engine = r["provenance"]["engine"]
        assert engine["runtime"] == "docker" and engine["image_id"].startswith("sha256:")
        assert engine["mem_limit"] == engine["memswap_limit"] == 256 * MiB
    assert status["Q1"]["memory"]["structure"]["query"]["oom_kills"] >= 1
    for f in results.cell_files(tmp_path / "res"):
        results.validate(json.loads(f.read_text()))
    assert summary is not None
