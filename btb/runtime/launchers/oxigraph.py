"""Oxigraph as a local child process: `oxigraph serve` from the `oxigraph` PyPI package.

The binary is looked up on PATH, then next to the running Python (a venv's bin/ is often not on
PATH). The store lives in `<data_dir>/store` (RocksDB), the server listens on 127.0.0.1 and a
free port; it is ready when `GET /` answers 200 (the server's HTML query page).

`spec.options`:
- `query_timeout_s`: passed as `--timeout-s`, Oxigraph's server-side cancellation of SPARQL
  queries. It is one value for the server's lifetime (no per-request timeout in the protocol),
  so the run loop passes its query timeout here; the engine module adds a client-side socket
  timeout per query. Whole seconds (rounded, at least 1). Oxigraph also uses it as its HTTP
  socket read/write timeout (else 60 s), so it must exceed the longest pause of a load stream
  (well under a second per chunk here): do not set it below a few seconds for real loads.

Endpoint.extra: `store_dir` (for `Engine.data_size()` and an offline `oxigraph load`),
`binary` (the oxigraph executable), `query_timeout_s` (None when the server has none).
"""

from __future__ import annotations

import http.client
import shutil
import subprocess
import sys
from pathlib import Path

from btb.runtime.base import Endpoint, Server, ServerSpec, Unavailable
from btb.runtime.process import free_port, start_process

INSTALL_HINT = ("the `oxigraph` server binary was not found on PATH or next to "
                f"{sys.executable}; install it with `pip install oxigraph` (or put the binary of "
                "an Oxigraph release on PATH)")


def find_binary() -> Path | None:
    found = shutil.which("oxigraph")
    if found:
        return Path(found)
    beside = Path(sys.executable).parent / "oxigraph"
    return beside if beside.is_file() else None


def binary_version(binary: Path) -> str:
    """`oxigraph --version` prints e.g. 'oxigraph 0.5.13'; returns '0.5.13'."""
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30,
                         check=True).stdout.strip()
    return out.split()[-1] if out else "unknown"


def answers(host: str, port: int) -> bool:
    conn = http.client.HTTPConnection(host, port, timeout=2)
    try:
        conn.request("GET", "/")
        resp = conn.getresponse()
        resp.read()
        return resp.status == 200
    except OSError:
        return False
    finally:
        conn.close()


def server_command(binary: Path, store: Path, port: int,
                   query_timeout_s: float | None = None) -> list[str]:
    cmd = [str(binary), "serve", "--location", str(store), "--bind", f"127.0.0.1:{port}"]
    if query_timeout_s:
        cmd += ["--timeout-s", str(max(1, int(round(query_timeout_s))))]
    return cmd


def start(spec: ServerSpec) -> Server:
    binary = find_binary()
    if binary is None:
        raise Unavailable(INSTALL_HINT)
    version = binary_version(binary)
    store = spec.data_dir.resolve() / "store"
    store.mkdir(parents=True, exist_ok=True)
    port = free_port()
    timeout = spec.options.get("query_timeout_s")
    endpoint = Endpoint("127.0.0.1", port, version=version,
                        extra={"store_dir": str(store), "binary": str(binary),
                               "query_timeout_s": timeout})
    return start_process(server_command(binary, store, port, timeout),
                         spec.data_dir / "oxigraph.log", endpoint,
                         ready=lambda: answers(endpoint.host, endpoint.port),
                         cgroup=spec.cgroup)
