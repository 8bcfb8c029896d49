"""The docker runtime's configuration without a Docker Engine: compose.yml follows the pinned
images and the runtime's commands, the image override file is checked, the container arguments
(memory and swap limit, loopback ports) are built as intended, and an unreachable engine is a
clear BtbError (also through `btb run`, exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from btb import cli
from btb.config.images import IMAGES, Contract, load_images, parse_overrides
from btb.errors import BtbError
from btb.runtime import containers
from btb.runtime.base import ServerSpec
from btb.runtime.docker import DockerRuntime, connect, container_kwargs, published_port
from btb.runtime.launchers import memgraph as mg_launcher
from btb.runtime.launchers import oxigraph as ox_launcher
from btb.runtime.launchers import postgres as pg_launcher
from btb.runtime.process import StartFailed

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker" / "compose.yml").read_text())["services"]
LOCAL_IMAGES = REPO / "docker" / "local" / "images.yml"
MiB = 1 << 20


# -- compose.yml = the config -------------------------------------------------------------------
def test_compose_has_exactly_the_pinned_images():
    assert {name: s["image"] for name, s in COMPOSE.items()} == \
        {name: c.image for name, c in IMAGES.items()}


def test_pinned_images_have_explicit_tags():
    for name, c in IMAGES.items():
        repo, _, tag = c.image.rpartition(":")
        assert repo and tag and tag != "latest" and "/" not in tag, (name, c.image)


@pytest.mark.parametrize("engine", sorted(IMAGES))
def test_compose_ports_are_loopback_on_the_contract_port(engine):
    port = IMAGES[engine].port
    assert COMPOSE[engine]["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert COMPOSE[engine]["mem_limit"] == COMPOSE[engine]["memswap_limit"]


@pytest.mark.parametrize("engine", sorted(IMAGES))
def test_compose_command_is_the_runtimes(engine):
    launch = containers.launch(engine, IMAGES[engine], {"query_timeout_s": 60}, None)
    assert COMPOSE[engine].get("command") == launch.command


def test_compose_postgres_environment_is_the_runtimes():
    env = containers.launch("postgres", IMAGES["postgres"], {}, None).environment
    expected = {k: v for k, v in env.items() if k not in ("POSTGRES_PASSWORD", "PGDATA")}
    compose = {k: v for k, v in COMPOSE["postgres"]["environment"].items()
               if k != "POSTGRES_PASSWORD"}
    assert compose == expected


# -- the container launches follow the local launchers ------------------------------------------
def test_postgres_settings_match_the_local_launcher():
    opts = {"shared_buffers": "1GB", "settings": {"work_mem": "64MB"}}
    spec = ServerSpec("postgres", Path("/nonexistent"), options=opts)
    local = pg_launcher._settings(spec, Path("/p"), 5432, timescaledb=False)
    docker = containers.postgres_settings(opts)
    shared = set(local) & set(docker)
    assert {"shared_buffers", "max_wal_size", "jit", "timezone", "work_mem"} <= shared
    assert {k: docker[k] for k in shared - {"listen_addresses"}} == \
        {k: local[k] for k in shared - {"listen_addresses"}}
    assert docker["listen_addresses"] == "*"  # inside the container; published on 127.0.0.1


@pytest.mark.parametrize("timeout", [None, 0.4, 2.5, 60])
def test_oxigraph_timeout_matches_the_local_launcher(timeout):
    local = ox_launcher.server_command(Path("oxigraph"), Path("/s"), 1, timeout)
    cmd = containers.launch("oxigraph", IMAGES["oxigraph"], {"query_timeout_s": timeout},
                            None).command
    tail = lambda c: c[c.index("--timeout-s"):] if "--timeout-s" in c else []  # noqa: E731
    assert tail(cmd) == tail(local)


def test_memgraph_flags_match_the_local_launcher():
    local = mg_launcher.server_command(Path("memgraph"), 1, Path("/d"), 7.5, ["--x=1"])
    cmd = containers.launch("memgraph", IMAGES["memgraph"],
                            {"query_timeout_s": 7.5, "extra_args": ["--x=1"]}, None).command
    keep = ("--storage", "--telemetry", "--query-execution", "--x")
    assert [a for a in cmd if a.startswith(keep)] == [a for a in local if a.startswith(keep)]


def test_falkordb_command_keeps_no_persistence_and_module_args():
    cmd = containers.launch("falkordb", IMAGES["falkordb"], {"module_args": ["THREAD_COUNT", "2"]},
                            None).command
    assert cmd[cmd.index("--save") + 1] == ""  # an empty argument: no RDB snapshots
    assert cmd[cmd.index("--appendonly") + 1] == "no"
    assert cmd[-3:] == [containers.FALKORDB_MODULE, "THREAD_COUNT", "2"]


def test_postgres_password_is_fresh_per_container():
    a, b = (containers.launch("postgres", IMAGES["postgres"], {}, None) for _ in range(2))
    assert a.password and a.password != b.password
    assert a.environment["POSTGRES_PASSWORD"] == a.password


# -- container arguments -------------------------------------------------------------------------
def test_memory_limit_is_memory_and_swap_limit():
    c = IMAGES["postgres"]
    launch = containers.launch("postgres", c, {}, 96 * MiB)
    kw = container_kwargs("postgres", c, launch, 96 * MiB, "btb-x")
    assert kw["mem_limit"] == kw["memswap_limit"] == 96 * MiB
    assert kw["shm_size"] == 96 * MiB
    assert kw["ports"] == {"5432/tcp": ("127.0.0.1", None)}
    assert kw["labels"] == {"btb.runtime": "docker", "btb.engine": "postgres"}
    assert kw["init"] is True
    [mount] = kw["mounts"]
    assert mount["Target"] == c.data_dir and mount["Type"] == "volume" and not mount["Source"]


def test_no_limit_means_no_memory_arguments():
    c = IMAGES["oxigraph"]
    kw = container_kwargs("oxigraph", c, containers.launch("oxigraph", c, {}, None), None, "n")
    assert "mem_limit" not in kw and "memswap_limit" not in kw and "shm_size" not in kw


@pytest.mark.parametrize("bad", [0, -1])
def test_non_positive_limit_is_refused(bad):
    c = IMAGES["falkordb"]
    with pytest.raises(ValueError, match="> 0 bytes"):
        container_kwargs("falkordb", c, containers.launch("falkordb", c, {}, None), bad, "n")


def test_published_port_must_be_loopback_only():
    def attrs(*bindings):
        return {"NetworkSettings": {"Ports": {"7878/tcp": list(bindings)}}}

    assert published_port(attrs({"HostIp": "127.0.0.1", "HostPort": "49153"}), 7878) == 49153
    wide = attrs({"HostIp": "0.0.0.0", "HostPort": "1"})
    with pytest.raises(StartFailed, match="127.0.0.1 only"):
        published_port(wide, 7878)
    with pytest.raises(StartFailed, match="not published"):
        published_port({"NetworkSettings": {"Ports": {}}}, 7878)


# -- image overrides -----------------------------------------------------------------------------
def test_local_images_file_names_only_buildable_engines():
    local = parse_overrides(LOCAL_IMAGES.read_text(), str(LOCAL_IMAGES))
    assert set(local) == {"postgres", "oxigraph", "falkordb"}
    for engine in local:
        assert (REPO / "docker" / "local" / engine / "Dockerfile").is_file()


def test_override_replaces_only_the_named_images(tmp_path, monkeypatch):
    f = tmp_path / "images.yml"
    f.write_text("oxigraph: my/oxigraph:dev\n")
    monkeypatch.setenv("BTB_IMAGES", str(f))
    images = load_images()
    assert images["oxigraph"] == Contract("my/oxigraph:dev", 7878, "/data")
    assert images["postgres"] == IMAGES["postgres"]
    monkeypatch.delenv("BTB_IMAGES")
    assert load_images() == IMAGES


@pytest.mark.parametrize("text, message", [
    ("mysql: mysql:8\n", "unknown engine 'mysql'; valid engines: falkordb, memgraph, oxigraph"),
    ("- postgres\n", "expected a mapping engine -> image"),
    ("postgres: [a, b]\n", "the image for postgres must be one 'repository:tag' string"),
    ("postgres: 'a b'\n", "must be one 'repository:tag' string"),
    ("postgres: [\n", "not valid YAML"),
])
def test_bad_override_names_the_file_and_the_fix(tmp_path, text, message):
    f = tmp_path / "bad.yml"
    f.write_text(text)
    with pytest.raises(BtbError, match="bad.yml") as e:
        load_images(f)
    assert message in str(e.value)


def test_missing_override_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("BTB_IMAGES", str(tmp_path / "nope.yml"))
    with pytest.raises(BtbError, match=r"nope.yml \(from \$BTB_IMAGES\): cannot be read"):
        load_images()


# -- no reachable engine -------------------------------------------------------------------------
@pytest.fixture
def dead_docker(tmp_path, monkeypatch):
    sock = tmp_path / "dead.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{sock}")
    return f"unix://{sock}"


def test_unreachable_engine_is_a_clear_error(dead_docker):
    for attempt in (connect, DockerRuntime.check, DockerRuntime):
        with pytest.raises(BtbError) as e:
            attempt()
        msg = str(e.value)
        assert f"Docker Engine not reachable at {dead_docker}" in msg
        assert "scripts/docker.sh" in msg and "DOCKER_HOST" in msg


def test_btb_run_fails_fast_without_an_engine(dead_docker, tmp_path, capsys):
    # no dataset exists under --root: the runtime check comes first, so this is the error seen
    rc = cli.main(["run", "--profile", "tiny-1d", "--scenarios", "P1", "--runtime", "docker",
                   "--root", str(tmp_path / "none"), "--results", str(tmp_path / "res")])
    assert rc == 2
    assert "Docker Engine not reachable" in capsys.readouterr().err


# -- OOM kills survive the container's cgroup ------------------------------------------------------
def test_container_memory_counts_a_kill_after_its_cgroup_vanished(tmp_path):
    from btb.runtime.docker import ContainerMemory

    group = tmp_path / "cg"
    group.mkdir()
    (group / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    killed = []
    mem = ContainerMemory(group, 1, lambda: bool(killed))
    assert mem.oom_kills() == 2
    (group / "memory.oom_control").unlink()
    group.rmdir()  # docker deletes the cgroup when the container exits
    with pytest.raises(OSError):  # gone without an OOM kill: nothing to make up
        mem.oom_kills()
    killed.append(True)
    assert mem.oom_kills() == 3


def test_check_without_levels_only_needs_an_engine(dead_docker):
    from btb.runtime import docker as docker_runtime

    with pytest.raises(BtbError, match="not reachable"):
        docker_runtime.check([None])


def test_falkordb_keep_data_sets_the_local_launchers_save_point():
    from btb.runtime.launchers import falkordb as fk_launcher

    cmd = containers.launch("falkordb", IMAGES["falkordb"], {"keep_data": True}, None).command
    local = fk_launcher.server_command(Path("r"), Path("m"), 1, Path("/d"), keep_data=True)
    assert cmd[cmd.index("--save") + 1] == local[local.index("--save") + 1] != ""


def test_doctor_reports_a_bad_image_override(tmp_path, monkeypatch):
    from btb.workflows.doctor import check_docker_images

    bad = tmp_path / "images.yml"
    bad.write_text("mysql: mysql:8\n")
    monkeypatch.setenv("BTB_IMAGES", str(bad))
    [check] = check_docker_images()
    assert check.status == "fail" and "unknown engine 'mysql'" in check.detail
    assert "BTB_IMAGES" in check.fix


def test_a_server_whose_engine_vanished_is_not_alive(dead_docker):
    import docker

    from btb.runtime.base import Endpoint
    from btb.runtime.docker import DockerServer

    client = docker.DockerClient(base_url=dead_docker, version="1.41", timeout=2)
    server = DockerServer(client.containers.prepare_model({"Id": "0" * 64}),
                          Endpoint("127.0.0.1", 1))
    assert not server.alive() and not server.oom_killed()
    assert server.log_tail() == "(no log)"


def test_container_memory_reads_v2_oom_kills_from_memory_events():
    from btb.runtime.cgroup import parse_events
    from btb.runtime.docker import ContainerMemory

    fixtures = Path(__file__).parent / "fixtures" / "cgroup_v2"
    expected = parse_events((fixtures / "memory.events").read_text())["oom_kill"]
    assert ContainerMemory(fixtures, 2, lambda: False).oom_kills() == expected
