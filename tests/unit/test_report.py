"""`btb report` on constructed result sets with known answers: RAM_min and the curve markers at
the known inflection, failed cells never drawn or tabulated as latencies, the tidy table, bad
input (empty directory, invalid JSON, schema failures, mixed datasets) named in clear messages."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from btb import cli
from btb.errors import BtbError
from btb.results import assemble, figures, load, sections, store, tidy
from btb.workflows.report import report
from tests.unit import result_factory as rf

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def gradient_report(tmp_path_factory):
    res = tmp_path_factory.mktemp("gradient") / "results"
    rf.write(res, rf.gradient())
    out = res.parent / "report"
    return res, out, report([res], out, log=lambda m: None)


def _curve(results, query, variant):
    [sec] = sections.split_by_dataset(load.cells_of(results), 1.2)
    cs = figures.curves(sec.results, sec.summaries)
    return next(c for c in cs[query] if c.variant == variant), sec


def _artist(fig, gid):
    found = [a for ax in fig.axes for a in ax.get_lines() if a.get_gid() == gid]
    assert len(found) == 1, f"{gid}: {[a.get_gid() for ax in fig.axes for a in ax.get_lines()]}"
    return found[0]


def test_known_inflection_ram_min_and_curve_markers():
    results = rf.gradient()
    c, sec = _curve(results, "Q1", "small")
    assert {s["scenario"]: s["ram_min"] for s in sec.summaries} == {"P1": "2g", "O1": "1g"}
    assert c.levels == ["0.5g", "1g", "2g", "4g"]
    p1 = next(s for s in c.series if s.scenario == "P1")
    # Q1 on P1: x1.5 at 1g, OOM at 0.5g -> its own inflection is 2g, as is P1's RAM_min
    assert (p1.knee, p1.ram_min) == ("2g", "2g")
    assert p1.status == ["oom", "ok", "ok", "ok"] and p1.p95 == [None, 15.0, 11.0, 10.0]
    # Q2 on P1 stays within 1.2x down to 1g: its own inflection is lower than P1's RAM_min
    q2, _ = _curve(results, "Q2", "small")
    assert next(s for s in q2.series if s.scenario == "P1").knee == "1g"

    fig = figures.curve_figure("Q1", [c])
    knee = _artist(fig, "knee-P1-small")
    assert list(knee.get_xdata()) == [2] and list(knee.get_ydata()) == [11.0]  # 2g, its p95
    assert list(_artist(fig, "ram-min-P1-small").get_xdata()) == [2]
    assert list(_artist(fig, "ram-min-O1-small").get_xdata()) == [1]
    # the OOM cell is an x at its level (axes coordinates), and a hole in the line, never a 0
    assert list(_artist(fig, "failed-P1-small").get_xdata()) == [0]
    line = _artist(fig, "curve-P1-small").get_ydata()
    assert math.isnan(line[0]) and list(line[1:]) == [15.0, 11.0, 10.0]
    figures.plt.close(fig)


def test_log_scale_only_when_values_span_more_than_10x():
    c, _ = _curve(rf.gradient(), "Q2", "small")  # O1 Q2: 400 ms at 0.5g vs 10 ms for P1
    fig = figures.curve_figure("Q2", [c])
    assert fig.axes[0].get_yscale() == "log"
    c1, _ = _curve(rf.gradient(), "Q1", "small")
    fig1 = figures.curve_figure("Q1", [c1])
    assert fig1.axes[0].get_yscale() == "linear"
    figures.plt.close("all")


def test_report_files_and_failed_cells(gradient_report):
    res, out, r = gradient_report
    assert sorted(p.name for p in out.iterdir()) == ["figures", "report.html", "results.csv",
                                                    "results.parquet"]
    names = {p.stem for p in (out / "figures").iterdir()}
    assert names == set(r.figures)
    for n in r.figures:
        assert (out / "figures" / f"{n}.png").stat().st_size > 1000
        assert (out / "figures" / f"{n}.svg").stat().st_size > 1000
    page = (out / "report.html").read_text()
    # the p95 matrix shows the failed cell's status, not a latency
    assert re.search(r'<td class="fail"[^>]*>oom</td>', page)
    assert re.search(r'<td class="fail"[^>]*>timeout</td>', page)
    assert "RAM_min" in page and ">2g<" in page
    assert "P1  postgres           RAM_min 2g" in r.text


def test_tidy_rows_match_the_cells_and_failed_cells_have_no_latency(gradient_report):
    res, out, r = gradient_report
    t = pq.read_table(out / "results.parquet").to_pylist()
    files = load.load([res]).cells
    assert len({row["file"] for row in t}) == len(files)
    for c in files:
        rows = {row["statistic"]: row for row in t if row["file"] == c.path.as_posix()}
        for stat in tidy.LATENCY_STATS:
            if c.result["status"] == "ok":
                assert rows[stat]["value"] == pytest.approx(c.result["stats"][stat])
            else:
                assert rows[stat]["value"] is None, (c.path, stat)
        assert rows["p95"]["status"] == c.result["status"]
        assert rows["mem_structure_load_peak_bytes"]["value"] == (
            c.result["memory"]["structure"]["load"]["peak_bytes"])
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert len(csv_lines) == len(t) + 1
    assert csv_lines[0].replace('"', "").split(",") == list(tidy.COLUMNS)


def test_rerun_replaces_outputs_atomically_and_keeps_other_files(gradient_report, tmp_path):
    res, _, _ = gradient_report
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    report([res], out, log=lambda m: None)
    (out / "figures" / "stale.svg").write_text("<svg/>")
    report([res], out, log=lambda m: None)
    assert (out / "notes.txt").read_text() == "mine"
    assert not (out / "figures" / "stale.svg").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".report-tmp-")]


def test_empty_or_missing_directory_is_a_clear_error(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "manifest.json").write_text("{}")  # campaign files are not cells
    assert cli.main(["report", str(empty), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"no result files (Qnn-small.json / Qnn-large.json) under {empty}" in err
    assert cli.main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_bad_files_are_named_and_the_valid_ones_still_reported(tmp_path, capsys):
    res = tmp_path / "res"
    good = rf.write(res, [rf.cell(1, "Q1"), rf.cell(2, "Q1")])
    broken = good[0].parent.parent / "4g" / "Q1-small.json"
    broken.parent.mkdir()
    broken.write_text('{"status": "ok", ')
    bad_schema = good[0].parent / "Q2-small.json"
    r = rf.cell(1, "Q2")
    r["status"] = "fine"
    bad_schema.write_text(json.dumps(r))
    assert cli.main(["report", str(res), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert f"{broken}: invalid JSON" in out
    assert f"{bad_schema}: schema: status: 'fine' is not one of" in out
    assert "2 cells from 4 files: 2 ok" in out
    page = (tmp_path / "o" / "report.html").read_text()
    assert "2 result file(s) left out" in page and str(broken) in page and str(bad_schema) in page
    # a file valid JSON but failing the if/then rules: an ok cell without latencies
    r = rf.cell(1, "Q3")
    r["latencies_ms"] = []
    (good[0].parent / "Q3-small.json").write_text(json.dumps(r))
    loaded = load.load([res])
    assert any("Q3-small.json" in str(p) and "latencies_ms" in why for p, why in loaded.errors)


def test_only_bad_files_is_an_error_listing_them(tmp_path):
    res = tmp_path / "res" / "c" / "P1" / "1g"
    res.mkdir(parents=True)
    (res / "Q1-small.json").write_text("not json")
    with pytest.raises(BtbError, match=r"none of the 1 result files is valid:\n.*Q1-small.json: "
                                       r"invalid JSON"):
        load.load([tmp_path / "res"])


def test_mixed_fingerprints_are_separate_sections_with_a_message(tmp_path):
    a, b = tmp_path / "host-a", tmp_path / "host-b"
    rf.write(a, [rf.cell(1, "Q1"), rf.cell(2, "Q1")])
    rf.write(b, [rf.cell(1, "Q1", sha="b" * 64, host="host-b", p95=99.0),
                 rf.cell(2, "Q1", sha="b" * 64, host="host-b", p95=99.0)])
    r = report([a, b], tmp_path / "o", log=lambda m: None)
    assert "2 different datasets" in r.text and "never compared" in r.text
    page = (tmp_path / "o" / "report.html").read_text()
    assert page.count('<section id="tiny-1d-') == 2
    assert 'id="tiny-1d-aaaaaaaa"' in page and 'id="tiny-1d-bbbbbbbb"' in page
    assert "2 different datasets" in page
    # one curve per dataset: the 99 ms of dataset b never appears on dataset a's figure
    svg_a = (tmp_path / "o" / "figures" / "tiny-1d-aaaaaaaa-curve-Q1.svg").read_text()
    assert "host-b" not in svg_a
    assert {row["dataset_sha256"] for row in tidy.rows(load.load([a, b]).cells)} == {
        "a" * 64, "b" * 64}


def test_several_hosts_merge_and_duplicates_keep_the_latest(tmp_path):
    a, b = tmp_path / "host-a", tmp_path / "host-b"
    rf.write(a, [rf.cell(1, "Q1"), rf.cell(2, "Q1")])
    rf.write(b, [rf.cell(4, "Q1", host="host-b")])
    later = rf.cell(2, "Q1", p95=12.0)
    later["finished_at"] = "2026-11-23T11:00:00+00:00"
    rf.write(tmp_path / "rerun", [later])
    loaded = load.load([a, b, tmp_path / "rerun"])
    assert len(loaded.cells) == 3 and len(loaded.replaced) == 1
    kept = next(c for c in loaded.cells if c.result["ram"] == "2g")
    assert kept.result["stats"]["p95"] == 12.0
    [sec] = sections.split_by_dataset(loaded.cells, 1.2)
    assert [lv["ram"] for lv in sec.summaries[0]["levels"]] == ["1g", "2g", "4g"]
    assert not any("different hardware" in m for m in assemble.messages(loaded, [sec]))


def test_levels_split_across_unlike_hosts_are_flagged(tmp_path):
    a, b = tmp_path / "host-a", tmp_path / "host-b"
    rf.write(a, [rf.cell(1, "Q1"), rf.cell(1, "Q1", scenario="O1")])
    bigger = [rf.cell(4, "Q1", host="host-b"), rf.cell(4, "Q1", host="host-b", scenario="O1")]
    bigger[0]["provenance"]["host"]["cores"] = 16  # only P1's 4g ran on another kind of server
    rf.write(b, bigger)
    loaded = load.load([a, b])
    msgs = assemble.messages(loaded, sections.split_by_dataset(loaded.cells, 1.2))
    [m] = [m for m in msgs if "different hardware" in m]
    assert "RAM levels of P1 ran on hosts" in m and "O1" not in m


def test_threshold_below_one_is_refused(tmp_path):
    rf.write(tmp_path / "r", [rf.cell(1, "Q1")])
    with pytest.raises(BtbError, match="--threshold must be >= 1"):
        report([tmp_path / "r"], tmp_path / "o", threshold=0.5)
    with pytest.raises(BtbError, match="--noise-ms must be >= 0"):
        report([tmp_path / "r"], tmp_path / "o", noise_ms=-1)


def test_report_is_listed_in_the_help(capsys):
    with pytest.raises(SystemExit):
        cli.main(["report", "--help"])
    out = capsys.readouterr().out
    assert "--out" in out and "--threshold" in out and "RESULTS_DIR" in out


def test_html_is_self_contained(gradient_report):
    _, out, r = gradient_report
    page = (out / "report.html").read_text()
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)\s*=\s*"(?!#)', page), "only in-page links"
    assert "@import" not in page and not re.search(r"url\((?!#)", page)
    for name in r.figures:
        assert f'data-figure="{name}"' in page
    assert page.count("<svg") == len(r.figures)
    assert Path(out / "report.html").stat().st_size < 2_000_000


def test_unfinished_campaign_and_overlapping_dirs(tmp_path):
    res = tmp_path / "res"
    rf.write(res, [rf.cell(1, "Q1"), rf.cell(2, "Q1")])
    cdir = res / "c1"
    (cdir / "manifest.json").write_text(json.dumps(
        {"campaign": "c1", "cells": ["P1/1g/Q1-small", "P1/2g/Q1-small", "P1/4g/Q1-small"]}))
    (cdir / "progress.json").write_text(json.dumps({"state": "running", "done": 2, "total": 3}))
    loaded = load.load([res, cdir])  # the same files through two paths count once
    assert loaded.files_seen == 2 and not loaded.replaced
    assert any("1 of 3 planned cells have no result file yet (P1/4g/Q1-small)" in n
               for n in loaded.campaigns)
    assert any("progress.json says 'running'" in n for n in loaded.campaigns)
    r = report([res], tmp_path / "o", log=lambda m: None)
    assert "P1/4g/Q1-small" in r.text
    assert "P1/4g/Q1-small" in (tmp_path / "o" / "report.html").read_text()


def test_tidy_statistics_of_hybrid_and_cold_cells():
    r = rf.cell(1, "Q9", scenario="O2")
    r["split_ms"] = {"graph": 1.0, "transfer": 0.5, "timeseries": 2.0, "client": 0.1}
    r["cold"] = {"ms": 40.0, "restart_s": 1.5, "caches_dropped": True}
    r["protocol"]["cold"] = True
    store.validate(r)
    got = {k: (v, u) for k, v, u in tidy.statistics(r)}
    assert got["split_graph_ms"] == (1.0, "ms") and got["cold_ms"] == (40.0, "ms")
    assert got["cold_restart_s"] == (1.5, "s")
    failed = rf.cell(1, "Q9", "timeout", scenario="O2")
    got = {k: v for k, v, _ in tidy.statistics(failed)}
    assert all(got[s] is None for s in tidy.LATENCY_STATS)


def test_missing_report_extra_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    import btb.results

    rf.write(tmp_path / "r", [rf.cell(1, "Q1")])
    for mod in ("assemble", "html", "figures"):
        monkeypatch.delitem(sys.modules, f"btb.results.{mod}", raising=False)
        monkeypatch.delattr(btb.results, mod, raising=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(BtbError, match=r"needs the 'report' extra \(matplotlib is missing\)"):
        report([tmp_path / "r"], tmp_path / "o")


def test_load_table_shows_failed_loads_with_their_reason():
    cells = load.cells_of([rf.cell(1, "Q1", "load_failed", reason="COPY failed: out of memory"),
                           rf.cell(1, "Q2", "load_failed", reason="COPY failed: out of memory"),
                           rf.cell(2, "Q1"), rf.cell(2, "Q2", "oom")])
    [sec] = sections.split_by_dataset(cells, 1.2)
    rows = {r["ram"]: r for r in sections.loads(sec)}
    assert (rows["1g"]["status"], rows["1g"]["reason"]) == ("load_failed",
                                                            "COPY failed: out of memory")
    assert rows["1g"]["structure_s"] is None
    # an OOM in a query after a good load is not a load failure
    assert rows["2g"]["status"] == "loaded" and rows["2g"]["structure_s"] == 1.5
    assert rows["2g"]["structure_rate"] == pytest.approx(300 / 1.5)


def test_hybrid_split_table_and_figure(tmp_path):
    cells = []
    for ram in (1, 2):
        r = rf.cell(ram, "Q9", scenario="O2", p95=4.0)
        r["split_ms"] = {"graph": 1.0 * ram, "transfer": 0.2, "timeseries": 2.0, "client": 0.1}
        cells.append(r)
    cells.append(rf.cell(2, "Q1", scenario="O2"))  # direct: no split
    rf.write(tmp_path / "r", cells)
    r = report([tmp_path / "r"], tmp_path / "o", log=lambda m: None)
    [sec] = sections.split_by_dataset(load.load([tmp_path / "r"]).cells, 1.2)
    rows = sections.splits(sec)
    assert [(x["ram"], x["graph"]) for x in rows] == [("1g", 1.0), ("2g", 2.0)]
    assert "tiny-1d-aaaaaaaa-split" in r.figures
    fig = figures.split_figure(rows)  # only the largest level is drawn
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["O2 @ 2g Q9-small"]
    figures.plt.close(fig)
    assert "Hybrid queries: timing split" in (tmp_path / "o" / "report.html").read_text()


def test_efficiency_matrix_marks_ram_min():
    [sec] = sections.split_by_dataset(load.cells_of(rf.gradient()), 1.2)
    em = assemble.efficiency_matrix(sec.summaries, figures.axis_levels(sec.results))
    assert em["levels"] == ["0.5g", "1g", "2g", "4g"]
    p1 = next(r for r in em["rows"] if r["scenario"] == "P1")
    marked = [lbl for lbl, c in zip(em["levels"], p1["cells"]) if c["ram_min"]]
    assert marked == ["2g"]
    # 1 / geomean(p95 s) / GB at 2g: p95s 11 and 10.5 ms
    assert p1["cells"][2]["value"] == pytest.approx(1000 / math.sqrt(11.0 * 10.5) / 2)
    assert p1["cells"][0]["value"] is None  # an OOM at 0.5g: no efficiency, not a fast zero


def test_same_cells_from_several_hosts_are_flagged(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    rf.write(a, [rf.cell(1, "Q1"), rf.cell(2, "Q1")])
    rf.write(b, [rf.cell(1, "Q1", host="host-b", p95=30.0)])
    r = report([a, b], tmp_path / "o", log=lambda m: None)
    assert "scenario(s) P1 have the same cells measured on several hosts" in r.text
    page = (tmp_path / "o" / "report.html").read_text()
    assert re.search(r'<td class="ok" title="host-a: p95 10 ms[^"]*\nhost-b: p95 30 ms[^"]*">'
                     r"10 / 30</td>", page)


def test_query_inflections_per_query_of_one_configuration():
    from btb.results import analysis

    p1 = [r for r in rf.gradient() if r["scenario"] == "P1"]
    assert analysis.query_inflections(p1) == {("Q1", "small"): "2g", ("Q2", "small"): "1g"}
    # a looser threshold moves Q1's inflection down to 1g (15 <= 1.6 x 10)
    assert analysis.query_inflections(p1, 1.6)[("Q1", "small")] == "1g"
    only_unlimited = [rf.cell(None, "Q1")]
    assert analysis.query_inflections(only_unlimited) == {("Q1", "small"): None}


def test_minimal_valid_cells_do_not_break_the_report(tmp_path):
    """Only what the schema requires: no load, memory, host, answer or p95."""
    cells = []
    for ram, status in ((1, "ok"), (2, "oom"), (4, "skipped")):
        r = rf.cell(ram, "Q1", status)
        for key in ("load", "memory", "answer", "mode", "ts_engine", "ram_bytes", "unstable"):
            r.pop(key, None)
        r["provenance"].pop("host")
        r["provenance"].pop("git_commit")
        if status == "ok":
            r["stats"] = {}
            r["answer"] = {"checked": True, "matches_reference": True, "rows": 1,
                           "reference_rows": 1}
        store.validate(r)
        cells.append(r)
    rf.write(tmp_path / "r", cells)
    r = report([tmp_path / "r"], tmp_path / "o", log=lambda m: None)
    assert r.cells == 3
    page = (tmp_path / "o" / "report.html").read_text()
    assert "ok, no p95" in page and "No memory figures" in page
