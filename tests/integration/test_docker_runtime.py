"""The docker runtime against a real Docker Engine and the local engine images: the memory limit
read back from the container's cgroup equals the request (memory and memory+swap), the port is
published on 127.0.0.1 only, `stop()` removes the container and its volume; containers pushed
past their limit get OOM kills that the runtime reports (a PostgreSQL backend while the
container lives; a FalkorDB container that dies with its cgroup); a failed or slow start says why
and leaves nothing behind; restart() keeps data and limit (cold runs); containers of a dead
runner are reaped."""

from __future__ import annotations

import time

import psycopg
import pytest

from btb.runtime import containers
from btb.runtime.base import ServerSpec, Unavailable
from btb.runtime.process import StartFailed
from tests.integration.docker_env import MiB, btb_containers, need_image

pytestmark = pytest.mark.docker
BUILDABLE = ("postgres", "oxigraph", "falkordb")


def _swap_limit(memory) -> int | None:
    """memory+swap as the kernel holds it: v1 memsw limit; v2 memory.max + memory.swap.max."""
    if memory.version == 1:
        return int((memory.path / "memory.memsw.limit_in_bytes").read_text())
    swap = (memory.path / "memory.swap.max").read_text().strip()
    return memory.limit() + (0 if swap == "max" else int(swap))


@pytest.mark.parametrize("engine", BUILDABLE)
def test_limit_ports_and_stop(docker_runtime, engine, tmp_path):
    import docker

    rt = docker_runtime
    need_image(rt, engine)
    limit = 192 * MiB
    server = rt.start(ServerSpec(engine, tmp_path, limit, {"query_timeout_s": 30}))
    try:
        assert server.alive() and not server.oom_killed()
        assert containers.ready(engine, server.endpoint)
        # the limit as the kernel holds it in the container's own cgroup
        assert server.memory is not None and server.container.id in str(server.memory.path)
        assert server.memory.limit() == limit
        assert _swap_limit(server.memory) == limit
        assert server.info["mem_limit"] == server.info["memswap_limit"] == limit
        assert server.info["image"] == rt.images[engine].image
        assert server.info["image_id"].startswith("sha256:")
        assert server.info["container_id"] == server.container.id
        # published on the loopback interface only, requested and effective
        attrs = server.container.attrs
        requested = [b for bs in attrs["HostConfig"]["PortBindings"].values() for b in bs]
        effective = [b for bs in attrs["NetworkSettings"]["Ports"].values() if bs for b in bs]
        assert requested and {b["HostIp"] for b in requested} == {"127.0.0.1"}
        assert effective and {b["HostIp"] for b in effective} == {"127.0.0.1"}
        assert server.endpoint.host == "127.0.0.1"
        assert server.endpoint.port == int(effective[0]["HostPort"])
        volumes = [m["Name"] for m in attrs["Mounts"] if m["Type"] == "volume"]
        assert volumes
    finally:
        server.stop()
    server.stop()  # idempotent
    assert not server.alive()
    with pytest.raises(docker.errors.NotFound):
        rt.client.containers.get(server.container.id)
    for name in volumes:
        with pytest.raises(docker.errors.NotFound):
            rt.client.volumes.get(name)
    assert not server.memory.path.exists()


def test_memgraph_without_its_image_is_unavailable(docker_runtime, tmp_path):
    import docker

    ref = docker_runtime.images["memgraph"].image
    try:
        docker_runtime.client.images.get(ref)
        pytest.skip(f"{ref} is present on this engine: nothing unavailable to check")
    except docker.errors.ImageNotFound:
        pass
    with pytest.raises(Unavailable, match=rf"{ref}.*docker pull.*scripts/docker.sh"):
        docker_runtime.start(ServerSpec("memgraph", tmp_path, 256 * MiB))


def test_failed_start_reports_the_log_and_leaves_nothing(docker_runtime, tmp_path):
    need_image(docker_runtime, "postgres")
    before = btb_containers(docker_runtime)
    spec = ServerSpec("postgres", tmp_path, 256 * MiB, {"settings": {"shared_buffers": "lots"}})
    with pytest.raises(StartFailed, match=r"(?s)exited.*shared_buffers"):
        docker_runtime.start(spec)
    assert btb_containers(docker_runtime) == before


def test_start_timeout_reports_the_log_and_leaves_nothing(docker_runtime, tmp_path):
    from btb.runtime.docker import DockerRuntime

    need_image(docker_runtime, "postgres")
    impatient = DockerRuntime(docker_runtime.images, docker_runtime.client, start_timeout_s=0.3)
    before = btb_containers(docker_runtime)
    with pytest.raises(StartFailed, match=r"(?s)postgres container btb-postgres-\w+ not ready "
                                          r"after 0.3 s; log:\n"):
        impatient.start(ServerSpec("postgres", tmp_path, 256 * MiB))
    assert btb_containers(docker_runtime) == before


def _wait_ready(engine: str, server, timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if containers.ready(engine, server.endpoint):
            return True
        time.sleep(0.5)
    return False


def test_postgres_past_its_limit_is_oom_killed_and_reported(docker_runtime, tmp_path):
    need_image(docker_runtime, "postgres")
    server = docker_runtime.start(ServerSpec("postgres", tmp_path, 128 * MiB))
    try:
        assert server.memory is not None
        kills = server.memory.oom_kills()
        e = server.endpoint
        conn = psycopg.connect(host=e.host, port=e.port, user=e.user, password=e.password,
                               dbname=e.database, autocommit=True)
        # a hash aggregate allowed 2 GB in a 128 MiB container: the kernel kills the backend
        conn.execute("SET work_mem = '2GB'")
        conn.execute("SET max_parallel_workers_per_gather = 0")
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT count(*) FROM (SELECT DISTINCT g, md5(g::text) "
                         "FROM generate_series(1, 50000000) g) s")
        conn.close()
        # the runtime reports it: the cgroup's counter (backend killed, container alive) or
        # docker's OOMKilled (the container's main process killed)
        assert server.memory.oom_kills() > kills or server.oom_killed()
        if server.alive():  # the postmaster survived: it recovers and answers again
            assert _wait_ready("postgres", server)
    finally:
        server.stop()
    assert not server.alive()


def test_single_process_server_killed_for_memory_is_reported(docker_runtime, tmp_path):
    """FalkorDB in 64 MiB creating millions of nodes: the kernel kills redis-server, the
    container exits and docker deletes its cgroup; the kill is still counted."""
    from btb.runtime.launchers.falkordb import resp

    need_image(docker_runtime, "falkordb")
    server = docker_runtime.start(ServerSpec("falkordb", tmp_path, 64 * MiB))
    try:
        kills = server.memory.oom_kills()
        with pytest.raises((ConnectionError, OSError)):
            resp(server.endpoint.host, server.endpoint.port, "GRAPH.QUERY", "g",
                 "UNWIND range(1, 5000000) AS i CREATE (:N {v: i, s: 'xxxxxxxxxxxxxxxxxxxxxxxx'})",
                 timeout=120)
        deadline = time.monotonic() + 10
        while server.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not server.alive() and server.oom_killed()
        assert not server.memory.path.exists()
        assert server.memory.oom_kills() == kills + 1
    finally:
        server.stop()


def test_containers_of_a_dead_runner_are_reaped(docker_runtime, tmp_path, monkeypatch):
    import subprocess

    import docker

    need_image(docker_runtime, "oxigraph")
    live = docker_runtime.start(ServerSpec("oxigraph", tmp_path / "live", 128 * MiB))
    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer runs (reaped above)
    monkeypatch.setattr("btb.runtime.docker.os.getpid", lambda: dead.pid)
    orphan = docker_runtime.start(ServerSpec("oxigraph", tmp_path / "orphan", 128 * MiB))
    monkeypatch.undo()
    try:
        lines = docker_runtime.reap_orphans()
        assert any(orphan.container.name in line for line in lines)
        with pytest.raises(docker.errors.NotFound):
            docker_runtime.client.containers.get(orphan.container.id)
        assert live.alive()
    finally:
        live.stop()
        orphan.stop()


@pytest.mark.parametrize("engine", ["postgres", "falkordb"])
def test_restart_keeps_the_data_and_the_limit(docker_runtime, engine, tmp_path):
    """Cold runs: the same container restarts on its data under the same limit."""
    from btb.runtime.launchers.falkordb import resp

    need_image(docker_runtime, engine)
    server = docker_runtime.start(ServerSpec(engine, tmp_path, 192 * MiB, {"keep_data": True}))
    e = server.endpoint
    pg = {"host": e.host, "port": e.port, "user": e.user, "password": e.password,
          "dbname": e.database, "autocommit": True}
    if engine == "postgres":
        with psycopg.connect(**pg) as conn:
            conn.execute("CREATE TABLE kept AS SELECT 42 AS answer")
    else:
        resp(e.host, e.port, "GRAPH.QUERY", "g", "CREATE (:Kept {answer: 42})")
    old_pid = server.container.attrs["State"]["Pid"]
    fresh = docker_runtime.restart(server)
    try:
        assert fresh.alive() and fresh.container.id == server.container.id
        assert fresh.container.attrs["State"]["Pid"] != old_pid
        assert fresh.memory.limit() == 192 * MiB
        e = fresh.endpoint
        if engine == "postgres":
            with psycopg.connect(**(pg | {"port": e.port})) as conn:
                assert conn.execute("SELECT answer FROM kept").fetchone() == (42,)
        else:
            reply = resp(e.host, e.port, "GRAPH.QUERY", "g", "MATCH (k:Kept) RETURN k.answer")
            assert reply[1] == [[42]]
        server.stop()  # a no-op: the container is fresh's now
        assert fresh.alive()
    finally:
        fresh.stop()
    assert not fresh.alive()
