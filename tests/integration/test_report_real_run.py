"""Issue 5's main check: `btb report` on the results of a real `btb run` on tiny-1d at two RAM
levels (P1, O1, F1 on the local runtime, each server in a memory cgroup): the tidy table holds
exactly the JSON files' figures, every figure is embedded in the HTML, and the report's RAM_min
agrees with the campaign's own summary.json."""

from __future__ import annotations

import json
import re

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from btb import cli
from btb.results import store, tidy
from btb.runtime import local
from tests.conftest import need

pytestmark = [pytest.mark.engines, pytest.mark.slow]
LEVELS = ("0.25", "1")


@pytest.fixture(scope="module")
def real_report(tiny_dataset, tmp_path_factory):
    # RAM levels need a memory cgroup per server (root, or a delegated cgroup)
    need(local.limits_supported() is None,
         f"memory limits on the local runtime: {local.limits_supported()}")
    tmp = tmp_path_factory.mktemp("real-report")
    res, out = tmp / "results", tmp / "report"
    rc = cli.main(["run", "--profile", "tiny-1d", "--scenarios", "P1", "O1", "F1",
                   "--ram", *LEVELS, "--root", str(tiny_dataset.parent), "--results", str(res),
                   "--n-warmup", "0", "--n-runs", "2"])
    assert rc == 0
    assert cli.main(["report", str(res), "--out", str(out)]) == 0
    return res, out


def test_tidy_rows_match_the_json_files(real_report, capsys):
    res, out = real_report
    files = store.cell_files(res)
    assert len(files) == 3 * 2 * 13 * 2  # scenarios x levels x queries x variants
    table = pq.read_table(out / "results.parquet")
    assert table.num_rows == pacsv.read_csv(out / "results.csv").num_rows
    rows = table.to_pylist()
    by_file: dict[str, dict] = {}
    for row in rows:
        by_file.setdefault(row["file"], {})[row["statistic"]] = row
    assert sorted(by_file) == sorted(p.as_posix() for p in files)
    for path in files:
        r = json.loads(path.read_text())
        got = by_file[path.as_posix()]
        for stat in tidy.LATENCY_STATS:
            want = r["stats"][stat] if r["status"] == "ok" else None
            assert got[stat]["value"] == (None if want is None else pytest.approx(want))
        row = got["p95"]
        for key in ("campaign", "profile", "scenario", "engine", "runtime", "ram", "ram_bytes",
                    "query", "variant", "status"):
            assert row[key] == r[key], (path, key)
        assert row["dataset_sha256"] == r["provenance"]["dataset"]["dataset_sha256"]
        assert row["host"] == r["provenance"]["host"]["hostname"]
        peak = r["memory"]["structure"]["query"]["peak_bytes"]
        if peak is not None:
            assert got["mem_structure_query_peak_bytes"]["value"] == peak
        assert got["load_structure_seconds"]["value"] == pytest.approx(
            r["load"]["structure"]["seconds"])
    assert {row["ram"] for row in rows} == {"0.25g", "1g"}


def test_html_embeds_every_figure(real_report):
    _, out = real_report
    page = (out / "report.html").read_text()
    svgs = sorted((out / "figures").glob("*.svg"))
    assert {p.stem for p in svgs} == {p.stem for p in (out / "figures").glob("*.png")}
    # 13 curves + efficiency + load + memory (the cgroups recorded anon/file)
    assert len(svgs) == 13 + 3
    for svg in svgs:
        text = svg.read_text()
        assert f'data-figure="{svg.stem}"' in page
        assert text[text.index("<svg"):] in page, f"{svg.name} is not embedded verbatim"
    assert page.count("<svg") == len(svgs)


def test_ram_min_agrees_with_the_campaign_summary(real_report):
    res, out = real_report
    [summary_file] = res.glob("*/summary.json")
    campaign = {c["scenario"]: c["ram_min"] for c in
                json.loads(summary_file.read_text())["configurations"]}
    page = (out / "report.html").read_text()
    assert set(campaign) == {"P1", "O1", "F1"}
    for scenario, ram_min in campaign.items():
        # the RAM_min table row: scenario, engine(s), runtime, levels, RAM_min
        m = re.search(rf'<tr><td class="l">{scenario}</td><td class="l">[^<]*</td>'
                      r'<td class="l">local</td>\s*<td class="l">0.25g, 1g</td>\s*'
                      r'<td class="(?:pass|nopass)">([^<]*)</td>', page)
        assert m, f"no RAM_min row for {scenario}"
        assert m.group(1) == (ram_min or "none passes")
