"""The README's support table stays true: one row per registered engine, the scenarios each
engine serves, a local runtime exactly where a launcher exists, Memgraph marked not run here;
the Report section lists the tidy table's columns."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from btb.config.scenarios import SCENARIOS
from btb.engines.registry import ENGINES

pytestmark = pytest.mark.unit
README = Path(__file__).resolve().parents[2] / "README.md"


def _support_rows() -> dict[str, list[str]]:
    text = README.read_text()
    section = text.split("## Support", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("engine", "") and not cells[0].startswith("-"):
            rows[cells[0]] = cells
    return rows


def test_one_row_per_engine():
    assert sorted(_support_rows()) == sorted(ENGINES)


def test_scenarios_column_matches_the_scenario_table():
    rows = _support_rows()
    for name, cells in rows.items():
        listed = set(re.findall(r"\b[PMOF][12]\b", cells[1]))
        serves = {s.name for s in SCENARIOS.values()
                  if s.engine == name or s.ts_engine == name}
        assert listed == serves, f"{name}: README lists {listed}, scenarios say {serves}"


def test_local_runtime_column_matches_launchers():
    for name, cells in _support_rows().items():
        has_launcher = importlib.util.find_spec(f"btb.runtime.launchers.{name}") is not None
        assert cells[2].startswith(("yes", "when")) == has_launcher, name


def test_memgraph_is_marked_not_run_here():
    cells = _support_rows()["memgraph"]
    assert cells[4].startswith("no") and "BTB_MEMGRAPH_URI" in cells[4]


def test_docker_runtime_column_matches_pinned_images_and_local_images():
    """Every docker cell names the image pinned in btb/config/images.py; "yes" exactly where a
    local image (docker/local/<engine>/Dockerfile) lets the tests run it here."""
    from btb.config.images import IMAGES

    for name, cells in _support_rows().items():
        assert f"`{IMAGES[name].image}`" in cells[3], (name, cells[3])
        local = (README.parent / "docker" / "local" / name / "Dockerfile").is_file()
        assert cells[3].startswith("yes") == local, name


def test_report_section_lists_the_tidy_columns():
    from btb.results.tidy import COLUMNS, LATENCY_STATS

    section = README.read_text().split("## Report", 1)[1].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| `results.csv`"))
    listed = row.split("one row per cell × statistic: `", 1)[1].split("`", 1)[0].split()
    assert listed == list(COLUMNS)
    assert f"statistics `{' '.join(LATENCY_STATS)}`" in row
