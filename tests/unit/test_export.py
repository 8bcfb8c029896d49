"""`btb export`: one shared timeseries.csv hard-linked into the scenarios that need it, structure
CSVs for PostgreSQL, N-Triples whose triple count matches what the engine loads."""

from __future__ import annotations

import csv
import json

import pytest

from btb import cli
from btb.export import rdf

pytestmark = pytest.mark.unit


def test_export_pg_and_rdf(tiny_dataset, tmp_path, capsys):
    out = tmp_path / "exp"
    rc = cli.main(["export", "tiny-1d", "--scenario", "P1", "O2", "O1", "--out", str(out),
                   "--root", str(tiny_dataset.parent)])
    assert rc == 0
    base = out / tiny_dataset.name
    shared = base / "timeseries.csv"
    p1, o2 = base / "p1" / "pg_timeseries.csv", base / "o2" / "timeseries.csv"
    assert shared.stat().st_ino == p1.stat().st_ino == o2.stat().st_ino  # links, not copies
    fp = json.loads((tiny_dataset / "fingerprint.json").read_text())
    with open(shared) as f:
        rows = sum(1 for _ in csv.reader(f)) - 1
    assert rows == fp["row_counts"]["timeseries"]
    assert (base / "p1" / "nodes.csv").is_file() and not (base / "o1" / "timeseries.csv").exists()
    for name, archive in (("o1/brick_archive.nt", True), ("o2/brick.nt", False)):
        lines = (base / name).read_text().count(" .\n")
        assert lines == sum(rdf.count_triples(tiny_dataset, archive).values())


def test_export_unknown_scenario(tiny_dataset, tmp_path, capsys):
    rc = cli.main(["export", "tiny-1d", "--scenario", "X9", "--out", str(tmp_path),
                   "--root", str(tiny_dataset.parent)])
    assert rc == 2 and "unknown scenario 'X9'" in capsys.readouterr().err
