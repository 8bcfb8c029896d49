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
