"""`btb` command line: help, profiles table, dataset listing."""

from __future__ import annotations

import pytest

from btb import __version__, cli
from btb.config.profiles import profile_names

pytestmark = pytest.mark.unit


def _exit_output(capsys, *argv: str) -> str:
    with pytest.raises(SystemExit) as e:
        cli.main(list(argv))
    assert e.value.code == 0
    return capsys.readouterr().out


def test_help_lists_the_subcommands(capsys):
    out = _exit_output(capsys, "--help")
    for command in ("generate", "profiles", "datasets"):
        assert command in out
    out = _exit_output(capsys, "datasets", "--help")
    for action in ("list", "verify", "extract", "push", "pull", "delete"):
        assert action in out
    out = _exit_output(capsys, "generate", "--help")
    for option in ("--seed", "--root", "--workers", "--force"):
        assert option in out


def test_version(capsys):
    assert _exit_output(capsys, "--version").strip() == f"btb {__version__}"


def test_missing_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main([])
    assert e.value.code == 2
    assert "usage: btb" in capsys.readouterr().err


def test_profiles_prints_every_profile(capsys):
    assert cli.main(["profiles"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split()
    assert header[:5] == ["profile", "buildings", "points", "ts", "rows"]
    rows = {line.split()[0]: line.split() for line in lines[2:] if line.strip()}
    for name in profile_names():
        assert name in rows, name
    assert rows["tiny-1d"][1] == "1" and rows["large-1y"][1] == "50"
    assert rows["tiny-1d"][2] == "219"  # exact point count of the tiny building


def test_datasets_list(tiny1d, capsys):
    capsys.readouterr()
    assert cli.main(["datasets", "list", "--root", str(tiny1d.root)]) == 0
    out = capsys.readouterr().out
    assert tiny1d.name in out and "tiny-1d" in out


def test_datasets_list_empty_root(tmp_path, capsys):
    assert cli.main(["datasets", "list", "--root", str(tmp_path / "empty")]) == 0
    assert "no datasets" in capsys.readouterr().out
