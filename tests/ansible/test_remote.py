"""`btb campaign remote`: campaign.yml driven through ansible-runner, events printed as progress."""

from __future__ import annotations

import subprocess

import pytest

from tests.ansible.conftest import REPO, VENV_BIN, ansible_env, wipe_campaign

pytestmark = [pytest.mark.ansible, pytest.mark.slow]


def test_btb_campaign_remote_prints_progress_and_fetches(test_host, tmp_path):
    wipe_campaign(test_host, "remote")
    controller = tmp_path / "controller"
    cmd = [str(VENV_BIN / "btb"), "campaign", "remote", "--inventory", str(test_host.inventory),
           "--profile", "tiny-1d", "--ram", "1", "--scenarios", "P1", "--queries", "Q1-Q6",
           "--name", "remote", "-e", "btb_campaign_variants=small", "-e", "btb_campaign_n_runs=5",
           "-e", "btb_campaign_poll_delay=1", "-e", "btb_campaign_report=false",
           "-e", f"btb_campaign_controller_dir={controller}"]
    done = subprocess.run(cmd, cwd=REPO, env=ansible_env(), capture_output=True, text=True,
                          timeout=900, check=False)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-5000:]
    assert "[task] Check the campaign's variables / " in out
    assert "[btb] testhost: " in out, out[-5000:]  # at least one poll retry became a line
    assert "ansible-playbook campaign.yml: successful (rc 0)" in out
    assert len(list((controller / "testhost" / "remote" / "P1" / "1g").glob("Q*.json"))) == 6
