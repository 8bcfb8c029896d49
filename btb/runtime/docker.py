"""The docker runtime: each engine server in a container with the RAM level as its memory limit.

Containers get `mem_limit` = `memswap_limit` = `spec.ram_bytes` (no swap beyond the limit; no
limit when None), the engine port published on 127.0.0.1 only with a random host port, the
server's data directory in an anonymous volume (engines load over the network, so nothing is
bind-mounted), and labels `btb.runtime=docker`, `btb.engine=<name>`. `start()` returns once the
engine itself answers (a query, not just an open port); a server that exits or stays silent
raises `StartFailed` with the container log's tail. `stop()` stops (the image's stop signal,
e.g. SIGINT = fast shutdown for PostgreSQL) and removes the container and its anonymous volumes.

Images come from `btb/config/images.py` (pinned official images, or the `BTB_IMAGES` override
with locally built ones). A missing image raises `Unavailable` (the scenario is `skipped` with
the hint); nothing is pulled implicitly, so a campaign never changes image mid-way. An
unreachable Docker Engine raises `BtbError` when the runtime is created (`btb run` fails fast).

Memory: `DockerServer.memory` is the container's memory cgroup (v1 or v2), found from the
container's main pid, for the monitor; `oom_killed()` is docker's State.OOMKilled. Seen here
(docker 20.10, cgroup v1): a killed PostgreSQL backend leaves the container running with
OOMKilled false but counts in the cgroup's oom_kill; a killed single-process server exits the
container, OOMKilled true, and the cgroup (with its counter) is deleted at once, which
`ContainerMemory.oom_kills()` makes up for.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from btb.config.images import Contract, load_images
from btb.errors import BtbError, unknown_name
from btb.runtime import containers
from btb.runtime.base import Endpoint, Server, ServerSpec, Unavailable
from btb.runtime.cgroup import MemoryCgroup, cgroup_version, own_cgroup
from btb.runtime.process import StartFailed

DEFAULT_HOST = "unix:///var/run/docker.sock"
START_HINT = ("start it with `bash scripts/docker.sh` (installs docker.io and starts dockerd "
              "when run as root), `systemctl start docker`, or point DOCKER_HOST at a running "
              "engine")


def connect(timeout_s: float = 10.0):
    """A docker SDK client for the engine named by the environment (DOCKER_HOST etc.), pinged.
    Raises BtbError naming the address and how to start an engine."""
    try:
        import docker
    except ImportError:
        raise BtbError("docker runtime: the `docker` Python package is missing; install btb "
                       "with its engines extra: pip install -e '.[engines]'") from None
    host = os.environ.get("DOCKER_HOST") or DEFAULT_HOST
    try:
        client = docker.from_env(timeout=int(timeout_s))
        client.ping()
    except Exception as e:  # noqa: BLE001 - DockerException, requests errors, OSError alike
        raise BtbError(f"docker runtime: Docker Engine not reachable at {host} "
                       f"({type(e).__name__}: {str(e)[:200]}); {START_HINT}") from None
    return client


def check(ram_levels: list[int | None]) -> None:
    """Refuse, before anything runs, an engine that is unreachable or cannot enforce the RAM
    levels (no memory cgroup; no swap limit while this host has swap to escape into)."""
    client = connect()
    try:
        if all(level is None for level in ram_levels):
            return
        info = client.info()
        where = os.environ.get("DOCKER_HOST") or DEFAULT_HOST
        if info.get("MemoryLimit") is False:
            raise BtbError(f"--ram: the Docker Engine at {where} cannot enforce memory limits "
                           f"(MemoryLimit false: no memory cgroup controller for it)")
        if info.get("SwapLimit") is False and _host_swap_bytes() > 0:
            raise BtbError(f"--ram: the Docker Engine at {where} cannot limit swap (SwapLimit "
                           f"false) and this host has swap, so a container could swap past "
                           f"its RAM level; enable swap accounting (cgroup v1: kernel option "
                           f"swapaccount=1) or turn swap off (swapoff -a)")
    finally:
        client.close()


def _host_swap_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("SwapTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def container_kwargs(engine: str, contract: Contract, launch: containers.Launch,
                     ram_bytes: int | None, name: str) -> dict:
    """Arguments of `client.containers.run()` (pure: unit-tested without an engine)."""
    from docker.types import Mount

    if ram_bytes is not None and ram_bytes <= 0:
        raise ValueError(f"RAM limit must be > 0 bytes, not {ram_bytes}")
    kw = {"name": name, "command": launch.command, "environment": dict(launch.environment),
          # ("127.0.0.1", None): loopback only, the engine picks a free host port
          "ports": {f"{contract.port}/tcp": ("127.0.0.1", None)},
          "labels": {"btb.runtime": "docker", "btb.engine": engine},
          # anonymous volume: removed with the container (remove(v=True))
          "mounts": [Mount(target=contract.data_dir, source=None, type="volume")],
          # a tiny init (docker-init) as PID 1 forwards the stop signal: a server running as
          # PID 1 gets no default signal actions (oxigraph ignored SIGTERM and every stop
          # waited for the 30 s kill)
          "init": True, "detach": True}
    if ram_bytes is not None:
        kw |= {"mem_limit": ram_bytes, "memswap_limit": ram_bytes}
    if launch.shm_size:
        kw["shm_size"] = launch.shm_size
    return kw


def published_port(attrs: dict, port: int) -> int:
    """The host port bound to `port`/tcp, which must be on 127.0.0.1 only."""
    bindings = (attrs.get("NetworkSettings", {}).get("Ports") or {}).get(f"{port}/tcp") or []
    hosts = {b.get("HostIp") for b in bindings}
    if not bindings or hosts != {"127.0.0.1"}:
        raise StartFailed(f"container port {port}/tcp is not published on 127.0.0.1 only: "
                          f"{bindings}")
    return int(bindings[0]["HostPort"])


class ContainerMemory(MemoryCgroup):
    """The container's memory cgroup, which docker deletes as soon as the container exits.

    When the OOM killer takes the server itself (a single-process engine: oxigraph, falkordb,
    memgraph), the container exits and its oom_kill counter vanishes with the cgroup before the
    monitor reads it. Docker keeps the fact as State.OOMKilled: `oom_kills()` then answers the
    last count it read plus one, so the monitor sees the kill whichever way it happened."""

    def __init__(self, path: Path, version: int, oom_killed: Callable[[], bool]) -> None:
        super().__init__(path, version)
        self._oom_killed = oom_killed
        self._last_kills = 0

    def oom_kills(self) -> int:
        try:
            self._last_kills = super().oom_kills()
        except OSError:
            if not self._oom_killed():
                raise
            return self._last_kills + 1
        return self._last_kills


@dataclass
class DockerServer:
    """A running engine container; `stop()` is idempotent."""

    container: object  # docker.models.containers.Container
    endpoint: Endpoint
    memory: MemoryCgroup | None = None
    info: dict = field(default_factory=dict)
    _stopped: bool = field(default=False, repr=False)

    def _state(self) -> dict:
        import docker

        try:
            self.container.reload()
        except docker.errors.NotFound:
            return {}
        except Exception:  # noqa: BLE001 - engine unreachable (dockerd died): the server is
            return {}      # lost with it; the next start() reports the engine's error
        return self.container.attrs.get("State", {})

    def alive(self) -> bool:
        return not self._stopped and self._state().get("Running", False)

    def oom_killed(self) -> bool:
        """Docker's State.OOMKilled: the container's main process was killed by the OOM killer."""
        return bool(self._state().get("OOMKilled", False))

    def log_tail(self, lines: int = 20) -> str:
        try:
            return self.container.logs(tail=lines).decode(errors="replace").rstrip()
        except Exception:  # noqa: BLE001 - the container may be gone
            return "(no log)"

    def stop(self, timeout_s: float = 30.0) -> None:
        import docker

        if self._stopped:
            return
        self._stopped = True
        if self.memory is not None:
            self.memory.close()  # docker removes the cgroup; we only hold a v2 peak descriptor
        try:
            self.container.stop(timeout=int(timeout_s))
        except docker.errors.NotFound:
            return
        except docker.errors.APIError:
            pass  # remove(force=True) below kills it
        try:
            self.container.remove(v=True, force=True)
        except docker.errors.NotFound:
            pass


class DockerRuntime:
    name = "docker"

    def __init__(self, images: dict[str, Contract] | None = None, client=None,
                 start_timeout_s: float = 120.0) -> None:
        self.images = images if images is not None else load_images()
        self.client = client or connect()
        self.docker_version = self.client.version().get("Version", "unknown")
        self.cgroup_version = cgroup_version()
        self.start_timeout_s = start_timeout_s

    @staticmethod
    def check(ram_levels: list[int | None] | None = None) -> None:
        """Raise BtbError unless a Docker Engine answers and can enforce the levels."""
        check(ram_levels or [])

    def restart(self, server: DockerServer) -> DockerServer:
        """Stop and start the same container on its data (cold runs): the volume stays, the
        server gets a new process, a new cgroup (same limit) and maybe a new host port."""
        server.container.restart(timeout=30)
        engine = server.container.labels["btb.engine"]
        contract = self.images[engine]
        launch = containers.Launch(None, {}, server.endpoint.user, server.endpoint.password,
                                   server.endpoint.database)
        fresh = DockerServer(server.container, dataclasses.replace(server.endpoint, port=0),
                             info=dict(server.info))
        try:
            self._wait_ready(fresh, engine, contract, launch)
            fresh.endpoint = dataclasses.replace(server.endpoint, port=fresh.endpoint.port)
            fresh.memory = self._memory(fresh)
            fresh.info["cgroup"] = str(fresh.memory.path) if fresh.memory else None
        except BaseException:
            fresh.stop(timeout_s=0)
            raise
        server._stopped = True  # the same container now belongs to `fresh`
        return fresh

    def reap_orphans(self) -> list[str]:
        """Remove containers left by a runner of this host that died (SIGKILL, lost session):
        each container is labelled with its runner's host and pid. Without this, a resumed
        campaign would run beside the old containers and share the host's RAM with them."""
        host = socket.gethostname()
        done = []
        for c in self.client.containers.list(all=True, filters={
                "label": ["btb.runtime=docker", f"btb.runner-host={host}"]}):
            pid = c.labels.get("btb.runner-pid", "")
            if not pid.isdigit() or _alive(int(pid)):
                continue
            c.remove(v=True, force=True)
            done.append(f"removed container {c.name} ({c.labels.get('btb.engine')}) of a dead "
                        f"runner (pid {pid})")
        return done

    def _image(self, engine: str, ref: str):
        import docker

        try:
            return self.client.images.get(ref)
        except docker.errors.ImageNotFound:
            raise Unavailable(
                f"docker image {ref} for {engine} is not on this Docker Engine; pull it "
                f"(`docker pull {ref}`), or build the local images (`bash scripts/docker.sh`) "
                f"and point BTB_IMAGES at docker/local/images.yml (memgraph has no local "
                f"image)") from None

    def start(self, spec: ServerSpec) -> Server:
        if spec.engine not in self.images:
            raise unknown_name("engine", spec.engine, self.images)
        contract = self.images[spec.engine]
        image = self._image(spec.engine, contract.image)
        launch = containers.launch(spec.engine, contract, spec.options, spec.ram_bytes)
        name = f"btb-{spec.engine}-{uuid.uuid4().hex[:10]}"
        kw = container_kwargs(spec.engine, contract, launch, spec.ram_bytes, name)
        kw["labels"] |= {"btb.runner-host": socket.gethostname(),
                         "btb.runner-pid": str(os.getpid())}  # for reap_orphans()
        t0 = time.monotonic()
        server = DockerServer(self.client.containers.run(image.id, **kw),
                              Endpoint("127.0.0.1", 0))
        try:
            self._wait_ready(server, spec.engine, contract, launch)
            version, extra = containers.describe(spec.engine, server.endpoint,
                                                 lambda: self._exec_version(server))
            server.endpoint = Endpoint("127.0.0.1", server.endpoint.port, launch.user,
                                       launch.password, launch.database, version,
                                       extra | self._store_dir(server, contract))
            server.memory = self._memory(server)
            server.info = self._info(server, contract, image, time.monotonic() - t0)
        except BaseException:
            server.stop(timeout_s=0)  # nothing to keep: kill at once (a server mid-initdb
            raise                     # may sit on SIGINT for the whole stop timeout)
        return server

    def _wait_ready(self, server: DockerServer, engine: str, contract: Contract,
                    launch: containers.Launch) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            state = server._state()
            if not state.get("Running"):
                raise StartFailed(f"{engine} container {server.container.name} exited "
                                  f"(status {state.get('ExitCode')}, OOMKilled "
                                  f"{state.get('OOMKilled')}) before it was ready; log:\n"
                                  f"{server.log_tail()}")
            if not server.endpoint.port:
                port = published_port(server.container.attrs, contract.port)
                server.endpoint = Endpoint("127.0.0.1", port, launch.user, launch.password,
                                           launch.database)
            if containers.ready(engine, server.endpoint):
                return
            if time.monotonic() > deadline:
                raise StartFailed(f"{engine} container {server.container.name} not ready after "
                                  f"{self.start_timeout_s:g} s; log:\n{server.log_tail()}")
            time.sleep(0.2)

    def _exec_version(self, server: DockerServer) -> str:
        """`<entrypoint or command[0]> --version` inside the container -> its last word."""
        cfg = server.container.attrs.get("Config", {})
        binary = (cfg.get("Entrypoint") or cfg.get("Cmd") or [None])[0]
        if not binary:
            return "unknown"
        code, out = server.container.exec_run([binary, "--version"])
        words = out.decode(errors="replace").split() if code == 0 else []
        return words[-1] if words else "unknown"

    def _store_dir(self, server: DockerServer, contract: Contract) -> dict:
        """The data volume's host directory when readable here (root): Oxigraph's data_size()."""
        for m in server.container.attrs.get("Mounts", []):
            source = m.get("Source", "")
            if m.get("Destination") == contract.data_dir and os.access(source, os.R_OK):
                return {"store_dir": source}
        return {}

    def _memory(self, server: DockerServer) -> MemoryCgroup | None:
        pid = server.container.attrs.get("State", {}).get("Pid")
        if not pid or self.cgroup_version is None:
            return None
        path = own_cgroup(self.cgroup_version, pid=pid)
        if path is None:
            return None
        return ContainerMemory(path, self.cgroup_version, server.oom_killed)

    def _info(self, server: DockerServer, contract: Contract, image, start_s: float) -> dict:
        host_cfg = server.container.attrs.get("HostConfig", {})
        digests = image.attrs.get("RepoDigests") or []
        return {"runtime": "docker", "image": contract.image, "image_id": image.id,
                "repo_digest": digests[0] if digests else None,
                "container_id": server.container.id, "docker_version": self.docker_version,
                "mem_limit": host_cfg.get("Memory") or None,
                "memswap_limit": host_cfg.get("MemorySwap") or None,
                "cgroup_version": self.cgroup_version,
                "cgroup": str(server.memory.path) if server.memory else None,
                "start_seconds": round(start_s, 3)}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
