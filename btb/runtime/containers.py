"""Per-engine container launches for the docker runtime: command, environment, credentials,
readiness and version probes, built from a `Contract` (btb/config/images.py) and the same
`spec.options` the local launchers honour. Pure where possible (`launch`), so the command lines
are unit-tested without a Docker Engine.

The settings mirror the local launchers (a unit test keeps them in step):
- postgres: shared_buffers (default 128MB), max_wal_size (8GB), jit=off, timezone UTC, plus
  `options["settings"]`; initdb with C locale, UTF8 and --no-sync like the local
  cluster. TimescaleDB's
  image would otherwise tune postgresql.conf to the container's memory at initdb
  (timescaledb-tune): NO_TS_TUNE keeps the settings btb states, identical at every RAM level.
- oxigraph: `query_timeout_s` -> `--timeout-s` (whole seconds, at least 1).
- falkordb: an explicit `redis-server` command (no persistence, like the local launcher) instead
  of the image's run.sh, whose REDIS_ARGS are word-split so `--save ''` cannot be passed there;
  `options["module_args"]` follow the module; `keep_data` sets the local launcher's save point.
- postgres and oxigraph keep their data in the container's volume across a restart anyway.
- memgraph: the local launcher's storage flags and `query_timeout_s`.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from btb.config.images import Contract
from btb.runtime.base import Endpoint
from btb.runtime.launchers import falkordb as falkordb_launcher
from btb.runtime.launchers import oxigraph as oxigraph_launcher

FALKORDB_MODULE = "/FalkorDB/bin/src/falkordb.so"  # official path (newer images link it)
PG_USER = PG_DATABASE = "postgres"
DEFAULT_SHM = 1 << 30  # /dev/shm without a RAM limit (docker's 64 MiB default is too small)


@dataclass(frozen=True)
class Launch:
    command: list[str] | None  # None = the image's default command
    environment: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    password: str | None = None
    database: str | None = None
    shm_size: int | None = None


def launch(engine: str, contract: Contract, options: dict, ram_bytes: int | None) -> Launch:
    """How to start `engine`'s container (the caller has checked the engine name)."""
    return _LAUNCHES[engine](contract, options, ram_bytes)


def postgres_settings(options: dict) -> dict[str, str]:
    s = {"listen_addresses": "*", "timezone": "UTC",
         "shared_buffers": str(options.get("shared_buffers", "128MB")),
         "max_wal_size": str(options.get("max_wal_size", "8GB")),
         # JIT off for short queries: see btb/runtime/launchers/postgres.py
         "jit": str(options.get("jit", "off"))}
    return s | {k: str(v) for k, v in options.get("settings", {}).items()}


def _postgres(contract: Contract, options: dict, ram_bytes: int | None) -> Launch:
    password = secrets.token_urlsafe(18)  # per container; the port is on 127.0.0.1 only anyway
    cmd = ["postgres"]
    for k, v in postgres_settings(options).items():
        cmd += ["-c", f"{k}={v}"]
    env = {"POSTGRES_PASSWORD": password, "POSTGRES_USER": PG_USER, "POSTGRES_DB": PG_DATABASE,
           "POSTGRES_INITDB_ARGS": "--locale=C --encoding=UTF8 --no-sync",
           "PGDATA": contract.data_dir,
           "TIMESCALEDB_TELEMETRY": "off", "NO_TS_TUNE": "true", "TZ": "UTC"}
    # parallel workers share memory through /dev/shm (charged to the container's cgroup too)
    return Launch(cmd, env, PG_USER, password, PG_DATABASE, shm_size=ram_bytes or DEFAULT_SHM)


def timeout_seconds(query_timeout_s: float | None) -> int | None:
    """Oxigraph's --timeout-s: whole seconds, at least 1 (as the local launcher)."""
    return max(1, int(round(query_timeout_s))) if query_timeout_s else None


def _oxigraph(contract: Contract, options: dict, ram_bytes: int | None) -> Launch:
    cmd = ["serve", "--location", contract.data_dir, "--bind", f"0.0.0.0:{contract.port}"]
    t = timeout_seconds(options.get("query_timeout_s"))
    return Launch(cmd + (["--timeout-s", str(t)] if t else []))


def _falkordb(contract: Contract, options: dict, ram_bytes: int | None) -> Launch:
    # keep_data (cold runs): a save point far in the future, so nothing is written while
    # measuring and the stop (SIGTERM) writes dump.rdb that the restarted server loads back
    save = "86400 1" if options.get("keep_data") else ""
    cmd = ["redis-server", "--port", str(contract.port), "--protected-mode", "no",
           "--dir", contract.data_dir, "--save", save, "--appendonly", "no", "--daemonize", "no",
           "--loadmodule", FALKORDB_MODULE, *options.get("module_args", [])]
    return Launch(cmd)


def _memgraph(contract: Contract, options: dict, ram_bytes: int | None) -> Launch:
    cmd = [f"--bolt-port={contract.port}", f"--data-directory={contract.data_dir}",
           "--storage-mode=IN_MEMORY_TRANSACTIONAL", "--storage-wal-enabled=false",
           "--storage-snapshot-on-exit=false", "--telemetry-enabled=false",
           "--also-log-to-stderr=true"]
    if options.get("query_timeout_s"):
        cmd.append(f"--query-execution-timeout-sec={max(1, math.ceil(options['query_timeout_s']))}")
    return Launch(cmd + list(options.get("extra_args", [])))


_LAUNCHES: dict[str, Callable[[Contract, dict, int | None], Launch]] = {
    "postgres": _postgres, "oxigraph": _oxigraph, "falkordb": _falkordb, "memgraph": _memgraph}


# -- readiness: an engine-level answer, not just an open port (docker's proxy accepts
# connections on the published port before the server inside listens) ----------------------
def ready(engine: str, endpoint: Endpoint) -> bool:
    if engine == "postgres":
        import psycopg

        try:
            with psycopg.connect(**_pg_args(endpoint), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False
    if engine == "oxigraph":
        return oxigraph_launcher.answers(endpoint.host, endpoint.port)
    if engine == "falkordb":
        return falkordb_launcher.answers(endpoint.host, endpoint.port)
    return _bolt_ready(endpoint)


def _pg_args(e: Endpoint) -> dict:
    return {"host": e.host, "port": e.port, "user": e.user, "password": e.password,
            "dbname": e.database}


def _bolt_ready(e: Endpoint) -> bool:
    import neo4j

    try:
        with neo4j.GraphDatabase.driver(f"bolt://{e.host}:{e.port}", auth=None,
                                        connection_timeout=2) as driver:
            driver.verify_connectivity()
            return True
    except Exception:  # noqa: BLE001 - any failure means "not ready yet"
        return False


def describe(engine: str, endpoint: Endpoint, exec_version: Callable[[], str]) -> tuple[str, dict]:
    """(server version, Endpoint.extra) once ready. `exec_version` runs the image's binary with
    --version inside the container (for servers that do not report a version over the wire)."""
    if engine == "postgres":
        import psycopg

        with psycopg.connect(**_pg_args(endpoint)) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            tsdb = conn.execute("SELECT count(*) FROM pg_available_extensions "
                                "WHERE name = 'timescaledb'").fetchone()[0] > 0
        return version, {"timescaledb": tsdb}
    if engine == "oxigraph":
        return exec_version(), {}
    if engine == "falkordb":
        h, p = endpoint.host, endpoint.port
        return (falkordb_launcher.module_version(h, p),
                {"redis_version": falkordb_launcher.redis_version(h, p)})
    return exec_version(), {}
