"""The one run loop: for each scenario, start its engines, load, then measure every cell.

A cell is (scenario, RAM level, query, variant). Its first execution is checked against the
reference answer; only a matching answer gets warmup and measured runs. Failures are data:
a missing engine makes the scenario's cells `skipped`, a failed load `load_failed`, a query past
its timeout `timeout`, a dead engine `crashed`, a wrong answer `wrong_answer` — each written as a
result file with its reason, and the run goes on. Nothing here depends on an engine's name.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from btb.bench import provenance
from btb.bench.stats import summarise, unstable
from btb.config.scenarios import Scenario
from btb.engines import registry
from btb.engines.base import EngineCrashed, QueryTimeout
from btb.errors import BtbError
from btb.results import store as results
from btb.runtime.base import ServerSpec, Unavailable
from btb.workload import catalog, execution
from btb.workload.answers import canonical, compare


@dataclass(frozen=True)
class Protocol:
    n_warmup: int = 2
    n_runs: int = 5
    timeout_s: float = 60.0
    variants: tuple[str, ...] = ("small", "large")

    def as_dict(self) -> dict:
        return {"n_warmup": self.n_warmup, "n_runs": self.n_runs, "timeout_s": self.timeout_s}


@dataclass
class Context:
    dataset: Path
    dataset_name: str
    fingerprint: dict
    params: dict
    reference: dict  # (query id, variant) -> canonical rows
    queries: list[str]
    runtime: object
    results: Path
    campaign: str
    protocol: Protocol
    ram: str = "unlimited"
    ram_bytes: int | None = None
    work_dir: Path | None = None
    log: Callable[[str], None] = print
    written: list[dict] = field(default_factory=list)


@dataclass
class Loaded:
    engine: object
    ts_engine: object | None
    servers: list
    load: dict


def run_scenarios(ctx: Context, scenarios: list[Scenario]) -> list[dict]:
    for sc in scenarios:
        run_scenario(ctx, sc)
    return ctx.written


def run_scenario(ctx: Context, sc: Scenario) -> None:
    base_dir = Path(tempfile.mkdtemp(prefix=f"btb-{sc.name}-", dir=ctx.work_dir))
    ctx.log(f"[{sc.name}] starting {sc.engine}" + (f" + {sc.ts_engine}" if sc.hybrid else ""))
    try:
        loaded = _start_and_load(ctx, sc, base_dir)
    except Unavailable as e:
        ctx.log(f"[{sc.name}] skipped: {e}")
        _all_cells(ctx, sc, "skipped", str(e))
        return
    except _LoadFailed as e:
        ctx.log(f"[{sc.name}] load failed: {e}")
        _all_cells(ctx, sc, "load_failed", str(e), load=e.load)
        for s in e.servers:
            s.stop()
        return
    try:
        dead = None
        for qid in ctx.queries:
            for variant in ctx.protocol.variants:
                if dead:
                    _write(ctx, sc, qid, variant, "crashed", dead, load=loaded.load)
                    continue
                result = _run_cell(ctx, sc, loaded, qid, variant)
                if result["status"] != "crashed":
                    continue
                if all(s.alive() for s in loaded.servers):
                    _reconnect(loaded)  # the server lives; only our session was lost
                else:
                    dead = f"engine died during {qid}/{variant}: {result['reason']}"
    finally:
        for s in loaded.servers:
            s.stop()


def _reconnect(loaded: Loaded) -> None:
    engines = [loaded.engine] + ([loaded.ts_engine] if loaded.ts_engine is not None else [])
    for engine, server in zip(engines, loaded.servers):
        engine.close()
        engine.connect(server.endpoint)


class _LoadFailed(Exception):
    def __init__(self, message: str, load: dict | None, servers: list):
        super().__init__(message)
        self.load, self.servers = load, servers


def _start(ctx: Context, name: str, base_dir: Path):
    # the query timeout also goes to the server, for engines that enforce one server-side
    # (oxigraph --timeout-s, memgraph); the others ignore the option
    server = ctx.runtime.start(ServerSpec(name, base_dir / name, ctx.ram_bytes,
                                          {"query_timeout_s": ctx.protocol.timeout_s}))
    engine = registry.create(name)
    engine.connect(server.endpoint)
    return server, engine


def _load_one(ctx: Context, engine, layout: str) -> dict:
    engine.create_schema(layout)
    res = engine.load(ctx.dataset, layout)
    out = {"layout": layout, "seconds": res.seconds, "counts": res.counts,
           "expected": res.expected, "verified": res.verified, "details": res.details,
           "data_size_bytes": engine.data_size()}
    if not res.verified:
        raise ValueError(f"{layout}: loaded counts {res.counts} differ from the dataset's "
                         f"{res.expected}")
    return out


def _start_and_load(ctx: Context, sc: Scenario, base_dir: Path) -> Loaded:
    servers, load = [], {}
    try:
        server, engine = _start(ctx, sc.engine, base_dir)
        servers.append(server)
        ts_engine = None
        if sc.hybrid:
            ts_server, ts_engine = _start(ctx, sc.ts_engine, base_dir)
            servers.append(ts_server)
        load["structure"] = _load_one(ctx, engine, sc.name)
        if ts_engine is not None:
            load["timeseries"] = _load_one(ctx, ts_engine, "TS")
        load["engine_version"] = server.endpoint.version
        if sc.hybrid:
            load["ts_engine_version"] = servers[1].endpoint.version
        ctx.log(f"[{sc.name}] loaded in " + ", ".join(
            f"{k} {v['seconds']:.1f} s" for k, v in load.items() if isinstance(v, dict)))
        return Loaded(engine, ts_engine, servers, load)
    except Unavailable:
        for s in servers:
            s.stop()
        raise
    except Exception as e:  # noqa: BLE001 - any load failure is recorded, never fatal
        detail = "".join(traceback.format_exception_only(type(e), e)).strip()
        raise _LoadFailed(detail, load or None, servers) from e


def languages(engine, scenario: str) -> tuple[str, ...]:
    """The query-file stems `engine` reads in `scenario`, most specific first."""
    f = getattr(engine, "languages_for", None)
    return tuple(f(scenario)) if f else tuple(engine.languages)


def _run_cell(ctx: Context, sc: Scenario, loaded: Loaded, qid: str, variant: str) -> dict:
    q = catalog.get(qid)
    params = catalog.bind(q, ctx.params, variant)
    expected = ctx.reference[(qid, variant)]
    try:
        p = execution.plan(q, languages(loaded.engine, sc.name), sc.hybrid,
                           languages(loaded.engine, sc.name))
    except BtbError as e:
        return _write(ctx, sc, qid, variant, "skipped", str(e), load=loaded.load)
    timeout = ctx.protocol.timeout_s

    def once():
        t0 = time.perf_counter()
        out = execution.run(p, loaded.engine, params, timeout, loaded.ts_engine)
        return out, (time.perf_counter() - t0) * 1e3

    started = provenance.now()
    answer = {"checked": True, "matches_reference": None, "rows": None,
              "reference_rows": len(expected), "diff": None}
    try:
        out, _ = once()
        rows = canonical(out.rows)
        answer["rows"] = len(rows)
        answer["diff"] = compare(expected, rows)
        answer["matches_reference"] = answer["diff"] is None
        if not answer["matches_reference"]:
            return _write(ctx, sc, qid, variant, "wrong_answer", answer["diff"], p.mode,
                          answer, load=loaded.load, started=started)
        warm = [once()[1] for _ in range(ctx.protocol.n_warmup)]
        runs, splits = [], []
        for _ in range(ctx.protocol.n_runs):
            out, ms = once()
            runs.append(ms)
            splits.append(out.split_ms)
    except QueryTimeout as e:
        return _write(ctx, sc, qid, variant, "timeout", f"over {timeout} s: {e}", p.mode,
                      answer, load=loaded.load, started=started)
    except EngineCrashed as e:
        return _write(ctx, sc, qid, variant, "crashed", str(e) or "engine crashed", p.mode,
                      answer, load=loaded.load, started=started)
    stats = summarise(runs)
    extra = {"latencies_ms": runs, "warmup_ms": warm, "stats": stats,
             "unstable": unstable(stats)}
    if splits and splits[0]:
        extra["split_ms"] = {k: sum(s[k] for s in splits) / len(splits) for k in splits[0]}
    return _write(ctx, sc, qid, variant, "ok", None, p.mode, answer, load=loaded.load,
                  started=started, **extra)


def _all_cells(ctx: Context, sc: Scenario, status: str, reason: str, load=None) -> None:
    for qid in ctx.queries:
        for variant in ctx.protocol.variants:
            _write(ctx, sc, qid, variant, status, reason, load=load)


def _write(ctx: Context, sc: Scenario, qid: str, variant: str, status: str, reason,
           mode=None, answer=None, load=None, started=None, **extra) -> dict:
    prov = provenance.base(ctx.fingerprint, ctx.dataset_name)
    prov["engine"] = {"name": sc.engine, "version": (load or {}).get("engine_version")}
    prov["ts_engine"] = ({"name": sc.ts_engine, "version": (load or {}).get("ts_engine_version")}
                         if sc.hybrid else None)
    result = {
        "schema_version": results.SCHEMA_VERSION, "campaign": ctx.campaign,
        "profile": ctx.fingerprint["profile"], "scenario": sc.name, "engine": sc.engine,
        "ts_engine": sc.ts_engine, "runtime": ctx.runtime.name, "ram": ctx.ram,
        "ram_bytes": ctx.ram_bytes, "query": qid, "variant": variant, "mode": mode,
        "status": status, "reason": reason, "answer": answer, "load": load,
        "latencies_ms": [], "protocol": ctx.protocol.as_dict(), "provenance": prov,
        "started_at": started or provenance.now(), "finished_at": provenance.now(),
    }
    result.update(extra)
    results.write(results.cell_path(ctx.results, ctx.campaign, sc.name, ctx.ram, qid, variant),
                  result)
    ctx.written.append(result)
    return result
