"""Memory cgroups, v1 and v2, behind one interface: limit, current, peak, anon/file, OOM kills.

The parsers (`parse_*`) are pure functions of a file's text so they can be unit-tested against
real files and fixtures; `MemoryCgroup` does the file I/O for one cgroup directory.

v2 peak reset: writing to `memory.peak` (kernel >= 6.12; the file itself exists from 5.19)
resets the watermark *for reads through the same file descriptor* only, so `reset_peak()` keeps
that descriptor open and `peak()` reads through it. A `sudo -n tee` cannot help there (the reset
would belong to tee's descriptor); it is tried for v1 only, where the reset is global. When no
reset is possible `reset_peak()` returns False and the caller samples with `Sampler` instead.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
# v1 "no limit" is LONG_MAX rounded down to the page size (9223372036854771712 with 4 KiB pages);
# anything this large is "unlimited" whatever the page size.
UNLIMITED_THRESHOLD = 1 << 62

V1_FILES = {"limit": "memory.limit_in_bytes", "swap_limit": "memory.memsw.limit_in_bytes",
            "current": "memory.usage_in_bytes", "peak": "memory.max_usage_in_bytes"}
V2_FILES = {"limit": "memory.max", "swap_limit": "memory.swap.max",
            "current": "memory.current", "peak": "memory.peak"}


def parse_limit(text: str) -> int | None:
    """memory.max / memory.limit_in_bytes -> bytes; None = unlimited ("max", v1's huge value)."""
    value = text.strip()
    n = UNLIMITED_THRESHOLD if value == "max" else int(value)
    return None if n >= UNLIMITED_THRESHOLD else n


def _key_values(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            try:
                out[parts[0]] = int(parts[1])
            except ValueError:
                continue
    return out


def parse_stat(text: str, version: int) -> dict[str, int]:
    """memory.stat -> {key: int}, with normalised `anon` and `file` (bytes) for both versions.

    v1 has no `anon`/`file`: they are total_rss/total_cache (hierarchical), else rss/cache."""
    if version not in (1, 2):
        raise ValueError(f"cgroup version must be 1 or 2, not {version!r}")
    stat = _key_values(text)
    if version == 1:
        for norm, names in (("anon", ("total_rss", "rss")), ("file", ("total_cache", "cache"))):
            for name in names:
                if name in stat:
                    stat[norm] = stat[name]
                    break
    return stat


def parse_events(text: str) -> dict[str, int]:
    """memory.events (v2): low, high, max, oom, oom_kill, oom_group_kill -> ints."""
    return _key_values(text)


def parse_oom_control(text: str) -> dict[str, int]:
    """memory.oom_control (v1): oom_kill_disable, under_oom, oom_kill (kernel >= 4.13)."""
    return _key_values(text)


def parse_proc_cgroup(text: str, version: int) -> str | None:
    """/proc/<pid>/cgroup -> the process's memory cgroup path relative to the hierarchy root."""
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if version == 2 and parts[0] == "0" and parts[1] == "":
            return parts[2]
        if version == 1 and "memory" in parts[1].split(","):
            return parts[2]
    return None


def cgroup_version(root: Path = CGROUP_ROOT) -> int | None:
    """2 for the unified hierarchy, 1 for a v1 memory controller, None when neither is mounted."""
    if (root / "cgroup.controllers").exists():
        return 2
    if (root / "memory" / V1_FILES["limit"]).exists():
        return 1
    return None


def memory_root(version: int, root: Path = CGROUP_ROOT) -> Path:
    """The root of the hierarchy holding the memory controller."""
    return root if version == 2 else root / "memory"


def own_cgroup(version: int, root: Path = CGROUP_ROOT, pid: int | str = "self") -> Path | None:
    """The memory cgroup directory of a process (None when not visible from here)."""
    try:
        rel = parse_proc_cgroup(Path(f"/proc/{pid}/cgroup").read_text(), version)
    except OSError:
        return None
    if rel is None:
        return None
    path = memory_root(version, root) / rel.lstrip("/")
    return path if path.is_dir() else None


def writable(version: int | None = None, root: Path = CGROUP_ROOT) -> bool:
    """Can we create memory cgroups under the hierarchy root?"""
    version = version or cgroup_version(root)
    return version is not None and os.access(memory_root(version, root), os.W_OK)


class MemoryCgroup:
    """One memory cgroup directory, v1 or v2."""

    def __init__(self, path: Path, version: int) -> None:
        if version not in (1, 2):
            raise ValueError(f"cgroup version must be 1 or 2, not {version!r}")
        self.path = Path(path)
        self.version = version
        self._files = V1_FILES if version == 1 else V2_FILES
        self._peak_fd: int | None = None  # v2: descriptor holding our peak reset

    @classmethod
    def create(cls, parent_root: Path, name: str, version: int | None = None) -> MemoryCgroup:
        """mkdir `parent_root/name` (parent_root: the memory hierarchy root, or a cgroup under it).

        v2: +memory is enabled in the parent's cgroup.subtree_control first if it is missing."""
        parent_root = Path(parent_root)
        version = version or (2 if (parent_root / "cgroup.controllers").exists() else 1)
        if version == 2:
            control = parent_root / "cgroup.subtree_control"
            if "memory" not in control.read_text().split():
                control.write_text("+memory")
        path = parent_root / name
        path.mkdir(exist_ok=True)
        return cls(path, version)

    def _read(self, name: str) -> str:
        return (self.path / name).read_text()

    def _write(self, name: str, value: str | int) -> None:
        (self.path / name).write_text(str(value))

    def set_limit(self, nbytes: int) -> None:
        """Memory limit, swap excluded (v2 memory.swap.max = 0; v1 memsw = the same limit)."""
        if nbytes <= 0:
            raise ValueError(f"memory limit must be > 0 bytes, not {nbytes}")
        if self.version == 2:
            self._write("memory.max", nbytes)
            if (self.path / "memory.swap.max").exists():
                self._write("memory.swap.max", 0)
            return
        # v1 requires memsw.limit >= limit at every step: raise memsw first when growing.
        memsw = self._files["swap_limit"]
        memsw = memsw if (self.path / memsw).exists() else None
        old = self.limit()
        growing = old is not None and nbytes > old
        order = [memsw, self._files["limit"]] if growing else [self._files["limit"], memsw]
        for name in order:
            if name is not None:
                self._write(name, nbytes)

    def limit(self) -> int | None:
        """The limit as the kernel holds it (v1 rounds down to the page size); None = unlimited."""
        return parse_limit(self._read(self._files["limit"]))

    def add_pid(self, pid: int) -> None:
        self._write("cgroup.procs", pid)

    def pids(self) -> list[int]:
        return [int(p) for p in self._read("cgroup.procs").split()]

    def current(self) -> int:
        return int(self._read(self._files["current"]))

    def peak(self) -> int | None:
        """Peak usage since creation or the last reset; None when the kernel has no such file."""
        if self._peak_fd is not None:
            return int(os.pread(self._peak_fd, 64, 0).decode())
        try:
            return int(self._read(self._files["peak"]))
        except FileNotFoundError:
            return None

    def reset_peak(self) -> bool:
        """Reset the peak to the current usage; False (never raises) when not permitted."""
        name = self.path / self._files["peak"]
        if self.version == 2:
            try:
                fd = os.open(name, os.O_RDWR)
            except OSError:
                return False
            try:
                os.write(fd, b"reset\n")
            except OSError:  # kernel < 6.12: memory.peak is read-only
                os.close(fd)
                return False
            self._close_peak_fd()
            self._peak_fd = fd
            return True
        try:
            name.write_text("0")
            return True
        except OSError:
            pass
        try:
            done = subprocess.run(["sudo", "-n", "tee", str(name)], input="0",
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  text=True, timeout=10, check=False)
            return done.returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False

    def stat(self) -> dict[str, int]:
        return parse_stat(self._read("memory.stat"), self.version)

    def oom_kills(self) -> int:
        """OOM kills in this cgroup (v1 kernels before 4.13: 1 while under OOM, else 0)."""
        if self.version == 2:
            return parse_events(self._read("memory.events")).get("oom_kill", 0)
        oom = parse_oom_control(self._read("memory.oom_control"))
        return oom["oom_kill"] if "oom_kill" in oom else oom.get("under_oom", 0)

    def remove(self, timeout_s: float = 10.0) -> None:
        """Move remaining processes to the parent cgroup, then rmdir (idempotent)."""
        self._close_peak_fd()
        if not self.path.exists():
            return
        parent = self.path.parent / "cgroup.procs"
        for pid in self.pids():
            try:
                parent.write_text(str(pid))
            except OSError:  # the process exited meanwhile
                pass
        for _ in range(max(1, int(timeout_s / 0.1))):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:  # EBUSY while exiting tasks are still attached
                time.sleep(0.1)
        self.path.rmdir()  # still busy: raise with the kernel's reason

    def close(self) -> None:
        """Release the descriptor a v2 peak reset keeps open (for cgroups we do not remove)."""
        self._close_peak_fd()

    def _close_peak_fd(self) -> None:
        if self._peak_fd is not None:
            os.close(self._peak_fd)
            self._peak_fd = None


class Sampler(threading.Thread):
    """Samples `cgroup.current()` every `interval_ms` and keeps the maximum (when the peak
    cannot be reset). Use as a context manager or start()/stop(); `max_bytes` is the result."""

    def __init__(self, cgroup: MemoryCgroup, interval_ms: int = 50) -> None:
        super().__init__(name=f"cgroup-sampler-{cgroup.path.name}", daemon=True)
        self.cgroup = cgroup
        self.interval_s = interval_ms / 1000
        self.max_bytes = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def sample(self) -> None:
        try:
            value = self.cgroup.current()
        except (OSError, ValueError):  # cgroup gone or being removed
            return
        self.samples += 1
        self.max_bytes = max(self.max_bytes, value)

    def run(self) -> None:
        self.sample()
        while not self._stop_event.wait(self.interval_s):
            self.sample()

    def stop(self) -> int:
        self._stop_event.set()
        if self.is_alive():
            self.join()
        self.sample()
        return self.max_bytes

    def __enter__(self) -> Sampler:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
