"""`btb run` refuses bad input before starting anything: exit 2 and a message naming it."""

from __future__ import annotations

import shutil

import pytest

from btb import cli

pytestmark = pytest.mark.unit


@pytest.fixture()
def root(tiny_dataset):
    return str(tiny_dataset.parent)


def _run(capsys, root, tmp_path, *extra):
    argv = ["run", "--profile", "tiny-1d", "--root", root, "--results", str(tmp_path / "res")]
    rc = cli.main(argv + list(extra))
    return rc, capsys.readouterr().err


@pytest.mark.parametrize("extra, needle", [
    (["--scenarios", "P9"], "unknown scenario 'P9'; valid scenarios: F1, F2, M1, M2, O1, O2"),
    (["--scenarios", "P1", "--queries", "Q14"], "unknown query 'Q14'"),
    (["--scenarios", "P1", "--queries", "Q3-Q1"], "bad query range 'Q3-Q1'"),
    (["--scenarios", "P1", "--runtime", "kubernetes"], "unknown runtime 'kubernetes'"),
    (["--scenarios", "P1", "--variants", "huge"], "unknown variant 'huge'"),
    (["--scenarios", "P1", "--n-runs", "0"], "--n-runs must be >= 1"),
    (["--scenarios", "P1", "--ram", "0"], "--ram 0: a RAM level must be > 0 GB"),
    (["--scenarios", "P1", "--ram", "1", "-0.5"], "--ram -0.5: a RAM level must be > 0 GB"),
    (["--scenarios", "P1", "--ram", "100000"], "--ram 100000: above this host's memory"),
    (["--scenarios", "P1", "--ram", "1", "--bisect", "0.25"], "--bisect needs at least two"),
    (["--scenarios", "P1", "--ram", "1", "2", "--bisect", "0"], "--bisect 0: the resolution"),
    (["--scenarios", "P1", "--threshold", "0.9"], "--threshold 0.9: must be >= 1"),
    (["--scenarios", "P1", "--noise-ms", "-1"], "--noise-ms -1: must be >= 0"),
    (["--scenarios", "P1", "--load-timeout", "0"], "--load-timeout 0: must be > 0 seconds"),
])
def test_bad_names_are_refused(capsys, root, tmp_path, extra, needle):
    rc, err = _run(capsys, root, tmp_path, *extra)
    assert rc == 2 and needle in err
    assert not (tmp_path / "res" / "tiny-1d").exists()


def test_unknown_profile_and_missing_dataset(capsys, tmp_path):
    rc = cli.main(["run", "--profile", "tiny-9x", "--scenarios", "P1", "--root", str(tmp_path)])
    assert rc == 2 and "unknown duration '9x'" in capsys.readouterr().err
    rc = cli.main(["run", "--profile", "small-2d", "--scenarios", "P1", "--root", str(tmp_path),
                   "--results", str(tmp_path / "r")])
    assert rc == 2 and "btb generate small-2d" in capsys.readouterr().err


def test_results_dir_not_writable(capsys, root, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    rc = cli.main(["run", "--profile", "tiny-1d", "--scenarios", "P1", "--root", root,
                   "--results", str(blocker / "sub")])
    assert rc == 2 and "results directory" in capsys.readouterr().err


def test_dataset_failing_verify_is_refused(capsys, tiny_dataset, tmp_path):
    copy = tmp_path / "root"
    shutil.copytree(tiny_dataset.parent, copy)
    part = next((copy / tiny_dataset.name).glob("timeseries/*/*.parquet"))
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0xFF
    part.write_bytes(bytes(data))
    rc = cli.main(["run", "--profile", "tiny-1d", "--scenarios", "P1", "--root", str(copy),
                   "--results", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert rc == 2 and part.name in err


def test_ram_not_a_number_is_refused(capsys, root, tmp_path):
    rc, err = _run(capsys, root, tmp_path, "--scenarios", "P1", "--ram", "1", "lots")
    assert rc == 2 and "--ram 'lots': expected RAM levels in GB" in err and "--ram auto" in err


def test_auto_levels_bracket_the_largest_store():
    from btb.workflows.run import auto_levels

    quiet = []
    assert auto_levels(56_648, 24 << 30, quiet.append) == [0.125, 0.25]  # tiny-1d
    assert auto_levels(2_778_571, 24 << 30, quiet.append) == [0.125, 0.25, 0.5]  # small-2d
    assert auto_levels(30_000_000, 24 << 30, quiet.append) == [0.25, 0.5, 1, 2, 4]
    assert auto_levels(346_000_000, 24 << 30, quiet.append) == [2, 4, 8, 16]
    assert quiet == ["--ram auto: dropping 32, 64 GB, above this host's 24.0 GB"]
    assert auto_levels(346_000_000, None, quiet.append) == [2, 4, 8, 16, 32, 64]


def test_limits_the_local_runtime_cannot_enforce_are_refused(capsys, root, tmp_path,
                                                             monkeypatch):
    # a hierarchy we cannot write (non-root without delegation) must not run "limited" cells
    monkeypatch.setattr("btb.runtime.local.cgroup_parent", lambda: None)
    rc, err = _run(capsys, root, tmp_path, "--scenarios", "P1", "--ram", "1")
    assert rc == 2 and "local runtime cannot enforce memory limits here" in err
    assert "--runtime docker" in err


def test_default_load_timeout_scales_with_the_profile():
    from btb.workflows.run import default_load_timeout

    assert default_load_timeout(56_648) == 600  # tiny-1d: the 10 min floor
    assert default_load_timeout(371_703_606) == pytest.approx(18_585, abs=1)  # medium-1m: ~5 h
