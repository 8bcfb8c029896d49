"""The run loop against a real PostgreSQL: wrong answers, timeouts and crashes are recorded as
cell statuses and the run goes on; every result file validates against the schema."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from btb.bench.runner import Context, Protocol, run_scenarios
from btb.config.scenarios import get_scenarios
from btb.dataset.store import Store
from btb.results import store as results
from btb.runtime.local import LocalRuntime
from btb.workload import catalog
from btb.workload.reference import Reference
from tests.conftest import need

pytestmark = pytest.mark.engines


def _have_postgres() -> bool:
    return bool(shutil.which("pg_ctl") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb")))


@pytest.fixture()
def queries_copy(tmp_path, monkeypatch):
    """A private copy of queries/ that a test may break; BTB_QUERIES points the catalogue at it."""
    dst = tmp_path / "queries"
    shutil.copytree(catalog.queries_dir(), dst)
    monkeypatch.setenv("BTB_QUERIES", str(dst))
    return dst


class RecordingRuntime(LocalRuntime):
    def __init__(self):
        self.servers = []

    def start(self, spec):
        server = super().start(spec)
        self.servers.append(server)
        return server


def _context(ds: Path, tmp_path: Path, qids, runtime, timeout_s=30.0) -> Context:
    params = json.loads((ds / "params.json").read_text())
    ref = Reference(ds)
    reference = {(q, v): ref.answer(q, catalog.bind(catalog.get(q), params, v))
                 for q in qids for v in ("small",)}
    ref.close()
    fp = Store(ds.parent).fingerprint(ds.name)
    return Context(dataset=ds, dataset_name=ds.name, fingerprint=fp, params=params,
                   reference=reference, queries=list(qids), runtime=runtime,
                   results=tmp_path / "res", campaign="test",
                   protocol=Protocol(0, 2, timeout_s, ("small",)), work_dir=tmp_path,
                   log=lambda m: None)


def _statuses(written):
    return {r["query"]: r["status"] for r in written}


def test_wrong_answer_timeout_and_ok_in_one_run(tiny_dataset, tmp_path, queries_copy):
    need(_have_postgres(), "PostgreSQL server binaries (apt-get install postgresql)")
    # off by one: drops the 00:00 reading of the day
    ts = queries_copy / "Q07" / "ts.sql"
    ts.write_text(ts.read_text().replace("time >= %(start)s", "time > %(start)s"))
    # a query that outlives its timeout
    (queries_copy / "Q01" / "sql.sql").write_text(
        "SELECT p.id, p.class FROM point p, pg_sleep(3) WHERE p.parent_id = %(equipment)s\n")
    ctx = _context(tiny_dataset, tmp_path, ["Q1", "Q2", "Q7", "Q8"], LocalRuntime(), 1.0)
    written = run_scenarios(ctx, get_scenarios(["P1"]))
    assert _statuses(written) == {"Q1": "timeout", "Q2": "ok", "Q7": "wrong_answer",
                                  "Q8": "ok"}
    wrong = next(r for r in written if r["query"] == "Q7")
    assert wrong["latencies_ms"] == [] and "288" in wrong["reason"]
    files = results.cell_files(tmp_path / "res")
    assert len(files) == 4
    for f in files:
        results.validate(json.loads(f.read_text()))


def test_engine_dying_mid_run_is_crashed_then_restarted_for_the_next_cell(tiny_dataset, tmp_path,
                                                              queries_copy):
    need(_have_postgres(), "PostgreSQL server binaries (apt-get install postgresql)")
    (queries_copy / "Q02" / "sql.sql").write_text(
        "SELECT count(*) FROM (SELECT pg_sleep(3)) AS s WHERE %(floor)s > 0\n")
    runtime = RecordingRuntime()

    def kill_during_q2():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if runtime.servers and any(Path(tmp_path, "res").rglob("Q1-small.json")):
                time.sleep(0.5)
                for s in runtime.servers:
                    os.killpg(s.proc.pid, signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_during_q2, daemon=True)
    killer.start()
    ctx = _context(tiny_dataset, tmp_path, ["Q1", "Q2", "Q3"], runtime)
    written = run_scenarios(ctx, get_scenarios(["P1"]))
    killer.join(5)
    st = _statuses(written)
    assert (st["Q1"], st["Q2"], st["Q3"]) == ("ok", "crashed", "ok"), written
    assert len(runtime.servers) == 2  # started and loaded again after the death


def test_a_load_past_its_timeout_is_stopped_and_recorded_timeout(tiny_dataset, tmp_path):
    # Seen here: FalkorDB under 20 MiB neither OOM-killed nor progressing, and the campaign
    # waited forever. A load timeout far below tiny-1d's load time stands in for that here.
    need(_have_postgres(), "PostgreSQL server binaries (apt-get install postgresql)")
    runtime = RecordingRuntime()
    ctx = _context(tiny_dataset, tmp_path, ["Q1", "Q2"], runtime)
    ctx.protocol = dataclasses.replace(ctx.protocol, load_timeout_s=0.05)
    t0 = time.monotonic()
    written = run_scenarios(ctx, get_scenarios(["P1"]))
    assert time.monotonic() - t0 < 60
    assert _statuses(written) == {"Q1": "timeout", "Q2": "timeout"}
    for r in written:
        assert r["reason"].startswith("during load: no end after 0.05 s (--load-timeout), "
                                      "servers stopped; client saw: "), r["reason"]
        results.validate(r)
    assert [s.alive() for s in runtime.servers] == [False]
    # the load phase's figures were taken before the stop removed the server's cgroup
    mem = written[0]["memory"]["structure"]
    if mem["cgroup"] is not None:
        assert mem["load"]["peak_bytes"] > 0
