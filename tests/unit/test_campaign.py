"""Campaign state without engines: manifest identity, resume decisions, progress, summary."""

from __future__ import annotations

import json

import pytest

from btb.bench.campaign import Campaign, cell_id
from btb.errors import BtbError
from btb.results import store as results

pytestmark = pytest.mark.unit

IDENTITY = {"profile": "tiny-1d", "dataset_sha256": "abc", "runtime": "local",
            "protocol": {"n_warmup": 0, "n_runs": 1, "timeout_s": 5.0}}


def _cell(scenario="P1", ram="1g", query="Q1", variant="small", sha="abc", status="ok"):
    r = {"schema_version": 1, "campaign": "c", "profile": "tiny-1d", "scenario": scenario,
         "engine": "postgres", "ts_engine": None, "runtime": "local", "ram": ram,
         "ram_bytes": 1 << 30, "query": query, "variant": variant, "status": status,
         "reason": None if status == "ok" else "why", "latencies_ms": [1.0] if status == "ok"
         else [], "stats": {"p95": 1.0}, "answer": {"checked": True, "matches_reference": True,
                                                     "rows": 1, "reference_rows": 1},
         "protocol": IDENTITY["protocol"],
         "provenance": {"dataset": {"name": "d", "dataset_sha256": sha, "profile": "tiny-1d",
                                    "seed": 42}, "btb_version": "0", "engine": {"name": "pg"}},
         "started_at": "t", "finished_at": "t"}
    return r


def _put(tmp_path, r):
    results.write(results.cell_path(tmp_path, "c", r["scenario"], r["ram"], r["query"],
                                    r["variant"]), r)


CELLS = [cell_id("P1", "1g", q, "small") for q in ("Q1", "Q2", "Q3")]


def test_resume_counts_valid_cells_of_this_dataset_only(tmp_path):
    _put(tmp_path, _cell(query="Q1"))
    _put(tmp_path, _cell(query="Q2", status="oom"))  # failures are data: finished
    bad = results.cell_path(tmp_path, "c", "P1", "1g", "Q3", "small")
    bad.write_text("{ truncated")
    logs = []
    camp = Campaign(tmp_path, "c", IDENTITY, log=logs.append)
    camp.plan(CELLS)
    assert camp.remaining() == [CELLS[2]]
    assert "not a valid result" in logs[0] and "Q3-small.json" in logs[0]
    other = Campaign(tmp_path / "x", "c", IDENTITY)
    _put(tmp_path / "x", _cell(query="Q1", sha="zzz"))  # same name, other dataset: not ours
    other.plan(CELLS)
    assert len(other.remaining()) == 3


def test_manifest_identity_mismatch_is_refused_unless_fresh(tmp_path):
    Campaign(tmp_path, "c", IDENTITY).plan(CELLS)
    changed = dict(IDENTITY, protocol={"n_warmup": 2, "n_runs": 5, "timeout_s": 5.0})
    with pytest.raises(BtbError, match="differs in: protocol.*--fresh"):
        Campaign(tmp_path, "c", changed)
    _put(tmp_path, _cell(query="Q1"))
    fresh = Campaign(tmp_path, "c", changed, fresh=True)
    fresh.plan(CELLS)
    assert fresh.remaining() == CELLS  # --fresh runs everything again


def test_plan_extends_the_manifest_and_progress_tracks_cells(tmp_path):
    camp = Campaign(tmp_path, "c", IDENTITY)
    camp.plan(CELLS[:2], ["btb", "run"])
    camp.begin()
    camp.start_cell(CELLS[0])
    prog = json.loads(camp.progress_path.read_text())
    assert prog["state"] == "running" and prog["current"] == CELLS[0]
    assert (prog["done"], prog["total"], prog["eta_s"]) == (0, 2, None)
    _put(tmp_path, _cell(query="Q1"))
    camp.end_cell(CELLS[0])
    prog = json.loads(camp.progress_path.read_text())
    assert prog["done"] == 1 and prog["eta_s"] is not None and prog["current"] is None
    again = Campaign(tmp_path, "c", IDENTITY)  # a rerun with one more query
    again.plan(CELLS)
    manifest = json.loads(again.manifest_path.read_text())
    assert manifest["cells"] == CELLS and manifest["identity"] == IDENTITY
    assert again.remaining() == CELLS[1:]
    summary = again.finish(1.2)
    assert summary["configurations"][0]["scenario"] == "P1"
    assert json.loads(again.progress_path.read_text())["state"] == "finished"
    again.fail("boom")
    assert json.loads(again.progress_path.read_text())["error"] == "boom"
