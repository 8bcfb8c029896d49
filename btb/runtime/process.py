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
from btb.runtime.cgroup import MemoryCgroup


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
    memory: MemoryCgroup | None = None  # removed by stop(), once the processes are gone
    info: dict = field(default_factory=dict)
    spec: object | None = None  # the ServerSpec it was started from (set by the runtime)
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
        if self.memory is not None:
            try:
                self.memory.remove()
            except OSError:  # a straggler still attached: leave the empty-ish cgroup behind
                pass


def start_process(cmd: list[str], log: Path, endpoint: Endpoint,
                  ready: Callable[[], bool] | None = None, timeout_s: float = 60.0,
                  env: dict | None = None, preexec_fn: Callable[[], None] | None = None,
                  cwd: Path | None = None, cgroup: MemoryCgroup | None = None) -> ProcessServer:
    """Start `cmd` in a new process group, wait until `ready()` (default: port open).

    With `cgroup`, the child joins it before `preexec_fn` (which may drop root) and before exec,
    so the server and every process it forks are charged to and limited by that cgroup."""
    log.parent.mkdir(parents=True, exist_ok=True)
    pre = preexec_fn
    if cgroup is not None:
        procs = str(cgroup.path / "cgroup.procs")

        def pre() -> None:
            with open(procs, "w") as f:
                f.write("0")  # "0" = the writing process itself
            if preexec_fn is not None:
                preexec_fn()
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=env, preexec_fn=pre, cwd=cwd)
    server = ProcessServer(proc, endpoint, log, memory=cgroup,
                           info={"runtime": "local", "binary": str(cmd[0])})
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
