"""MemoryCgroup against the real kernel: limit read back, OOM kill counted, peak and its reset.

Written for this project's machines (cgroup v1, root); runs on v2 too (same interface). Skips
when the memory hierarchy is not writable here (not root, no delegation).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from btb.runtime import cgroup as cg
from tests.conftest import need

pytestmark = pytest.mark.engines

MiB = 1 << 20
LIMIT = 64 * MiB
# Waits for a line on stdin (so the test can add its pid to the cgroup first), then touches
# every page of N MiB (b"x" * n writes them; a calloc'd bytearray would stay unbacked).
CHILD = ("import sys, time; n = int(sys.argv[1]); sys.stdin.readline(); "
         "block = b'x' * (n << 20); print('allocated', flush=True); time.sleep(float(sys.argv[2]))")


@pytest.fixture
def group():
    version = cg.cgroup_version()
    need(version is not None and cg.writable(version),
         "needs a writable memory cgroup hierarchy (cgroup v1 memory controller or v2) "
         "under /sys/fs/cgroup: run as root or with a delegated cgroup")
    g = cg.MemoryCgroup.create(cg.memory_root(version), f"btb-test-{uuid.uuid4().hex[:8]}")
    try:
        yield g
    finally:
        g.remove()
    assert not g.path.exists()


def _start_in(group: cg.MemoryCgroup, mib: int, hold_s: float = 0.0) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(mib), str(hold_s)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    group.add_pid(proc.pid)  # before it allocates: it is blocked on stdin
    assert proc.pid in group.pids()
    return proc


def _page_rounded(n: int) -> int:
    page = os.sysconf("SC_PAGE_SIZE")
    return n // page * page


def test_limit_oom_kill_peak_and_reset(group):
    group.set_limit(LIMIT)
    assert group.limit() == _page_rounded(LIMIT)
    assert group.oom_kills() == 0

    proc = _start_in(group, 200)
    out, _ = proc.communicate("go\n", timeout=60)
    assert proc.returncode == -9, f"expected an OOM kill (SIGKILL), got {proc.returncode}: {out}"
    assert "allocated" not in out
    assert group.oom_kills() >= 1

    peak = group.peak()
    assert peak is not None
    assert 0.75 * LIMIT <= peak <= group.limit(), peak / MiB

    stat = group.stat()
    assert stat["anon"] >= 0 and stat["file"] >= 0

    reset = group.reset_peak()
    if group.version == 1:
        assert reset, "as root, writing 0 to memory.max_usage_in_bytes must succeed"
    if reset:
        assert group.peak() < LIMIT / 2  # back to the (small) current usage


def test_peak_after_reset_and_sampler(group):
    group.set_limit(LIMIT)
    group.set_limit(2 * LIMIT)  # raising a v1 limit must raise memsw first
    assert group.limit() == _page_rounded(2 * LIMIT)
    reset = group.reset_peak()
    with cg.Sampler(group, interval_ms=10) as sampler:
        proc = _start_in(group, 40, hold_s=1.0)
        out, _ = proc.communicate("go\n", timeout=60)
    assert proc.returncode == 0, out
    assert group.oom_kills() == 0
    assert sampler.samples > 10
    assert sampler.max_bytes >= 40 * MiB
    if reset:
        assert 40 * MiB <= group.peak() <= 2 * LIMIT


class _Server:
    def __init__(self, memory):
        self.memory = memory


def test_meter_samples_when_the_peak_cannot_be_reset(group, monkeypatch):
    """Without reset permission (v2 kernel < 6.12, non-root v1 without the sudoers rule) the
    monitor samples current usage: a 40 MiB allocation held for 0.5 s is seen, and said so."""
    from btb.bench.memory import Meter

    monkeypatch.setattr(cg.MemoryCgroup, "reset_peak", lambda self: False)
    group.set_limit(LIMIT)
    meter = Meter({"structure": _Server(group)}, LIMIT)
    meter.begin()
    proc = _start_in(group, 40, hold_s=0.5)
    out, _ = proc.communicate("go\n", timeout=60)
    assert "allocated" in out
    assert meter.end("query") == 0
    mem = meter.report()["structure"]
    assert mem["peak_method"] == "sampled"
    assert mem["limit_bytes"] == group.limit() and mem["requested_bytes"] == LIMIT
    assert 40 * MiB <= mem["query"]["peak_bytes"] <= LIMIT
