"""provision.yml against the SSH test host: idempotence, cgroup v1 refusal, sudoers rule, Docker.

This machine has cgroup v1, so the default (v2 required) must refuse it and the other runs pass
btb_allow_cgroup_v1=true (set in the test inventory).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.ansible.conftest import run_playbook
from tests.conftest import need

pytestmark = [pytest.mark.ansible, pytest.mark.slow]


def test_cgroup_v1_host_is_refused_with_the_fix(test_host):
    need(not Path("/sys/fs/cgroup/cgroup.controllers").exists()
         and Path("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists(),
         "this check needs a cgroup v1 host (this one has v2)")
    run = run_playbook(test_host.inventory, "playbooks/provision.yml",
                       "-e", "btb_allow_cgroup_v1=false")
    assert run.returncode != 0, run.explain()
    assert "cgroup v1 only" in run.output
    assert "systemd.unified_cgroup_hierarchy=1" in run.output
    assert "btb_allow_cgroup_v1=true" in run.output
    # refused by the checks, before any package, user or file was touched
    assert run.recap()["testhost"]["changed"] == 0, run.explain()
    assert run.task_status("Install the packages btb needs") is None


@pytest.fixture(scope="module")
def provisioned(test_host):
    """One provision.yml run shared by the tests below (the first of the two runs)."""
    first = run_playbook(test_host.inventory, "playbooks/provision.yml")
    assert first.returncode == 0, first.explain()
    return first


def test_provision_twice_second_run_changes_nothing(test_host, provisioned):
    second = run_playbook(test_host.inventory, "playbooks/provision.yml")
    assert second.returncode == 0, second.explain()
    assert second.recap()["testhost"]["changed"] == 0, second.explain()
    assert second.recap()["testhost"]["failed"] == 0


def _as_bench_user(user: str, command: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(["su", "-s", "/bin/bash", user, "-c", command], input=stdin,
                          capture_output=True, text=True, check=False, timeout=30)


@pytest.fixture
def v1_cgroup():
    """A root-owned memory cgroup, as docker would create one (v1 on this machine)."""
    path = Path("/sys/fs/cgroup/memory/btb-sudoers-test")
    path.mkdir(exist_ok=True)
    yield path
    path.rmdir()


def test_sudoers_allows_only_the_peak_reset_and_drop_caches(test_host, provisioned, v1_cgroup):
    user = test_host.bench_user
    peak = v1_cgroup / "memory.max_usage_in_bytes"
    ok = _as_bench_user(user, f"sudo -n /usr/bin/tee {peak}", "0")
    assert ok.returncode == 0, ok.stderr
    assert _as_bench_user(user, "sudo -n tee /proc/sys/vm/drop_caches", "1").returncode == 0
    # anything else is refused without a password prompt
    refused = {
        "sudo -n id": "",
        "sudo -n true": "",
        "sudo -n tee /etc/btb-sudoers-test": "x",
        # extra file argument: the glob form of the rule would have accepted this one
        f"sudo -n tee {peak} /etc/btb-sudoers-test": "x",
        f"sudo -n tee '{peak} /etc/btb-sudoers-test'": "x",
        f"sudo -n tee -a {peak}": "0",
        "sudo -n tee /sys/fs/cgroup/memory/../../../etc/memory.peak": "0",
        "sudo -n tee /proc/sys/vm/drop_caches /etc/btb-sudoers-test": "1",
    }
    for command, stdin in refused.items():
        done = _as_bench_user(user, command, stdin)
        assert done.returncode != 0, f"{command!r} was allowed"
    assert not Path("/etc/btb-sudoers-test").exists()
    assert not Path("/etc/memory.peak").exists()


def test_missing_docker_would_be_installed_and_a_running_dockerd_is_reused(test_host):
    """Honest scope: this machine has Docker Engine installed and one dockerd (owned by another
    process) that must stay the only one. So the role runs in check mode with the runtime set to
    docker, once with the daemon binary masked (`btb_host_dockerd` names a missing binary: the
    install task runs, in check mode) and once as is (the install is skipped); in both runs the
    daemon answers, so no second dockerd is started. apt's actual install of docker.io is not
    exercised here."""
    need(subprocess.run(["docker", "version"], capture_output=True, check=False).returncode == 0,
         "a running dockerd (scripts/docker.sh starts it) to show that it is reused")
    common = ("--check", "-e", "btb_runtime=docker")
    masked = run_playbook(test_host.inventory, "playbooks/provision.yml", *common,
                          "-e", "btb_host_dockerd=/nonexistent/dockerd")
    assert masked.returncode == 0, masked.explain()
    assert masked.task_status("Install Docker Engine (docker.io)") in ("ok", "changed"), \
        masked.explain()
    assert masked.task_status("Start dockerd directly (no systemd)") == "skipping"
    present = run_playbook(test_host.inventory, "playbooks/provision.yml", *common)
    assert present.returncode == 0, present.explain()
    assert present.task_status("Install Docker Engine (docker.io)") == "skipping"
    assert present.task_status("Start dockerd directly (no systemd)") == "skipping"
    assert present.task_status("Start Docker Engine with systemd") == "skipping"
