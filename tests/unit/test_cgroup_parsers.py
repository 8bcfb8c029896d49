"""The cgroup parsers against v2 fixture files (kernel format) and the real files of this host.

The host tests read this process's own memory cgroup (from /proc/self/cgroup) at test time,
so they exercise whatever the kernel here writes (v1 on the project's machines, v2 elsewhere).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from btb.runtime import cgroup as cg

pytestmark = pytest.mark.unit

V2 = Path(__file__).parent / "fixtures" / "cgroup_v2"
HOST_VERSION = cg.cgroup_version()


def _v2(name: str) -> str:
    return (V2 / name).read_text()


# ------------------------------------------------------------------------------------ pure

@pytest.mark.parametrize("text, expected", [
    ("max\n", None),
    ("9223372036854771712\n", None),  # v1 unlimited, 4 KiB pages
    ("9223372036854710272\n", None),  # v1 unlimited, 64 KiB pages
    ("67108864\n", 64 << 20),
    ("0\n", 0),
])
def test_parse_limit(text, expected):
    assert cg.parse_limit(text) == expected


def test_parse_limit_rejects_garbage():
    with pytest.raises(ValueError):
        cg.parse_limit("lots\n")


def test_v2_fixture_limits_and_peak():
    assert cg.parse_limit(_v2("memory.max")) == 2 << 30
    assert cg.parse_limit(_v2("memory.max.unlimited")) is None
    assert int(_v2("memory.peak")) == 1 << 30


def test_v2_fixture_stat():
    stat = cg.parse_stat(_v2("memory.stat"), 2)
    assert stat["anon"] == 1048576000
    assert stat["file"] == 524288000
    assert stat["file_mapped"] == 104857600
    assert stat["pgmajfault"] == 412
    assert all(isinstance(v, int) for v in stat.values())
    assert len(stat) == len(_v2("memory.stat").splitlines())


def test_v2_fixture_events():
    events = cg.parse_events(_v2("memory.events"))
    assert events == {"low": 0, "high": 0, "max": 1843, "oom": 3, "oom_kill": 2,
                      "oom_group_kill": 0}


def test_v1_stat_without_hierarchy_totals():
    stat = cg.parse_stat("cache 4096\nrss 8192\nmapped_file 0\n", 1)
    assert (stat["anon"], stat["file"]) == (8192, 4096)


def test_parse_stat_rejects_unknown_version():
    with pytest.raises(ValueError):
        cg.parse_stat("anon 1\n", 3)


def test_parse_oom_control_old_kernel_has_no_oom_kill():
    assert cg.parse_oom_control("oom_kill_disable 0\nunder_oom 1\n") == {
        "oom_kill_disable": 0, "under_oom": 1}


def test_parse_proc_cgroup_both_versions():
    v1 = "9:name=systemd:/\n4:memory:/a/b\n3:cpu,cpuacct:/\n0::/\n"
    assert cg.parse_proc_cgroup(v1, 1) == "/a/b"
    assert cg.parse_proc_cgroup("0::/user.slice/x.scope\n", 2) == "/user.slice/x.scope"
    assert cg.parse_proc_cgroup("0::/\n", 1) is None


def test_version_detection_on_fake_trees(tmp_path):
    assert cg.cgroup_version(tmp_path) is None
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert cg.cgroup_version(tmp_path) == 1
    (tmp_path / "cgroup.controllers").write_text("cpu io memory pids\n")
    assert cg.cgroup_version(tmp_path) == 2


# ------------------------------------------------------------------------------------ host

@pytest.fixture(scope="module")
def host_cgroup() -> Path:
    if HOST_VERSION is None:
        pytest.skip("no memory cgroup hierarchy mounted under /sys/fs/cgroup")
    path = cg.own_cgroup(HOST_VERSION) or cg.memory_root(HOST_VERSION)
    if not (path / "memory.stat").exists():
        pytest.skip(f"{path} has no memory.stat")
    return path


def _raw(text: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in text.splitlines() if line)


@pytest.mark.skipif(HOST_VERSION != 1, reason="host is not cgroup v1")
def test_host_v1_files(host_cgroup):
    stat_text = (host_cgroup / "memory.stat").read_text()
    raw = _raw(stat_text)
    stat = cg.parse_stat(stat_text, 1)
    assert set(raw) <= set(stat)
    assert stat["anon"] == int(raw.get("total_rss", raw["rss"]))
    assert stat["file"] == int(raw.get("total_cache", raw["cache"]))

    oom = cg.parse_oom_control((host_cgroup / "memory.oom_control").read_text())
    assert {"oom_kill_disable", "under_oom"} <= set(oom)
    assert oom["under_oom"] in (0, 1)

    limit_text = (host_cgroup / "memory.limit_in_bytes").read_text()
    limit = cg.parse_limit(limit_text)
    if limit is None:
        assert int(limit_text) >= cg.UNLIMITED_THRESHOLD
    else:
        assert limit == int(limit_text) > 0
    hierarchical = cg.parse_limit(str(stat.get("hierarchical_memory_limit", "max")))
    if limit is not None and hierarchical is not None:
        assert hierarchical <= limit  # the effective limit is the smallest up the tree

    group = cg.MemoryCgroup(host_cgroup, 1)
    assert group.limit() == limit
    assert group.current() > 0
    assert group.stat()["anon"] >= 0
    assert group.oom_kills() >= 0


@pytest.mark.skipif(HOST_VERSION != 2, reason="host is not cgroup v2")
def test_host_v2_files(host_cgroup):
    stat_text = (host_cgroup / "memory.stat").read_text()
    stat = cg.parse_stat(stat_text, 2)
    assert stat["anon"] == int(_raw(stat_text)["anon"])
    assert "file" in stat
    if (host_cgroup / "memory.events").exists():
        assert "oom_kill" in cg.parse_events((host_cgroup / "memory.events").read_text())
    if (host_cgroup / "memory.max").exists():
        text = (host_cgroup / "memory.max").read_text()
        assert cg.parse_limit(text) == (None if text.strip() == "max" else int(text))
