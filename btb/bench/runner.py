"""The one run loop: for each RAM level and scenario, start its engines, load, measure every cell.

A cell is (scenario, RAM level, query, variant). Its first execution is checked against the
reference answer; only a matching answer gets warmup and measured runs. Failures are data:
a missing engine makes the scenario's cells `skipped`, a failed load `load_failed`, an OOM kill
in the engine's cgroup (during load or a query) `oom`, a query past its timeout `timeout`, a
dead engine `crashed`, a wrong answer `wrong_answer` — each written as a result file with its
reason, and the run goes on: a server that died is started and loaded again for the next cell.
Memory per phase (load, each cell) comes from the servers' cgroups (btb/bench/memory.py).
Cells already finished in the campaign (btb/bench/campaign.py) are not run again, and a
(scenario, level) with nothing left to run is not even loaded. Nothing here depends on an
engine's name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from btb.bench import provenance
from btb.bench.campaign import Campaign, cell_id
from btb.bench.memory import Meter
from btb.bench.stats import summarise, unstable
from btb.config.scenarios import Scenario
from btb.engines import registry
from btb.engines.base import EngineCrashed, QueryTimeout
from btb.errors import BtbError
from btb.results import store as results
from btb.results.analysis import DEFAULT_NOISE_MS, DEFAULT_THRESHOLD, next_bisect_level, ram_label
from btb.results.analysis import summarise as summarise_levels
from btb.runtime.base import ServerSpec, StartOOM, Unavailable
from btb.workload import catalog, execution
from btb.workload.answers import canonical, compare

RECONNECT_S = 60.0  # PostgreSQL replays WAL after a backend was killed before it accepts sessions


@dataclass(frozen=True)
class Protocol:
    n_warmup: int = 2
    n_runs: int = 5
    timeout_s: float = 60.0
    variants: tuple[str, ...] = ("small", "large")
    cold: bool = False  # restart the engines (and drop caches when permitted) before each cell
    # Give up a load after this long (None: never). Seen here: FalkorDB under 20 MiB was neither
    # OOM-killed nor progressing (the kernel kept evicting and re-reading its own code pages),
    # and a load has no query timeout to end it. Not in as_dict: it ends a failure sooner, it
    # does not change a measurement, so a campaign resumes across different values.
    load_timeout_s: float | None = None

    def as_dict(self) -> dict:
        return {"n_warmup": self.n_warmup, "n_runs": self.n_runs, "timeout_s": self.timeout_s,
                "cold": self.cold}


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
    work_dir: Path | None = None
    log: Callable[[str], None] = print
    written: list[dict] = field(default_factory=list)
    state: Campaign | None = None  # manifest + progress; run_campaign creates one when missing

    def identity(self) -> dict:
        """What must not change between a campaign's runs for its cells to be comparable."""
        return {"profile": self.fingerprint["profile"],
                "dataset_sha256": self.fingerprint["dataset_sha256"],
                "runtime": self.runtime.name, "protocol": self.protocol.as_dict()}


@dataclass
class Loaded:
    engine: object
    ts_engine: object | None
    servers: dict  # role ("structure", "timeseries") -> server
    load: dict
    meter: Meter


def planned(ctx: Context, sc: Scenario, ram_bytes: int | None) -> list[str]:
    ram = ram_label(ram_bytes)
    return [cell_id(sc.name, ram, q, v) for q in ctx.queries for v in ctx.protocol.variants]


def run_campaign(ctx: Context, scenarios: list[Scenario], levels: list[int | None],
                 bisect_bytes: int | None = None, threshold: float = DEFAULT_THRESHOLD,
                 command: list[str] | None = None, noise_ms: float = DEFAULT_NOISE_MS) -> dict:
    """Every level x scenario, then bisection levels; returns the campaign summary."""
    if ctx.state is None:
        ctx.state = Campaign(ctx.results, ctx.campaign, ctx.identity(), log=ctx.log)
    camp = ctx.state
    camp.plan([c for lv in levels for sc in scenarios for c in planned(ctx, sc, lv)], command)
    camp.begin()
    try:
        for level in levels:
            for sc in scenarios:
                run_scenario(ctx, sc, level)
        if bisect_bytes:
            _bisect(ctx, scenarios, bisect_bytes, threshold, noise_ms, command)
    except BaseException as e:
        camp.fail(f"{type(e).__name__}: {e}")
        raise
    return camp.finish(threshold, noise_ms)


def _bisect(ctx: Context, scenarios: list[Scenario], resolution: int, threshold: float,
            noise_ms: float, command) -> None:
    """Narrow RAM_min per scenario: run the midpoint level until the gap is within resolution."""
    for sc in scenarios:
        while True:
            cells = [results.read(ctx.state.path(c)) for c in ctx.state.cells
                     if c.startswith(f"{sc.name}/") and ctx.state.path(c).exists()]
            level = None
            for summary in summarise_levels(cells, threshold, noise_ms):
                level = next_bisect_level(summary, resolution)
            if level is None:
                break
            ctx.log(f"[{sc.name}] bisecting RAM_min: trying {ram_label(level)}")
            ctx.state.plan(planned(ctx, sc, level), command)
            run_scenario(ctx, sc, level)


def run_scenarios(ctx: Context, scenarios: list[Scenario]) -> list[dict]:
    """One pass without a RAM limit (tests and simple runs)."""
    run_campaign(ctx, scenarios, [None])
    return ctx.written


def run_scenario(ctx: Context, sc: Scenario, ram_bytes: int | None = None) -> None:
    ram = ram_label(ram_bytes)
    todo = [c for c in planned(ctx, sc, ram_bytes) if not ctx.state.finished(c)]
    if not todo:
        ctx.log(f"[{sc.name} @ {ram}] all cells finished earlier; not loading")
        return
    base_dir = Path(tempfile.mkdtemp(prefix=f"btb-{sc.name}-{ram}-", dir=ctx.work_dir))
    ctx.log(f"[{sc.name} @ {ram}] starting {sc.engine}"
            + (f" + {sc.ts_engine}" if sc.hybrid else "") + f"; {len(todo)} cells to run")
    loaded, failure = _start_and_load(ctx, sc, base_dir, ram_bytes)
    try:
        for cell in todo:
            qid, variant = cell.split("/")[2].split("-")
            ctx.state.start_cell(cell)
            if loaded is None:
                _write(ctx, sc, ram_bytes, qid, variant, failure["status"], failure["reason"],
                       load=failure["load"], memory=failure["memory"])
            else:
                result = _run_cell(ctx, sc, ram_bytes, loaded, qid, variant)
                if result["status"] in ("crashed", "oom"):
                    loaded, failure = _recover(ctx, sc, base_dir, ram_bytes, loaded, result)
            ctx.state.end_cell(cell)
    finally:
        if loaded is not None:
            _stop(loaded.servers)
        _remove_data(base_dir)


def _stop(servers: dict) -> None:
    for s in servers.values():
        s.stop()


def _remove_data(base_dir: Path) -> None:
    """Delete a (scenario, level)'s data dirs, and the private dirs they link to (PostgreSQL's
    when the postgres user cannot traverse base_dir): a campaign must not fill the disk with
    one copy of the database per level."""
    for link in [p for p in base_dir.rglob("*") if p.is_symlink()]:
        target = link.resolve()
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            try:
                target.parent.rmdir()  # the private dir that held it, when nothing else is left
            except OSError:
                pass
    shutil.rmtree(base_dir, ignore_errors=True)


DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def _drop_caches() -> bool:
    """sync + drop the page cache: as root, else through `sudo -n` (the btb_host sudoers rule)."""
    os.sync()
    try:
        DROP_CACHES.write_text("3")
        return True
    except OSError:
        pass
    try:
        return subprocess.run(["sudo", "-n", "tee", str(DROP_CACHES)], input="3", text=True,
                              capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _cold_restart(ctx: Context, loaded: Loaded) -> dict:
    """Restart every server on its data, reconnect, drop caches; returns the `cold` figures."""
    t0 = time.perf_counter()
    loaded.servers = {role: ctx.runtime.restart(s) for role, s in loaded.servers.items()}
    loaded.meter.rebind(loaded.servers)
    _reconnect(loaded)
    return {"restart_s": time.perf_counter() - t0, "caches_dropped": _drop_caches(),
            "ms": None}


def _recover(ctx, sc, base_dir, ram_bytes, loaded: Loaded, result: dict):
    """After a crash or OOM: reconnect if the servers live, else start and load them again."""
    if all(s.alive() for s in loaded.servers.values()):
        try:
            _reconnect(loaded)
            return loaded, None
        except Exception as e:  # noqa: BLE001 - a server that takes no session is restarted
            ctx.log(f"[{sc.name}] reconnect failed ({e}); restarting the servers")
    ctx.log(f"[{sc.name}] engine died ({result['status']}: {result['reason']}); "
            f"starting and loading it again for the next cells")
    _stop(loaded.servers)
    return _start_and_load(ctx, sc, Path(tempfile.mkdtemp(dir=base_dir)), ram_bytes)


def _reconnect(loaded: Loaded) -> None:
    engines = [loaded.engine] + ([loaded.ts_engine] if loaded.ts_engine is not None else [])
    deadline = time.monotonic() + RECONNECT_S
    for engine, server in zip(engines, loaded.servers.values()):
        engine.close()
        while True:
            try:
                engine.connect(server.endpoint)
                break
            except Exception:
                if time.monotonic() > deadline or not server.alive():
                    raise
                time.sleep(0.5)


def _start(ctx: Context, name: str, base_dir: Path, ram_bytes: int | None):
    # the query timeout also goes to the server, for engines that enforce one server-side
    # (oxigraph --timeout-s, memgraph); the others ignore the option
    options = {"query_timeout_s": ctx.protocol.timeout_s}
    if ctx.protocol.cold:
        options["keep_data"] = True  # a cold restart starts again from the loaded data
    return ctx.runtime.start(ServerSpec(name, base_dir / name, ram_bytes, options))


def _connect(name: str, server):
    engine = registry.create(name)
    engine.connect(server.endpoint)
    return engine


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


def _start_and_load(ctx: Context, sc: Scenario, base_dir: Path, ram_bytes: int | None):
    """(Loaded, None) or (None, failure) where failure holds the status every cell gets."""
    servers, load, meter, watchdog = {}, {}, None, None
    try:
        server = servers["structure"] = _start(ctx, sc.engine, base_dir, ram_bytes)
        if sc.hybrid:
            servers["timeseries"] = _start(ctx, sc.ts_engine, base_dir, ram_bytes)
        # the load phase starts with the first session: a server too small even for that is
        # killed here, and its cgroup's OOM counter must see it
        meter = Meter(servers, ram_bytes)
        meter.begin(since_start=True)
        ts_engine = None
        watchdog = _LoadWatchdog(ctx.protocol.load_timeout_s, servers, meter)
        with watchdog:
            engine = _connect(sc.engine, server)
            if sc.hybrid:
                ts_engine = _connect(sc.ts_engine, servers["timeseries"])
            load["structure"] = _load_one(ctx, engine, sc.name)
            if ts_engine is not None:
                load["timeseries"] = _load_one(ctx, ts_engine, "TS")
        kills = watchdog.kills
        if watchdog.fired:  # the load ended as its servers were stopped: not a load
            raise LoadTimeout("the load finished only as the watchdog stopped its servers")
        if kills:
            raise MemoryError(f"{kills} OOM kill(s) in the engine's cgroup during the load")
        load["engine_version"] = server.endpoint.version
        if sc.hybrid:
            load["ts_engine_version"] = servers["timeseries"].endpoint.version
        load["servers"] = {role: dict(getattr(s, "info", {}) or {})
                           for role, s in servers.items()}
        ctx.log(f"[{sc.name} @ {ram_label(ram_bytes)}] loaded in " + ", ".join(
            f"{k} {load[k]['seconds']:.1f} s" for k in ("structure", "timeseries") if k in load))
        return Loaded(engine, ts_engine, servers, load, meter), None
    except Unavailable as e:
        _stop(servers)
        ctx.log(f"[{sc.name}] skipped: {e}")
        return None, {"status": "skipped", "reason": str(e), "load": None, "memory": None}
    except Exception as e:  # noqa: BLE001 - any load failure is recorded, never fatal
        memory = meter.report() if meter is not None else None
        oom = isinstance(e, StartOOM) or meter is not None and any(
            (ph.get("load") or {}).get("oom_kills") for ph in memory.values())
        _stop(servers)
        detail = "".join(traceback.format_exception_only(type(e), e)).strip()
        timed_out = watchdog is not None and watchdog.fired
        if timed_out:
            detail = (f"no end after {ctx.protocol.load_timeout_s:g} s (--load-timeout), "
                      f"servers stopped; client saw: {detail}")
        status = "oom" if oom else "timeout" if timed_out else "load_failed"
        ctx.log(f"[{sc.name} @ {ram_label(ram_bytes)}] {status}: {detail}")
        return None, {"status": status, "reason": f"during load: {detail}",
                      "load": load or None, "memory": memory}


class LoadTimeout(Exception):
    """A load outlived the protocol's load timeout and its servers were stopped."""


class _LoadWatchdog:
    """The load phase, ended by force after `timeout_s` (None: never). Firing closes the phase's
    memory figures while the servers' cgroups still exist (peak and OOM kills of a server stuck
    at its limit are the point), then stops the servers: that is what ends a client blocked on
    one, whatever the engine. Leaving the `with` block closes the phase when it did not fire."""

    def __init__(self, timeout_s: float | None, servers: dict, meter: Meter) -> None:
        self.servers, self.meter = servers, meter
        self.fired = False
        self.kills = 0
        self._timer = threading.Timer(timeout_s, self._fire) if timeout_s else None

    def _fire(self) -> None:
        self.fired = True
        self.kills = self.meter.end("load")
        _stop(self.servers)

    def __enter__(self) -> _LoadWatchdog:
        if self._timer is not None:
            self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._timer is not None:
            self._timer.cancel()
            if self._timer.is_alive():
                self._timer.join()  # it fired: let the stop finish before anything else
        if not self.fired:
            self.kills = self.meter.end("load")


def languages(engine, scenario: str) -> tuple[str, ...]:
    """The query-file stems `engine` reads in `scenario`, most specific first."""
    f = getattr(engine, "languages_for", None)
    return tuple(f(scenario)) if f else tuple(engine.languages)


def _run_cell(ctx: Context, sc: Scenario, ram_bytes, loaded: Loaded, qid: str,
              variant: str) -> dict:
    q = catalog.get(qid)
    params = catalog.bind(q, ctx.params, variant)
    expected = ctx.reference[(qid, variant)]
    common = {"load": loaded.load}
    try:
        p = execution.plan(q, languages(loaded.engine, sc.name), sc.hybrid,
                           languages(loaded.engine, sc.name))
    except BtbError as e:
        return _write(ctx, sc, ram_bytes, qid, variant, "skipped", str(e), **common,
                      memory=loaded.meter.report())
    timeout = ctx.protocol.timeout_s

    def once():
        t0 = time.perf_counter()
        out = execution.run(p, loaded.engine, params, timeout, loaded.ts_engine)
        return out, (time.perf_counter() - t0) * 1e3

    started = provenance.now()
    answer = {"checked": True, "matches_reference": None, "rows": None,
              "reference_rows": len(expected), "diff": None}
    status, reason, extra = "ok", None, {}
    cold = None
    try:
        if ctx.protocol.cold:
            cold = _cold_restart(ctx, loaded)
    except Exception as e:  # noqa: BLE001 - a server that does not come back is this cell's crash
        return _write(ctx, sc, ram_bytes, qid, variant, "crashed", f"cold restart failed: {e}",
                      p.mode, answer, started=started, **common)
    loaded.meter.begin()
    try:
        out, first_ms = once()
        if cold is not None:
            cold["ms"] = first_ms
        rows = canonical(out.rows)
        answer["rows"] = len(rows)
        answer["diff"] = compare(expected, rows)
        answer["matches_reference"] = answer["diff"] is None
        if not answer["matches_reference"]:
            status, reason = "wrong_answer", answer["diff"]
        else:
            warm = [once()[1] for _ in range(ctx.protocol.n_warmup)]
            runs, splits = [], []
            for _ in range(ctx.protocol.n_runs):
                out, ms = once()
                runs.append(ms)
                splits.append(out.split_ms)
            stats = summarise(runs)
            extra = {"latencies_ms": runs, "warmup_ms": warm, "stats": stats,
                     "unstable": unstable(stats)}
            if splits and splits[0]:
                extra["split_ms"] = {k: sum(s[k] for s in splits) / len(splits)
                                     for k in splits[0]}
    except QueryTimeout as e:
        status, reason = "timeout", f"over {timeout} s: {e}"
    except EngineCrashed as e:
        status, reason = "crashed", str(e) or "engine crashed"
    except Exception as e:  # noqa: BLE001 - an engine error is this cell's failure, not the run's
        status = "crashed"
        reason = "query failed: " + "".join(traceback.format_exception_only(type(e), e)).strip()
    finally:
        kills = loaded.meter.end("query")
    if kills:
        # whatever the client saw (a lost connection, an error, even an answer), a process of
        # the engine was killed for memory during this cell: its figures are not a result
        status, reason = "oom", f"{kills} OOM kill(s) in the engine's cgroup; client saw: " + (
            reason or "an answer")
        extra = {}
    if cold is not None and status == "ok":
        extra["cold"] = cold
    return _write(ctx, sc, ram_bytes, qid, variant, status, reason, p.mode, answer,
                  started=started, memory=loaded.meter.report(), **common, **extra)


def _write(ctx: Context, sc: Scenario, ram_bytes, qid: str, variant: str, status: str, reason,
           mode=None, answer=None, load=None, started=None, memory=None, **extra) -> dict:
    prov = provenance.base(ctx.fingerprint, ctx.dataset_name)
    servers = (load or {}).get("servers", {})
    prov["engine"] = {"name": sc.engine, "version": (load or {}).get("engine_version"),
                      **servers.get("structure", {})}
    prov["ts_engine"] = ({"name": sc.ts_engine, "version": (load or {}).get("ts_engine_version"),
                          **servers.get("timeseries", {})} if sc.hybrid else None)
    ram = ram_label(ram_bytes)
    result = {
        "schema_version": results.SCHEMA_VERSION, "campaign": ctx.campaign,
        "profile": ctx.fingerprint["profile"], "scenario": sc.name, "engine": sc.engine,
        "ts_engine": sc.ts_engine, "runtime": ctx.runtime.name, "ram": ram,
        "ram_bytes": ram_bytes, "query": qid, "variant": variant, "mode": mode,
        "status": status, "reason": reason, "answer": answer, "load": load, "memory": memory,
        "latencies_ms": [], "protocol": ctx.protocol.as_dict(), "provenance": prov,
        "started_at": started or provenance.now(), "finished_at": provenance.now(),
    }
    result.update(extra)
    results.write(results.cell_path(ctx.results, ctx.campaign, sc.name, ram, qid, variant),
                  result)
    ctx.written.append(result)
    return result
