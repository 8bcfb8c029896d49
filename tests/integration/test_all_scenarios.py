"""Issue 3's main check: `btb run` on tiny-1d with P1 P2 O1 O2 F1 F2 on the local runtime —
every cell ok, so every answer equals the reference (and hence every other scenario's), and
every reference answer is non-empty."""

from __future__ import annotations

import json

import pytest

from btb import cli
from btb.results import store as results

pytestmark = [pytest.mark.engines, pytest.mark.slow]


def test_every_scenario_every_query_ok(tiny_dataset, tmp_path, capsys):
    res = tmp_path / "res"
    rc = cli.main(["run", "--profile", "tiny-1d", "--scenarios", "P1", "P2", "O1", "O2", "F1",
                   "F2", "--root", str(tiny_dataset.parent), "--results", str(res),
                   "--n-warmup", "0", "--n-runs", "1"])
    assert rc == 0
    files = results.cell_files(res)
    assert len(files) == 6 * 13 * 2
    bad = []
    for f in files:
        r = json.loads(f.read_text())
        results.validate(r)
        if r["status"] != "ok":
            bad.append((r["scenario"], r["query"], r["variant"], r["status"], r["reason"]))
        else:
            assert r["answer"]["matches_reference"] and r["answer"]["reference_rows"] > 0
            assert r["provenance"]["dataset"]["dataset_sha256"]
            assert r["provenance"]["engine"]["version"]
    assert not bad, bad
    out = capsys.readouterr().out
    assert "156 ok, 0 failed" in out
