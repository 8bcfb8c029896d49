"""Memgraph as a local child process, when a `memgraph` binary is installed (Memgraph's .deb puts
it in /usr/lib/memgraph/memgraph); elsewhere the docker runtime runs the memgraph/memgraph image.

    memgraph --bolt-address=127.0.0.1 --bolt-port=P --data-directory=<data_dir>/data
             --storage-mode=IN_MEMORY_TRANSACTIONAL --storage-wal-enabled=false
             --storage-snapshot-on-exit=false --telemetry-enabled=false
             --log-file=<data_dir>/memgraph.log --also-log-to-stderr=true

In-memory transactional storage (Memgraph's default, the mode M1/M2 measure) with no
write-ahead log and no snapshot on exit: nothing but the in-memory graph is kept. Ready when
the Bolt port accepts connections. Boolean flags use `=` (Memgraph's gflags reads a separate
`false` as a stray argument).

`spec.options`: `query_timeout_s` -> `--query-execution-timeout-sec` (server-side fallback for
the per-transaction timeout the engine sends over Bolt); `extra_args` (list of str) are appended
(e.g. flags that differ between Memgraph versions).

Endpoint: version from `memgraph --version`; extra `binary`, `data_dir`.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

from btb.runtime.base import Endpoint, Server, ServerSpec, Unavailable
from btb.runtime.process import free_port, start_process

CANDIDATES = ("/usr/lib/memgraph/memgraph",)
INSTALL_HINT = ("no `memgraph` binary on PATH or in /usr/lib/memgraph; install Memgraph's .deb "
                "(https://memgraph.com/download) or use the docker runtime (image "
                "memgraph/memgraph); Memgraph cannot run on hosts without either")


def find_binary() -> Path | None:
    found = shutil.which("memgraph")
    if found:
        return Path(found)
    for c in CANDIDATES:
        if Path(c).is_file():
            return Path(c)
    return None


def binary_version(binary: Path) -> str:
    """`memgraph --version` prints e.g. 'memgraph version 2.19.0'; returns '2.19.0'."""
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.split()[-1] if out else "unknown"


def server_command(binary: Path, port: int, data_dir: Path, query_timeout_s: float | None = None,
                   extra_args: list[str] | None = None) -> list[str]:
    cmd = [str(binary), "--bolt-address=127.0.0.1", f"--bolt-port={port}",
           f"--data-directory={data_dir / 'data'}", "--storage-mode=IN_MEMORY_TRANSACTIONAL",
           "--storage-wal-enabled=false", "--storage-snapshot-on-exit=false",
           "--telemetry-enabled=false", f"--log-file={data_dir / 'memgraph.log'}",
           "--also-log-to-stderr=true"]
    if query_timeout_s:
        cmd.append(f"--query-execution-timeout-sec={max(1, math.ceil(query_timeout_s))}")
    return cmd + list(extra_args or [])


def start(spec: ServerSpec) -> Server:
    binary = find_binary()
    if binary is None:
        raise Unavailable(INSTALL_HINT)
    data_dir = spec.data_dir.resolve()
    (data_dir / "data").mkdir(parents=True, exist_ok=True)
    port = free_port()
    endpoint = Endpoint("127.0.0.1", port, version=binary_version(binary),
                        extra={"binary": str(binary), "data_dir": str(data_dir)})
    cmd = server_command(binary, port, data_dir, spec.options.get("query_timeout_s"),
                         spec.options.get("extra_args"))
    return start_process(cmd, data_dir / "memgraph.stderr.log", endpoint, cgroup=spec.cgroup)
