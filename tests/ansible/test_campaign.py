"""campaign.yml and fetch.yml end to end against the SSH test host (local runtime, real engines).

The campaigns are small (tiny-1d, two RAM levels, PostgreSQL P1 and Oxigraph O1, a few queries)
to keep CI time reasonable; everything else is the real chain: provision, deploy the wheel into
a venv on the host, generate the dataset there, run btb as a detached job with cgroup limits,
poll, fetch, report.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.ansible import testhost
from tests.ansible.conftest import (
    ANSIBLE_PLAYBOOK,
    REPO,
    Run,
    ansible_env,
    btb_has_report,
    run_playbook,
    wipe_campaign,
)

pytestmark = [pytest.mark.ansible, pytest.mark.slow]

SMALL = ("-e", "profile=tiny-1d", "-e", "ram_levels=0.5,1", "-e", "scenarios=P1,O1",
         "-e", "btb_campaign_variants=small", "-e", "btb_campaign_n_warmup=1",
         "-e", "btb_campaign_n_runs=2", "-e", "btb_campaign_poll_delay=2")


def cells(campaign_dir: Path) -> dict[str, str]:
    """cell id -> status of every cell file of a fetched campaign."""
    out = {}
    for path in sorted(campaign_dir.glob("*/*/Q*.json")):
        rel = path.relative_to(campaign_dir)
        out[str(rel.with_suffix(""))] = json.loads(path.read_text())["status"]
    return out


def check_report(run: Run, controller: Path, name: str) -> None:
    """The report when `btb report` exists on the controller, else the documented failure."""
    if btb_has_report():
        assert run.returncode == 0, run.explain()
        assert (controller / f"{name}-report" / "report.html").is_file()
    else:
        # issue 5 (btb report) has not landed in this checkout: the role must say so clearly,
        # after the results were fetched
        assert run.returncode != 0
        assert "btb report` is not available" in run.output, run.explain()


def test_bad_variables_are_refused_before_anything_changes(test_host):
    cases = {
        "-e profile=huge-1d": ["btb_campaign_profile", "tiny-1d", "huge-1d"],
        "-e profile=tiny-1d -e ram_levels=0.5,100000": ["ram_levels", "100000", "host's memory"],
        "-e profile=tiny-1d -e scenarios=P1,X9": ["btb_campaign_scenarios", "X9"],
    }
    for extra, words in cases.items():
        run = run_playbook(test_host.inventory, "campaign.yml", *extra.split())
        assert run.returncode != 0, run.explain()
        for word in words:
            assert word in run.output, f"{extra}: {word!r} not in the error\n{run.explain()}"
        assert "PLAY [Provision btb hosts]" not in run.output, run.explain()
        assert run.recap()["testhost"]["changed"] == 0


def test_campaign_end_to_end(test_host, tmp_path):
    wipe_campaign(test_host, "e2e")
    controller = tmp_path / "controller"
    run = run_playbook(test_host.inventory, "campaign.yml", *SMALL,
                       "-e", "queries=Q1,Q7", "-e", "btb_campaign_name=e2e",
                       "-e", f"btb_campaign_controller_dir={controller}")
    fetched = controller / "testhost" / "e2e"
    got = cells(fetched)
    assert len(got) == 8, run.explain()  # P1 O1 x 0.5g 1g x Q1 Q7 (small)
    assert {c.split("/")[1] for c in got} == {"0.5g", "1g"}
    assert set(got.values()) == {"ok"}, got
    progress = json.loads((fetched / "progress.json").read_text())
    assert progress["state"] == "finished" and progress["done"] == progress["total"] == 8
    check_report(run, controller, "e2e")


def _two_host_inventory(host: testhost.TestHost, path: Path) -> Path:
    """The test host twice, as two machines with their own benchmark user (btbci, btbci2)."""
    text = testhost.inventory_text(host)
    block = text.split("    testhost:\n", 1)[1].split("  vars:", 1)[0]
    second = "    testhost2:\n" + block + "      btb_user: btbci2\n"
    path.write_text(text.replace("  vars:", second + "  vars:", 1))
    return path


def test_kill_controller_then_fetch_complete_results_from_two_hosts(test_host, tmp_path):
    """Two hosts split the RAM levels (0.5g on testhost, 1g on testhost2). ansible-playbook is
    killed (SIGKILL, its SSH connections with it) while it polls; the jobs go on; fetch.yml later
    collects every cell of both hosts and writes one report."""
    for user in ("btbci", "btbci2"):
        wipe_campaign(test_host, "killtest", user)
    inventory = _two_host_inventory(test_host, tmp_path / "two-hosts.yml")
    controller = tmp_path / "controller"
    # 10 runs per cell: long enough (tens of seconds) for the kill to land during the run
    slow = ("-e", "queries=Q1-Q13", "-e", "btb_campaign_n_runs=10")
    args = ["-i", str(inventory), "campaign.yml", *SMALL, *slow,
            "-e", "btb_campaign_name=killtest", "-e", f"btb_campaign_controller_dir={controller}"]
    log = tmp_path / "campaign.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(ANSIBLE_PLAYBOOK), *args], cwd=REPO, env=ansible_env(),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    jobs = [Path(f"/home/{u}/btb/campaigns/killtest") for u in ("btbci", "btbci2")]
    deadline = time.monotonic() + 600
    try:
        # kill as soon as ansible polls (both jobs launched)
        while "Wait for the campaign job" not in log.read_text():
            assert proc.poll() is None, log.read_text()[-4000:]
            assert time.monotonic() < deadline, log.read_text()[-4000:]
            time.sleep(0.2)
        running = [not (j / "job.rc").exists() for j in jobs]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # ansible-playbook, its workers and ssh clients
        proc.wait()
    assert all(running), f"a job had finished before the kill (too fast to test): {running}"
    pids = [int((j / "job.pid").read_text()) for j in jobs]
    time.sleep(2)
    for pid, job in zip(pids, jobs):
        assert Path(f"/proc/{pid}").exists(), f"the job of {job} died with the controller"
    fetch = run_playbook(inventory, "playbooks/fetch.yml", *SMALL, *slow,
                         "-e", "btb_campaign_name=killtest", "-e", "btb_campaign_fetch_wait=true",
                         "-e", f"btb_campaign_controller_dir={controller}")
    one = cells(controller / "testhost" / "killtest")
    two = cells(controller / "testhost2" / "killtest")
    # 2 scenarios x 13 queries x small, per level
    assert len(one) == len(two) == 26, fetch.explain()
    assert {c.split("/")[1] for c in one} == {"0.5g"}
    assert {c.split("/")[1] for c in two} == {"1g"}
    for host in ("testhost", "testhost2"):
        progress = json.loads((controller / host / "killtest" / "progress.json").read_text())
        assert progress["state"] == "finished", progress
    # a job killed with the SSH session would have left no exit status
    assert [(j / "job.rc").read_text().strip() for j in jobs] == ["0", "0"]
    check_report(fetch, controller, "killtest")
