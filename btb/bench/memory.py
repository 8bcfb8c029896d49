"""Per-phase memory of a scenario's servers, read from each server's own cgroup.

One `Meter` follows the servers of one scenario at one RAM level (the graph or relational server
as role `structure`, the TimescaleDB side of a hybrid as `timeseries`). `begin()` opens a phase,
`end()` closes it and returns what each server used during it:

- peak: the kernel's watermark, reset at `begin()` (root, or `sudo -n` on v1 through the sudoers
  rule the Ansible role installs). When the reset is refused the watermark would carry the load's
  peak into every query, so we sample `current` every 20 ms instead and say `sampled` — a peak
  shorter than the interval can be missed, which the method name lets a reader weigh.
- anon vs file: from memory.stat at the end of the phase. File pages are page cache the kernel
  may drop under pressure; anon is what the engine really holds.
- oom_kills: the cgroup's counter difference over the phase. It sees a killed backend child even
  when the server (or container) survives it, which docker's OOMKilled flag does not.

Servers without a cgroup (unmeasurable here) are reported with `peak_method: unavailable`.
"""

from __future__ import annotations

from btb.runtime.cgroup import MemoryCgroup, Sampler

SAMPLE_MS = 20


def _safe(f, default=None):
    try:
        return f()
    except (OSError, ValueError):  # the cgroup vanished with its server
        return default


class _Watch:
    def __init__(self, group: MemoryCgroup) -> None:
        self.group = group
        self.method: str | None = None  # decided on the first begin()
        self.oom0 = 0
        self.sampler: Sampler | None = None

    def begin(self, since_start: bool = False) -> None:
        # since_start: count kills from the cgroup's creation, so a server killed between its
        # start and the first phase (a level too small for it) is still seen
        self.oom0 = 0 if since_start else _safe(self.group.oom_kills, 0)
        if self.method != "sampled" and _safe(self.group.reset_peak, False):
            self.method = "reset"
            return
        self.method = "sampled"
        self.sampler = Sampler(self.group, SAMPLE_MS)
        self.sampler.start()

    def end(self) -> dict:
        if self.sampler is not None:
            peak = self.sampler.stop()
            self.sampler = None
        else:
            peak = _safe(self.group.peak)
        stat = _safe(self.group.stat, {})
        kills = _safe(self.group.oom_kills)
        return {"peak_bytes": peak, "current_bytes": _safe(self.group.current),
                "anon_bytes": stat.get("anon"), "file_bytes": stat.get("file"),
                "oom_kills": None if kills is None else max(0, kills - self.oom0)}


class Meter:
    def __init__(self, servers: dict[str, object], requested_bytes: int | None) -> None:
        self.requested = requested_bytes
        self.servers = servers
        self.watches = {role: _Watch(s.memory) for role, s in servers.items()
                        if getattr(s, "memory", None) is not None}
        # read back while the servers live: this is what the kernel enforces, not what we asked
        self.limits = {role: _safe(w.group.limit) for role, w in self.watches.items()}
        self.phases: dict[str, dict[str, dict]] = {role: {} for role in servers}

    def rebind(self, servers: dict[str, object]) -> None:
        """Follow restarted servers (new processes, new cgroups); earlier phases are kept."""
        self.servers = servers
        self.watches = {role: _Watch(s.memory) for role, s in servers.items()
                        if getattr(s, "memory", None) is not None}
        self.limits = {role: _safe(w.group.limit) for role, w in self.watches.items()}

    def begin(self, since_start: bool = False) -> None:
        for w in self.watches.values():
            w.begin(since_start)

    def end(self, phase: str) -> int:
        """Close the phase; returns the OOM kills it saw across all servers."""
        kills = 0
        for role, w in self.watches.items():
            figures = w.end()
            self.phases[role][phase] = figures
            kills += figures["oom_kills"] or 0
        return kills

    def report(self) -> dict:
        """The `memory` section of a result: per role, the limit read back and each phase."""
        out = {}
        for role in self.servers:
            w = self.watches.get(role)
            if w is None:
                out[role] = {"cgroup_version": None, "cgroup": None,
                             "requested_bytes": self.requested, "limit_bytes": None,
                             "peak_method": "unavailable",
                             "reason": "the server has no cgroup of its own here"}
                continue
            out[role] = {"cgroup_version": w.group.version, "cgroup": str(w.group.path),
                         "requested_bytes": self.requested,
                         "limit_bytes": self.limits[role],
                         "peak_method": w.method or "unavailable", **self.phases[role]}
        return out
