"""Fixtures for the Ansible tests: a real SSH test host (testhost.py) and playbook runs.

Playbooks run as subprocesses of the venv's ansible-playbook from the repository root (so
ansible.cfg applies), against the generated inventory of the test host.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ansible import testhost
from tests.conftest import need

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
ANSIBLE_PLAYBOOK = VENV_BIN / "ansible-playbook"
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)"
                   r"\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)", re.M)


@dataclass
class Run:
    args: list[str]
    returncode: int
    output: str

    def recap(self) -> dict[str, dict[str, int]]:
        """PLAY RECAP per host: {"testhost": {"ok": .., "changed": .., "failed": ..}}."""
        keys = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")
        return {m[0]: dict(zip(keys, map(int, m[1:]))) for m in RECAP.findall(self.output)}

    def task_status(self, task: str, host: str = "testhost") -> str | None:
        """ok / changed / skipping / failed / fatal of the last run of a task (default callback)."""
        status = None
        for block in self.output.split("\nTASK [")[1:]:
            title = block.split("]", 1)[0]
            if title.endswith(task):
                m = re.search(rf"^(ok|changed|skipping|failed|fatal): \[{re.escape(host)}\]",
                              block, re.M)
                status = m.group(1) if m else None
        return status

    def explain(self) -> str:
        return f"ansible-playbook {' '.join(self.args)} (exit {self.returncode}):\n" \
               f"{self.output[-6000:]}"


def ansible_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    env["ANSIBLE_FORCE_COLOR"] = "0"
    env["ANSIBLE_NOCOLOR"] = "1"
    env.pop("ANSIBLE_CONFIG", None)  # the repository's ansible.cfg (cwd)
    return env


def run_playbook(inventory: Path, playbook: str, *extra: str, timeout: float = 900) -> Run:
    args = ["-i", str(inventory), playbook, *extra]
    done = subprocess.run([str(ANSIBLE_PLAYBOOK), *args], cwd=REPO, env=ansible_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, check=False)
    return Run(args, done.returncode, done.stdout)


@pytest.fixture(scope="session")
def test_host(tmp_path_factory):
    """The private sshd on 127.0.0.2:2222, for the whole session (stopped after)."""
    need(ANSIBLE_PLAYBOOK.exists(), "ansible-playbook is missing: add the `ansible` extra "
         "(BTB_EXTRAS in scripts/setup.sh)")
    why = testhost.missing()
    need(why is None, why or "")
    host = testhost.start(tmp_path_factory.mktemp("testhost"))
    try:
        yield host
    finally:
        testhost.stop(host.dir)


def wipe_campaign(host: testhost.TestHost, name: str, user: str | None = None) -> None:
    """Forget a campaign on the test host (a previous session's job, results)."""
    home = Path("/home") / (user or host.bench_user) / "btb"
    for path in (home / "campaigns" / name, home / "results" / name):
        shutil.rmtree(path, ignore_errors=True)


def btb_has_report() -> bool:
    done = subprocess.run([str(VENV_BIN / "btb"), "report", "--help"], capture_output=True,
                          check=False)
    return done.returncode == 0
