"""The local runtime: engine servers as child processes from binaries installed on this host.

Each engine has a launcher module `btb/runtime/launchers/<engine>.py` exposing
`start(spec: ServerSpec) -> Server`, raising `Unavailable` with an install hint when its binary
or package is missing. Memory limits (a cgroup per server, v1 or v2) arrive with the RAM issue;
`ServerSpec.ram_bytes` is already part of the interface.
"""

from __future__ import annotations

import importlib

from btb.errors import unknown_name
from btb.runtime.base import Server, ServerSpec

LAUNCHERS = ("postgres", "oxigraph", "falkordb", "memgraph")


class LocalRuntime:
    name = "local"

    def start(self, spec: ServerSpec) -> Server:
        if spec.engine not in LAUNCHERS:
            raise unknown_name("engine", spec.engine, LAUNCHERS)
        launcher = importlib.import_module(f"btb.runtime.launchers.{spec.engine}")
        spec.data_dir.mkdir(parents=True, exist_ok=True)
        return launcher.start(spec)
