"""`btb campaign remote`: drive the Ansible playbooks through ansible-runner, events → progress.

The playbooks live in the repository (playbooks/, roles/, ansible.cfg), not in the wheel, so this
runs from a checkout (the default: the one this package was imported from) or with --repo.
ansible-runner runs ansible-playbook in the repository (so ansible.cfg applies) and hands every
event to `on_event`; three kinds become progress lines:

- a task start: `[task] Provision btb hosts / Install the packages btb needs`
- a retry of btb_campaign's poll task, whose stdout is poll.py's JSON: the campaign's progress
- a failure: the host and Ansible's message

Profiles, scenarios and RAM levels are checked by the playbook's argument specs (before anything
changes); only what this module itself needs (playbook, inventory, repository) is checked here.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from btb.errors import BtbError, unknown_name

PLAYBOOKS = {"campaign": "campaign.yml", "fetch": "playbooks/fetch.yml",
             "provision": "playbooks/provision.yml", "deploy": "playbooks/deploy.yml",
             "site": "playbooks/site.yml"}


@dataclass
class RemoteResult:
    status: str  # ansible-runner's: successful / failed / timeout / canceled
    rc: int
    failures: list[str]


def default_repo() -> Path:
    return Path(__file__).resolve().parents[2]


def check_repo(repo: Path) -> Path:
    repo = Path(repo).resolve()
    if not (repo / "ansible.cfg").is_file() or not (repo / "roles" / "btb_campaign").is_dir():
        raise BtbError(f"--repo {repo}: not a btb checkout (no ansible.cfg and roles/btb_campaign);"
                       " the playbooks are not part of the wheel, so run from a git clone of btb "
                       "or pass --repo /path/to/btb")
    return repo


def extravars(profile: str | None, ram: list[float] | None, scenarios: list[str] | None,
              queries: list[str] | None, name: str | None, extra: list[str]) -> dict:
    """The playbook variables, in the names the README uses on the ansible-playbook line."""
    out: dict = {}
    if profile:
        out["profile"] = profile
    if ram is not None:
        out["ram_levels"] = list(ram)
    if scenarios:
        out["scenarios"] = list(scenarios)
    if queries:
        out["queries"] = list(queries)
    if name:
        out["btb_campaign_name"] = name
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BtbError(f"-e {item!r}: expected KEY=VALUE (e.g. -e btb_campaign_poll_delay=10)")
        out[key] = value
    return out


def progress_line(event: dict) -> str | None:
    """One printable line for an ansible-runner event, or None for the events we do not show."""
    kind = event.get("event")
    data = event.get("event_data") or {}
    if kind == "playbook_on_task_start":
        return f"[task] {data.get('play', '')} / {data.get('task', '')}"
    if kind == "runner_retry":
        try:
            status = json.loads((data.get("res") or {}).get("stdout") or "")
        except (TypeError, ValueError):
            return None
        if not isinstance(status, dict) or not status.get("btb_poll"):
            return None
        host, progress = data.get("host", "?"), status.get("progress") or {}
        if status.get("phase") == "run" and progress.get("total"):
            eta = progress.get("eta_s")
            eta_text = "?" if eta is None else f"{int(eta) // 60}m{int(eta) % 60:02d}s"
            return (f"[btb] {host}: run {progress.get('done', 0)}/{progress['total']} cells, "
                    f"current {progress.get('current') or '-'}, ETA {eta_text}")
        tail = (status.get("log_tail") or ["(no log yet)"])[-1]
        return f"[btb] {host}: {status.get('phase')}: {tail[:160]}"
    if kind == "runner_on_failed" and not data.get("ignore_errors"):
        res = data.get("res") or {}
        return f"[failed] {data.get('host', '?')}: {data.get('task', '')}: {res.get('msg', '')}"
    if kind == "runner_on_unreachable":
        res = data.get("res") or {}
        return f"[unreachable] {data.get('host', '?')}: {res.get('msg', '')}"
    return None


def run_playbook(playbook: str, inventory: Path, variables: dict, repo: Path | None = None,
                 log: Callable[[str], None] = print) -> RemoteResult:
    import ansible_runner  # the `ansible` extra; imported here so btb works without it

    if playbook not in PLAYBOOKS:
        raise unknown_name("playbook", playbook, PLAYBOOKS)
    repo = check_repo(repo or default_repo())
    inventory = Path(inventory).resolve()
    if not inventory.is_file():
        raise BtbError(f"--inventory {inventory}: no such file (see inventory/example/hosts.yml)")
    failures: list[str] = []

    def on_event(event: dict) -> bool:
        line = progress_line(event)
        if line:
            log(line)
            if line.startswith(("[failed]", "[unreachable]")):
                failures.append(line)
        return False  # ansible-runner need not keep the events on disk

    # The ansible-playbook next to this Python (btb's venv), whether or not the venv is on PATH.
    # (Through PATH: ansible-runner's `binary` option drops the playbook from the command line.)
    bindir = Path(sys.executable).parent
    envvars = {"ANSIBLE_CONFIG": str(repo / "ansible.cfg"),
               "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}
    with tempfile.TemporaryDirectory(prefix="btb-runner-") as private:
        runner = ansible_runner.run(
            private_data_dir=private, project_dir=str(repo), playbook=PLAYBOOKS[playbook],
            inventory=str(inventory), extravars=variables, event_handler=on_event,
            quiet=True, envvars=envvars)
        if runner.rc != 0 and not failures:
            # failed before any task (bad option, unreadable inventory...): show Ansible's words
            for line in runner.stdout.read().splitlines()[-15:]:
                log(f"[ansible] {line}")
    return RemoteResult(runner.status, runner.rc, failures)
