"""The postgres engine against a real private PostgreSQL cluster started by the local runtime."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as pads
import pytest

from btb.engines.base import EngineCrashed, QueryTimeout
from btb.engines.postgres import Postgres
from btb.runtime.base import ServerSpec, Unavailable
from btb.runtime.launchers import postgres as launcher
from btb.runtime.local import LocalRuntime
from tests.conftest import need

pytestmark = pytest.mark.engines


def _need_postgres() -> None:
    need(launcher.find_bindir() is not None,
         "PostgreSQL server binaries not found (apt-get install postgresql)")


def _start(root: Path):
    _need_postgres()
    return LocalRuntime().start(ServerSpec("postgres", root))


def _postgres_pids(server) -> list[str]:
    out = subprocess.run(["pgrep", "-f", server.endpoint.extra["pgdata"]],
                         capture_output=True, text=True)
    return out.stdout.split()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = _start(tmp_path_factory.mktemp("pg") / "server")
    yield srv
    srv.stop()
    assert _postgres_pids(srv) == []


@pytest.fixture
def engine(server):
    eng = Postgres(server.endpoint)
    yield eng
    eng.close()


@pytest.fixture(params=["tiny_dataset", "tiny2_dataset"])
def dataset(request) -> Path:
    return request.getfixturevalue(request.param)


def test_endpoint(server):
    e = server.endpoint
    assert server.alive() and e.host == "127.0.0.1"
    assert e.version and e.version[0].isdigit()
    assert isinstance(e.extra["timescaledb"], bool)


@pytest.mark.parametrize("scenario", ["P1", "P2", "TS"])
def test_load_counts_and_bound_query(engine, dataset, scenario):
    engine.create_schema(scenario)
    assert engine.languages == {"P1": ("sql", "ts"), "P2": ("jsonb", "ts"), "TS": ("ts",)}[scenario]
    seen = []
    result = engine.load(dataset, scenario, progress=seen.append)
    fp = json.loads((dataset / "fingerprint.json").read_text())["row_counts"]
    assert result.verified, (result.counts, result.expected)
    assert result.counts == result.expected
    assert result.expected["timeseries"] == fp["timeseries"] == sum(seen)
    if scenario != "TS":
        assert {k: result.counts[k] for k in ("nodes", "points", "edges")} == {
            k: fp[k] for k in ("nodes", "points", "edges")}
    assert result.details["ts_layout"] in ("hypertable", "partitioned")
    assert result.details["ts_layout"] == ("hypertable" if engine.conn.execute(
        "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone() else "partitioned")
    assert result.details["rows_per_s"] > 0 and result.seconds > 0
    assert engine.data_size() > 0

    point = json.loads((dataset / "params.json").read_text())["variants"]["small"]["point"]
    ts = pads.dataset(dataset / "timeseries", format="parquet", partitioning="hive")
    want = ts.to_table(filter=pc.field("point_id") == point).num_rows
    rows = engine.execute("SELECT count(*) FROM timeseries WHERE point_id = %(p)s", {"p": point})
    assert rows == [(want,)] and want > 0


def test_p1_class_closure_and_array_params(engine, tiny_dataset):
    engine.create_schema("P1")
    engine.load(tiny_dataset, "P1")
    sensors = engine.execute(
        "SELECT count(*) FROM point p JOIN class_ancestor ca ON ca.class = p.class"
        " AND ca.ancestor = %(c)s", {"c": "Air_Temperature_Sensor"})[0][0]
    assert sensors > 0
    params = json.loads((tiny_dataset / "params.json").read_text())["variants"]["small"]
    rows = engine.execute("SELECT DISTINCT point_id FROM timeseries"
                          " WHERE point_id = ANY(%(points)s)"
                          " AND time >= %(day_start)s AND time < %(day.end)s", params)
    assert sorted(r[0] for r in rows) == sorted(params["points"])


def test_timeout_then_connection_still_usable(engine):
    with pytest.raises(QueryTimeout):
        engine.execute("SELECT pg_sleep(5)", {}, timeout_s=0.5)
    assert engine.execute("SELECT 1", {}, timeout_s=5) == [(1,)]
    assert engine.execute("SELECT 2", {}) == [(2,)]


def test_killed_server_raises_engine_crashed(tmp_path):
    srv = _start(tmp_path / "server")
    eng = Postgres(srv.endpoint)
    try:
        assert eng.execute("SELECT 1", {}) == [(1,)]
        os.killpg(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait(10)
        with pytest.raises(EngineCrashed):
            eng.execute("SELECT 1", {})
    finally:
        eng.close()
        srv.stop()
    assert not srv.alive() and _postgres_pids(srv) == []


def test_stop_with_open_session_is_fast_and_clean(tmp_path):
    srv = _start(tmp_path / "server")
    eng = Postgres(srv.endpoint)  # an open client must not hold a (smart) shutdown back
    pids = _postgres_pids(srv)
    assert str(srv.proc.pid) in pids
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 20
    assert srv.proc.returncode == 0 and _postgres_pids(srv) == []
    eng.close()


def test_restart_keeps_the_cluster(tmp_path):
    """A second start on the same data_dir restarts the cluster (cold runs), no new initdb."""
    root = tmp_path / "server"
    _need_postgres()
    first = LocalRuntime().start(ServerSpec("postgres", root, options={"keep_pgdata": True}))
    eng = Postgres(first.endpoint)
    eng.execute("CREATE TABLE kept AS SELECT 42 AS x", {})
    eng.close()
    first.stop()
    second = LocalRuntime().start(ServerSpec("postgres", root))
    try:
        eng = Postgres(second.endpoint)
        assert eng.execute("SELECT x FROM kept", {}) == [(42,)]
        eng.close()
    finally:
        second.stop()
    assert _postgres_pids(second) == []


@pytest.mark.unit
def test_launcher_unavailable_with_install_hint(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_config, no postgres on PATH
    monkeypatch.setattr(launcher, "PG_LIB_ROOT", tmp_path / "nothing")
    assert launcher.find_bindir() is None
    with pytest.raises(Unavailable, match="apt-get install postgresql"):
        LocalRuntime().start(ServerSpec("postgres", tmp_path / "server"))
