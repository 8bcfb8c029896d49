"""btb_progress: print a campaign's progress while btb_campaign polls it.

The poll task (roles/btb_campaign/tasks/wait.yml) retries `poll.py` until the job ends; Ansible's
default output for a retry is only "FAILED - RETRYING ... (n retries left)". This notification
callback (it prints alongside the stdout callback) turns each retry whose stdout is poll.py's JSON
(it carries "btb_poll") into one line such as

    [btb] bench1: run 12/40 cells (30%), current P1/4g/Q03-small, ETA 4m10s

Enabled in ansible.cfg (callbacks_enabled); other tasks are ignored.
"""

from __future__ import annotations

import json

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: btb_progress
type: notification
short_description: print btb campaign progress during polling
description:
  - Prints one line per poll of a btb campaign job (roles/btb_campaign/tasks/wait.yml).
requirements:
  - enabled in ansible.cfg (callbacks_enabled = btb_progress)
"""


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


def progress_line(host: str, status: dict) -> str:
    phase = status.get("phase")
    progress = status.get("progress") or {}
    if phase == "run" and progress.get("total"):
        done, total = progress.get("done", 0), progress["total"]
        return (f"[btb] {host}: run {done}/{total} cells ({100 * done // total}%), "
                f"current {progress.get('current') or '-'}, ETA {_duration(progress.get('eta_s'))}")
    tail = (status.get("log_tail") or ["(no log yet)"])[-1]
    return f"[btb] {host}: {phase}: {tail[:160]}"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "btb_progress"
    CALLBACK_NEEDS_ENABLED = True

    def v2_runner_retry(self, result) -> None:
        try:
            status = json.loads(result._result.get("stdout") or "")
        except (TypeError, ValueError):
            return
        if isinstance(status, dict) and status.get("btb_poll"):
            self._display.display(progress_line(result._host.get_name(), status))
