"""`btb doctor`: what this host can do for a campaign, each check with a fix when it fails.

Checks are plain functions returning `Check`s; a `fail` means the named runtime or scenario
cannot run here, a `warn` means it runs with less (sampled peaks, no cold runs, no TimescaleDB).
Nothing is changed on the host, except a probe cgroup created and removed to try the peak reset.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from btb.bench import provenance
from btb.config.profiles import DEFAULT_SEED, get_profile
from btb.runtime import cgroup as cg
from btb.runtime import local
from btb.runtime.launchers import falkordb, memgraph, oxigraph, postgres

# PostgreSQL P1 on small-2d (2.78 M readings): 243 MB of tables and indexes, ~87 B per reading —
# the largest of the stores, so the disk and page-cache need of one loaded scenario
BYTES_PER_ROW_LOADED = 90
DROP_CACHES = Path("/proc/sys/vm/drop_caches")


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str | None = None


def _sudo_allows(*argv: str) -> bool:
    """`sudo -n -l CMD` exits 0 when CMD may run without a password (nothing is executed)."""
    if shutil.which("sudo") is None:
        return False
    try:
        return subprocess.run(["sudo", "-n", "-l", *argv], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def check_cgroups() -> list[Check]:
    version = cg.cgroup_version()
    if version is None:
        return [Check("cgroup", "fail", "no memory cgroup controller under /sys/fs/cgroup",
                      "mount cgroup2 (or the v1 memory controller); RAM levels need it")]
    out = [Check("cgroup", "ok" if version == 2 else "warn", f"cgroup v{version}",
                 None if version == 2 else "benchmark hosts should boot with cgroup v2 "
                 "(systemd.unified_cgroup_hierarchy=1); v1 works for the local runtime")]
    why = local.limits_supported()
    parent = local.cgroup_parent()
    out.append(Check("local limits", "ok" if why is None else "fail",
                     f"server cgroups under {parent[0]}" if parent else why,
                     None if why is None else "run as root or delegate a cgroup subtree"))
    out.append(_peak_reset(version, parent))
    return out


def _peak_reset(version: int, parent) -> Check:
    if parent is not None:
        probe = None
        try:
            probe = cg.MemoryCgroup.create(parent[0].parent if not parent[0].exists()
                                           else parent[0], f"doctor-{os.getpid()}", version)
            if probe.reset_peak():
                return Check("peak reset", "ok", "memory peak can be reset between phases")
        except OSError as e:
            return Check("peak reset", "warn", f"probe cgroup failed: {e}")
        finally:
            if probe is not None:
                probe.remove()
    fix = ("v2: kernel >= 6.12 for memory.peak reset; v1: root, or the sudoers rule of the "
           "btb_host role (sudo -n tee memory.max_usage_in_bytes)")
    return Check("peak reset", "warn", "not permitted: per-phase peaks will be sampled", fix)


def check_drop_caches() -> Check:
    if os.access(DROP_CACHES, os.W_OK) or _sudo_allows("/usr/bin/tee", str(DROP_CACHES)):
        return Check("drop caches", "ok", f"{DROP_CACHES} writable (cold runs possible)")
    return Check("drop caches", "warn", "not permitted: cold runs keep the page cache",
                 "root, or the btb_host role's sudoers rule")


def check_engines() -> list[Check]:
    out = []
    bindir = postgres.find_bindir()
    if bindir is None:
        out.append(Check("postgres", "fail", "not found", postgres.INSTALL_HINT))
    else:
        ts = postgres.timescaledb_installed(bindir)
        out.append(Check("postgres", "ok" if ts else "warn",
                         f"{bindir}; TimescaleDB {'installed' if ts else 'absent'}",
                         None if ts else "hybrids use native daily partitions instead "
                         "(recorded as ts_layout); install timescaledb for hypertables"))
    binary = oxigraph.find_binary()
    out.append(Check("oxigraph", "ok", str(binary)) if binary else
               Check("oxigraph", "fail", "not found", oxigraph.INSTALL_HINT))
    files = falkordb.find_files()
    out.append(Check("falkordb", "ok", str(files[0].parent)) if files else
               Check("falkordb", "fail", "not found", falkordb.INSTALL_HINT))
    binary = memgraph.find_binary()
    out.append(Check("memgraph", "ok", str(binary)) if binary else
               Check("memgraph", "warn", "no local binary: M1/M2 run with --runtime docker "
                     "only", memgraph.INSTALL_HINT))
    return out


def check_docker() -> Check:
    try:
        import docker  # the SDK; never the CLI's text

        client = docker.from_env(timeout=5)
        version = client.version().get("Version", "?")
        client.close()
        return Check("docker", "ok", f"Docker Engine {version} reachable")
    except Exception as e:  # noqa: BLE001 - any failure means: not usable from here
        return Check("docker", "warn", f"not reachable ({type(e).__name__}): --runtime docker "
                     "unavailable", "install docker.io and start dockerd (the btb_host role "
                     "does both)")


def check_docker_images() -> list[Check]:
    """Each engine's image (pinned in btb/config/images.py, or from $BTB_IMAGES) on the engine:
    the docker runtime never pulls, so a missing one makes that engine's scenarios skipped."""
    from btb.config.images import load_images
    from btb.errors import BtbError

    try:
        images = load_images()
    except BtbError as e:
        return [Check("docker images", "fail", str(e), "fix or unset BTB_IMAGES")]
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
    except Exception:  # noqa: BLE001 - check_docker already says the engine is unreachable
        return []
    out = []
    for engine, contract in images.items():
        try:
            found = client.images.get(contract.image)
            out.append(Check(f"image {engine}", "ok", f"{contract.image} ({found.id[:19]})"))
        except docker.errors.ImageNotFound:
            out.append(Check(f"image {engine}", "warn",
                             f"{contract.image} is not on the engine: --runtime docker skips "
                             f"{engine}", f"docker pull {contract.image}, or where no registry "
                             f"is reachable: bash scripts/docker.sh and "
                             f"BTB_IMAGES=docker/local/images.yml"))
    client.close()
    return out


def check_resources(profile: str | None, root: Path, results: Path) -> list[Check]:
    host = provenance.host()
    out = [Check("host", "ok", f"{host['cores']} cores, "
                 f"{(host['ram_bytes'] or 0) / 2**30:.1f} GB RAM, kernel {host['kernel']}, "
                 f"Python {sys.version.split()[0]}")]
    if profile is None:
        return out
    from btb.dataset.estimate import estimate

    est = estimate(get_profile(profile), DEFAULT_SEED)
    loaded = est.rows * BYTES_PER_ROW_LOADED
    need = est.parquet_bytes + loaded
    for label, path in (("disk (datasets)", root), ("disk (results)", results)):
        anchor = next((p for p in [path, *path.parents] if p.exists()), Path("/"))
        free = shutil.disk_usage(anchor).free
        ok = free >= need
        out.append(Check(label, "ok" if ok else "fail",
                         f"{free / 2**30:.1f} GB free at {anchor}; {profile} needs ~"
                         f"{need / 2**30:.1f} GB (Parquet {est.parquet_bytes / 2**30:.2f} GB + "
                         f"a loaded engine ~{loaded / 2**30:.2f} GB)",
                         None if ok else "free space or point --root/--results elsewhere"))
    ram = host["ram_bytes"] or 0
    out.append(Check("RAM", "ok" if ram >= loaded else "warn",
                     f"{ram / 2**30:.1f} GB; the largest store of {profile} is ~"
                     f"{loaded / 2**30:.2f} GB, so RAM levels above that are in-memory runs",
                     None if ram >= loaded else "this host can only measure disk-bound levels"))
    return out


def run(profile: str | None, root: Path, results: Path) -> list[Check]:
    if profile is not None:
        get_profile(profile)  # a bad name fails before any probing
    return [*check_cgroups(), check_drop_caches(), *check_engines(), check_docker(),
            *check_docker_images(), *check_resources(profile, root, results)]


def as_dicts(checks: list[Check]) -> list[dict]:
    return [asdict(c) for c in checks]
