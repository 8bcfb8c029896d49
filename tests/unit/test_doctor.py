"""`btb doctor` on this very host: every check answers, and a bad profile is refused."""

from __future__ import annotations

import json

import pytest

from btb import cli

pytestmark = pytest.mark.unit


def test_doctor_reports_every_check_as_json(capsys, tmp_path):
    rc = cli.main(["doctor", "--profile", "tiny-1d", "--root", str(tmp_path), "--results",
                   str(tmp_path / "res"), "--json"])
    checks = json.loads(capsys.readouterr().out)
    names = {c["name"] for c in checks}
    assert {"cgroup", "local limits", "peak reset", "drop caches", "postgres", "oxigraph",
            "falkordb", "memgraph", "docker", "host", "disk (datasets)", "RAM"} <= names
    assert all(c["status"] in ("ok", "warn", "fail") for c in checks)
    assert all(c["fix"] for c in checks if c["status"] == "fail")
    assert rc == (1 if any(c["status"] == "fail" for c in checks) else 0)
    assert not (tmp_path / "res").exists()  # doctor changes nothing


def test_doctor_text_and_bad_profile(capsys, tmp_path):
    cli.main(["doctor", "--root", str(tmp_path)])
    out = capsys.readouterr().out
    assert "cgroup" in out and "peak reset" in out
    assert cli.main(["doctor", "--profile", "huge-1d"]) == 2
    assert "unknown scale 'huge'" in capsys.readouterr().err
