"""The local runtime: engine servers as child processes from binaries installed on this host.

Each engine has a launcher module `btb/runtime/launchers/<engine>.py` exposing
`start(spec: ServerSpec) -> Server`, raising `Unavailable` with an install hint when its binary
or package is missing.

Each server gets its own memory cgroup (v2 where the host has the unified hierarchy, else the v1
memory controller, as on this project's machines) under `<memory root>/btb/` or under
`$BTB_CGROUP_PARENT` (a delegated subtree for a non-root user). The launcher's process joins it
before exec, so the RAM level is the server's limit from its first byte, and the memory monitor
reads the same cgroup files the docker runtime gives it. Without a writable hierarchy the
server runs unmeasured (`Server.memory` None) — unless a limit was asked for: a RAM level that
cannot be enforced is refused, never silently ignored.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import os
import signal
from pathlib import Path

from btb.errors import BtbError, unknown_name
from btb.runtime import cgroup as cg
from btb.runtime.base import Server, ServerSpec, StartOOM

LAUNCHERS = ("postgres", "oxigraph", "falkordb", "memgraph")
PARENT_ENV = "BTB_CGROUP_PARENT"
_serial = itertools.count()


def cgroup_parent() -> tuple[Path, int] | None:
    """(directory under which server cgroups are created, cgroup version) or None."""
    version = cg.cgroup_version()
    if version is None:
        return None
    override = os.environ.get(PARENT_ENV)
    parent = Path(override) if override else cg.memory_root(version) / "btb"
    anchor = parent if parent.exists() else parent.parent
    return (parent, version) if os.access(anchor, os.W_OK) else None


def limits_supported() -> str | None:
    """None when the local runtime can enforce a RAM level here, else why not (and the fix)."""
    if cg.cgroup_version() is None:
        return "no cgroup memory controller is mounted under /sys/fs/cgroup"
    if cgroup_parent() is None:
        return (f"the memory cgroup hierarchy is not writable by this user; run as root, set "
                f"{PARENT_ENV} to a delegated cgroup, or use --runtime docker")
    return None


def check(ram_levels: list[int | None]) -> None:
    """Refuse, before anything runs, RAM levels this runtime cannot enforce."""
    if any(level is not None for level in ram_levels):
        why = limits_supported()
        if why:
            raise BtbError(f"--ram: the local runtime cannot enforce memory limits here: {why}")


class LocalRuntime:
    name = "local"

    def start(self, spec: ServerSpec) -> Server:
        if spec.engine not in LAUNCHERS:
            raise unknown_name("engine", spec.engine, LAUNCHERS)
        launcher = importlib.import_module(f"btb.runtime.launchers.{spec.engine}")
        spec.data_dir.mkdir(parents=True, exist_ok=True)
        group = self._cgroup(spec)
        try:
            server = launcher.start(dataclasses.replace(spec, cgroup=group))
        except BaseException as e:
            if group is None:
                raise
            kills = group.oom_kills()
            group.remove()
            if kills and isinstance(e, Exception):
                raise StartOOM(f"{spec.engine} was OOM-killed {kills} time(s) while starting "
                               f"under a {spec.ram_bytes}-byte limit: {e}") from e
            raise
        if group is not None and server.memory is None:  # launcher ignored it: don't leak it
            group.remove()
        server.spec = spec
        return server

    def restart(self, server: Server) -> Server:
        """Stop and start again on the same data (cold runs; the server must have been started
        with options["keep_data"]). A new process gets a new cgroup with the same limit."""
        server.stop()
        return self.start(server.spec)

    def _cgroup(self, spec: ServerSpec) -> cg.MemoryCgroup | None:
        found = cgroup_parent()
        if found is None:
            if spec.ram_bytes is not None:
                raise BtbError(f"cannot limit {spec.engine} to {spec.ram_bytes} bytes: "
                               f"{limits_supported()}")
            return None
        parent, version = found
        if not parent.exists():
            cg.MemoryCgroup.create(parent.parent, parent.name, version)
        name = f"{spec.engine}-{os.getpid()}-{next(_serial)}"
        group = cg.MemoryCgroup.create(parent, name, version)
        if spec.ram_bytes is not None:
            group.set_limit(spec.ram_bytes)
        return group

    def reap_orphans(self) -> list[str]:
        """Kill servers left by a runner that died (SIGKILL, lost session): their cgroups are
        named `<engine>-<runner pid>-<n>`; a runner pid that no longer exists marks them. Without
        this, a resumed campaign would run beside the old servers and share the host's RAM."""
        found = cgroup_parent()
        if found is None or not found[0].is_dir():
            return []
        parent, version = found
        done = []
        for d in sorted(p for p in parent.iterdir() if p.is_dir()):
            parts = d.name.rsplit("-", 2)
            if len(parts) != 3 or not parts[1].isdigit() or _alive(int(parts[1])):
                continue
            group = cg.MemoryCgroup(d, version)
            pids = group.pids()
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                group.remove()
            except OSError as e:
                done.append(f"orphan cgroup {d}: could not remove ({e})")
                continue
            done.append(f"reaped {len(pids)} process(es) of a dead runner (pid {parts[1]}) "
                        f"in {d}")
        return done


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
