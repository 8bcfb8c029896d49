"""Repository skeleton: the README's two commands, the CI entry and the DESIGN.md §2 layout."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]

# DESIGN.md §2, top-level layout.
TOP_LEVEL_DIRS = ["playbooks", "roles", "inventory", "btb", "queries", "docker", "tests", "bench"]
TEST_DIRS = ["unit", "contract", "workload", "integration", "ansible"]
TOP_LEVEL_FILES = ["ansible.cfg", "pyproject.toml", "README.md", ".ci/run"]


def first_fenced_block(markdown: str) -> list[str]:
    match = re.search(r"^```[^\n]*\n(.*?)^```", markdown, flags=re.M | re.S)
    assert match, "README.md has no fenced code block"
    return match.group(1).splitlines()


def commands(lines: list[str]) -> list[str]:
    """Lines with their trailing `# comment` and blank/comment-only lines removed."""
    stripped = (line.split("#", 1)[0].strip() for line in lines)
    return [line for line in stripped if line]


def test_readme_first_block_is_demo_and_tests():
    block = first_fenced_block((REPO / "README.md").read_text(encoding="utf-8"))
    assert commands(block) == ["bash scripts/demo.sh", "bash scripts/test.sh"]


def test_readme_commands_point_at_existing_scripts():
    for script in ("scripts/demo.sh", "scripts/test.sh", "scripts/setup.sh"):
        assert (REPO / script).is_file(), script


def test_ci_runs_test_script():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^\s*(exec\s+)?bash\s+scripts/test\.sh\b", ci, flags=re.M), ci


@pytest.mark.parametrize("name", TOP_LEVEL_DIRS)
def test_top_level_dir_exists(name):
    assert (REPO / name).is_dir(), f"missing top-level directory {name}/ (DESIGN.md §2)"


@pytest.mark.parametrize("name", TEST_DIRS)
def test_test_dir_exists(name):
    assert (REPO / "tests" / name).is_dir(), f"missing tests/{name}/ (DESIGN.md §2)"


@pytest.mark.parametrize("name", TOP_LEVEL_FILES)
def test_top_level_file_exists(name):
    assert (REPO / name).is_file(), f"missing {name} (DESIGN.md §2)"
