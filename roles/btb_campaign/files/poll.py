"""Print the campaign job's status as one JSON line (stdlib only; run with the host's venv).

    python poll.py JOB_DIR CAMPAIGN_DIR

{"btb_poll": 1, "phase": ..., "alive": bool, "rc": int|null, "progress": {...}|null,
 "log_tail": [...]}. `alive` checks that job.pid is a live run.sh; `rc` is the job's exit status
once it ended. progress.json is btb's own (state, done, total, current, eta_s, ...).
"""

import json
import sys
from pathlib import Path


def read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def alive(job: Path) -> bool:
    pid = (read(job / "job.pid") or "").strip()
    if not pid.isdigit():
        return False
    cmdline = read(Path(f"/proc/{pid}/cmdline")) or ""
    return "run.sh" in cmdline


def main() -> None:
    job, campaign = Path(sys.argv[1]), Path(sys.argv[2])
    rc = (read(job / "job.rc") or "").strip()
    try:
        progress = json.loads(read(campaign / "progress.json") or "null")
    except ValueError:  # never expected (btb writes it atomically); report rather than crash
        progress = None
    log = (read(job / "job.log") or "").splitlines()
    print(json.dumps({"btb_poll": 1, "phase": (read(job / "phase") or "none").strip(),
                      "alive": alive(job), "rc": int(rc) if rc.lstrip("-").isdigit() else None,
                      "progress": progress, "log_tail": log[-15:]}))


if __name__ == "__main__":
    main()
