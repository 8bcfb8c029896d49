"""PostgreSQL (and TimescaleDB when its extension is installed) as a private local cluster.

`initdb` into `<data_dir>/pgdata`, then `postgres -D` in the foreground as the child process, so
`ProcessServer` owns it: `stop()` asks for a *fast* shutdown (SIGINT to the postmaster: open
sessions are cut, dirty buffers are checkpointed) and falls back to SIGKILL of the process group.

PostgreSQL refuses to run as root. As root, the cluster runs as the `postgres` system user (else
`nobody`); the data directory is chowned to it. When that user cannot traverse the path to
`data_dir` (pytest's tmp dirs are 0700 root), the cluster lives in a private 0700 directory under
the system temp dir instead, `<data_dir>/pgdata` is a symlink to it, and `stop()` removes it
(unless `spec.options["keep_pgdata"]` or the generic `keep_data`). A `data_dir` that already
holds a cluster is restarted as it is, without initdb: that is how a cold run restarts the
server with its data.

Settings are PostgreSQL's defaults (durability included: fsync, full_page_writes and
synchronous_commit stay on at server level) except: trust auth on 127.0.0.1 only, a free port,
`shared_buffers` (spec.options, default 128MB = PostgreSQL's default), `max_wal_size` large
(default 8GB, so a bulk load does not checkpoint every few seconds), `jit=off` (see
_settings) and, when TimescaleDB is
installed, `shared_preload_libraries=timescaledb` (telemetry off). `spec.options["settings"]`
adds any other GUC. `initdb --no-sync` only skips flushing the fresh template files at creation.
Loaders may `SET synchronous_commit = off` in their own session (the engine module does, and says
so): a crash then loses the last commits, never consistency.
"""

from __future__ import annotations

import dataclasses
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from btb.runtime.base import Endpoint, Server, ServerSpec, Unavailable
from btb.runtime.process import ProcessServer, StartFailed, free_port, start_process

PG_LIB_ROOT = Path("/usr/lib/postgresql")  # Debian/Ubuntu: one <version>/bin per major
INSTALL_HINT = ("PostgreSQL server binaries (initdb, postgres) not found; install them with "
                "`apt-get install postgresql` (Debian/Ubuntu) or `dnf install postgresql-server`, "
                "or put their directory on PATH")
USER, DATABASE = "postgres", "postgres"
SOCKET_PATH_MAX = 100  # sun_path is 108 bytes, minus "/.s.PGSQL.NNNNN"


def _has_server(d: Path) -> bool:
    return (d / "postgres").is_file() and (d / "initdb").is_file()


def _version_key(p: Path) -> tuple:
    return tuple(int(x) for x in re.findall(r"\d+", p.parent.name)) or (0,)


def find_bindir() -> Path | None:
    """pg_config --bindir, else the highest /usr/lib/postgresql/<v>/bin, else PATH."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=10, check=True).stdout.strip()
            if out and _has_server(Path(out)):
                return Path(out)
        except (OSError, subprocess.SubprocessError):
            pass
    for d in sorted(PG_LIB_ROOT.glob("*/bin"), key=_version_key, reverse=True):
        if _has_server(d):
            return d
    postgres = shutil.which("postgres")
    if postgres and _has_server(Path(postgres).resolve().parent):
        return Path(postgres).resolve().parent
    return None


def _pg_config(bindir: Path, what: str) -> Path | None:
    try:
        out = subprocess.run([str(bindir / "pg_config"), what], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        return Path(out) if out else None
    except (OSError, subprocess.SubprocessError):
        return None


def timescaledb_installed(bindir: Path) -> bool:
    """The extension's library and control file are installed for this PostgreSQL."""
    libdir = _pg_config(bindir, "--pkglibdir") or bindir.parent / "lib"
    share = _pg_config(bindir, "--sharedir") or Path("/usr/share/postgresql") / bindir.parent.name
    return (any(libdir.glob("timescaledb*.so"))
            and (share / "extension" / "timescaledb.control").is_file())


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged account to run as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise Unavailable("running as root and neither a `postgres` nor a `nobody` user exists; "
                      "PostgreSQL refuses to run as root (create one: `adduser --system postgres`)")


def _drop_privileges(user: pwd.struct_passwd):
    def drop() -> None:
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    return drop


def _traversable(path: Path, user: pwd.struct_passwd) -> bool:
    """Can `user` reach `path` (x permission on every ancestor)?"""
    for d in [path, *path.parents]:
        st = d.stat()
        bit = 0o100 if st.st_uid == user.pw_uid else 0o010 if st.st_gid == user.pw_gid else 0o001
        if not st.st_mode & bit:
            return False
    return True


def _prepare_pgdata(spec: ServerSpec, user: pwd.struct_passwd | None
                    ) -> tuple[Path, Path | None, bool]:
    """(pgdata, private dir if the cluster lives outside data_dir, whether it is new).

    An existing cluster in `data_dir` is started again as it is (a restart, e.g. for cold runs).
    """
    link = spec.data_dir.resolve() / "pgdata"
    if (link / "PG_VERSION").is_file():
        pgdata = link.resolve()
        return pgdata, pgdata.parent if link.is_symlink() else None, False
    if link.is_symlink():  # its private directory went away with the previous stop
        link.unlink()
    if user is None or _traversable(spec.data_dir.resolve(), user):
        link.mkdir(mode=0o700)
        if user is not None:
            os.chown(link, user.pw_uid, user.pw_gid)
        return link, None, True
    private = Path(tempfile.mkdtemp(prefix="btb-pg-"))
    os.chown(private, user.pw_uid, user.pw_gid)
    pgdata = private / "pgdata"
    pgdata.mkdir(mode=0o700)
    os.chown(pgdata, user.pw_uid, user.pw_gid)
    link.symlink_to(pgdata, target_is_directory=True)
    return pgdata, private, True


def _initdb(bindir: Path, pgdata: Path, user: pwd.struct_passwd | None, log: Path) -> None:
    cmd = [str(bindir / "initdb"), "-D", str(pgdata), "-U", USER, "--auth=trust", "-E", "UTF8",
           "--locale=C", "--no-sync", "--no-instructions"]
    kw = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    with open(log, "ab") as out:
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            cwd=pgdata, env=_env(pgdata), **kw).returncode
    if rc != 0:
        raise StartFailed(f"initdb failed with status {rc}; log {log}")
    # trust, but only for the private socket and 127.0.0.1 (listen_addresses is 127.0.0.1 too)
    (pgdata / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")


def _env(pgdata: Path) -> dict:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(pgdata), "LC_ALL": "C",
            "LANG": "C", "TZ": "UTC"}


def _settings(spec: ServerSpec, pgdata: Path, port: int, timescaledb: bool) -> dict[str, str]:
    opts = spec.options
    sock = str(pgdata) if len(str(pgdata)) <= SOCKET_PATH_MAX else ""  # "" = TCP only
    s = {"listen_addresses": "127.0.0.1", "port": str(port), "unix_socket_directories": sock,
         "shared_buffers": str(opts.get("shared_buffers", "128MB")),
         "max_wal_size": str(opts.get("max_wal_size", "8GB")), "timezone": "UTC",
         # JIT compiles whenever a plan's cost estimate is high, and recursive CTEs (Q3, Q6)
         # get absurd estimates: on small-2d P2 Q3 took 150 ms, of which 146 ms JIT, against
         # 4 ms without. The workload is short queries, so JIT is off (overridable below).
         "jit": str(opts.get("jit", "off"))}
    if timescaledb:
        s |= {"shared_preload_libraries": "timescaledb", "timescaledb.telemetry_level": "off"}
    s |= {k: str(v) for k, v in opts.get("settings", {}).items()}
    return s


def _connectable(endpoint: Endpoint) -> bool:
    import psycopg

    try:
        with psycopg.connect(host=endpoint.host, port=endpoint.port, user=endpoint.user,
                             dbname=endpoint.database, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def start(spec: ServerSpec) -> Server:
    bindir = find_bindir()
    if bindir is None:
        raise Unavailable(INSTALL_HINT)
    user = _run_as()
    log = spec.data_dir / "postgres.log"
    pgdata, private, new = _prepare_pgdata(spec, user)
    try:
        if new:
            _initdb(bindir, pgdata, user, log)
        tsdb = timescaledb_installed(bindir)
        port = free_port()
        cmd = [str(bindir / "postgres"), "-D", str(pgdata)]
        for k, v in _settings(spec, pgdata, port, tsdb).items():
            cmd += ["-c", f"{k}={v}"]
        endpoint = Endpoint("127.0.0.1", port, user=USER, database=DATABASE,
                            extra={"timescaledb": tsdb, "pgdata": str(pgdata),
                                   "bindir": str(bindir)})
        server = start_process(cmd, log, endpoint, ready=lambda: _connectable(endpoint),
                               env=_env(pgdata), cwd=pgdata,
                               preexec_fn=_drop_privileges(user) if user else None,
                               cgroup=spec.cgroup)
    except BaseException:
        if private is not None and new:
            shutil.rmtree(private, ignore_errors=True)
        raise
    if spec.options.get("keep_pgdata") or spec.options.get("keep_data"):
        private = None  # a later start() with the same data_dir restarts this cluster
    server.on_stop = lambda: _fast_shutdown(server, private)
    server.endpoint = dataclasses.replace(endpoint, version=_server_version(endpoint))
    return server


def _server_version(endpoint: Endpoint) -> str:
    import psycopg

    with psycopg.connect(host=endpoint.host, port=endpoint.port, user=endpoint.user,
                         dbname=endpoint.database) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def _fast_shutdown(server: ProcessServer, private: Path | None, wait_s: float = 60.0) -> None:
    """SIGINT = fast shutdown (SIGTERM would be 'smart': wait for every client to leave)."""
    proc = server.proc
    try:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(wait_s)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None:  # still ours (not reaped): its group id cannot be reused yet
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    finally:
        if private is not None:
            shutil.rmtree(private, ignore_errors=True)
