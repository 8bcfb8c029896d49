"""The runtime interface: how an engine server is started, reached, measured and stopped.

A runtime turns a `ServerSpec` (which engine, which RAM limit, where its data lives) into a
running server and an `Endpoint` the engine module connects to. The local runtime starts child
processes from installed binaries, each in its own memory cgroup; the docker runtime starts
containers with `mem_limit` = `memswap_limit`. Both expose the server's cgroup as
`Server.memory` so the monitor (btb/bench/memory.py) reads the same figures whatever started
it. A missing binary or image raises `Unavailable` with an install hint: the run loop records
the scenario as `skipped` with that reason, never crashes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from btb.runtime.cgroup import MemoryCgroup


class Unavailable(Exception):
    """The engine cannot run with this runtime here; the message says how to install it."""


class StartOOM(Exception):
    """The server was OOM-killed before it was ready: its RAM level is too small to start it."""


@dataclass(frozen=True)
class ServerSpec:
    engine: str  # registry name: postgres, oxigraph, falkordb, memgraph
    data_dir: Path  # private, empty directory for the server's files
    ram_bytes: int | None = None  # memory limit; None = no limit
    options: dict = field(default_factory=dict)
    # set by the local runtime: launchers start their server process inside it (before exec, so
    # every byte the server allocates is charged to it and limited by it)
    cgroup: MemoryCgroup | None = None


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    database: str | None = None
    version: str | None = None  # server version string, recorded in results
    extra: dict = field(default_factory=dict)  # e.g. {"timescaledb": False}


class Server(Protocol):
    endpoint: Endpoint
    memory: MemoryCgroup | None  # the server's own memory cgroup (None: not measurable here)
    info: dict  # runtime facts recorded in results: image and digest, container id, binary…

    def alive(self) -> bool: ...

    def stop(self) -> None: ...


class Runtime(Protocol):
    name: str

    def start(self, spec: ServerSpec) -> Server: ...
