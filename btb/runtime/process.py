"""Child-process servers for the local runtime: free ports, readiness waits, clean stops.

Engine launchers (btb/runtime/launchers/<engine>.py) build a command line and a readiness check;
this module runs it in its own process group with its output in a log file under the data dir,
so a failed start reports the log's tail and a stop never leaves a stray server behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from btb.runtime.base import Endpoint


class StartFailed(Exception):
    """The server process exited or never became ready; the message holds its log's tail."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@dataclass
class ProcessServer:
    """A server running as a child process group; `stop()` is idempotent."""

    proc: subprocess.Popen
    endpoint: Endpoint
    log: Path
    cgroup: Path | None = None
    on_stop: Callable[[], None] | None = None  # e.g. `pg_ctl stop` for a daemonised server
    _stopped: bool = field(default=False, repr=False)

    def alive(self) -> bool:
        return not self._stopped and self.proc.poll() is None

    def stop(self, timeout_s: float = 30.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.on_stop is not None:
            try:
                self.on_stop()
            except Exception:  # noqa: BLE001 - fall through to signals, the process must go
                pass
        for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(wait_s)
            except subprocess.TimeoutExpired:
                continue


def start_process(cmd: list[str], log: Path, endpoint: Endpoint,
                  ready: Callable[[], bool] | None = None, timeout_s: float = 60.0,
                  env: dict | None = None, preexec_fn: Callable[[], None] | None = None,
                  cwd: Path | None = None) -> ProcessServer:
    """Start `cmd` in a new process group, wait until `ready()` (default: port open)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env, preexec_fn=preexec_fn, cwd=cwd)
    server = ProcessServer(proc, endpoint, log)
    check = ready or (lambda: port_open(endpoint.host, endpoint.port))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StartFailed(f"{cmd[0]} exited with {proc.returncode} before it was ready; "
                              f"log {log}:\n{tail(log)}")
        if check():
            return server
        time.sleep(0.1)
    server.stop()
    raise StartFailed(f"{cmd[0]} not ready after {timeout_s:.0f} s; log {log}:\n{tail(log)}")
