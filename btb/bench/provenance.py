"""Provenance recorded in every result: btb version and commit, host, timestamps."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from functools import cache
from pathlib import Path

from btb import __version__


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@cache
def git_commit() -> str | None:
    """The commit btb was built from: $BTB_GIT_COMMIT (set by the Ansible deploy, whose hosts
    get a wheel, not a checkout), else `git rev-parse HEAD` beside the package."""
    if os.environ.get("BTB_GIT_COMMIT"):
        return os.environ["BTB_GIT_COMMIT"]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def _mem_total() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _cgroup_version() -> str:
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        return "v2"
    return "v1" if Path("/sys/fs/cgroup/memory").is_dir() else "unknown"


@cache
def host() -> dict:
    return {"hostname": platform.node(), "kernel": platform.release(),
            "machine": platform.machine(), "cpu": platform.processor() or None,
            "cores": os.cpu_count(), "ram_bytes": _mem_total(), "cgroup": _cgroup_version(),
            "python": platform.python_version()}


def base(dataset_fp: dict, dataset_name: str) -> dict:
    return {"dataset": {"name": dataset_name, "dataset_sha256": dataset_fp["dataset_sha256"],
                        "profile": dataset_fp["profile"], "seed": dataset_fp["seed"]},
            "btb_version": __version__, "git_commit": git_commit(), "host": host()}
