"""`btb run`: check every input, verify the dataset, compute reference answers, run the loop."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

from btb.bench import provenance
from btb.bench.campaign import Campaign
from btb.bench.runner import Context, Protocol, run_campaign
from btb.config.profiles import DEFAULT_SEED, get_profile
from btb.config.scenarios import get_scenarios
from btb.errors import BtbError, unknown_name
from btb.results.analysis import DEFAULT_THRESHOLD, parse_gb
from btb.runtime import local
from btb.workflows.datasets import open_verified
from btb.workload import catalog
from btb.workload.reference import Reference

# name -> (factory, check(ram_levels) raising BtbError when the runtime cannot serve them here)
RUNTIMES = {"local": (local.LocalRuntime, local.check)}
VARIANTS = ("small", "large")


def _check_results_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BtbError(f"results directory {path} cannot be created: {e.strerror}") from None
    if not path.is_dir() or not os.access(path, os.W_OK):
        raise BtbError(f"results directory {path} is not a writable directory")
    probe = path / ".btb-write-probe"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise BtbError(f"results directory {path} is not writable: {e.strerror}") from None


def ram_levels(values: list[float] | None, host_bytes: int | None) -> list[int | None]:
    """--ram in GB (fractions allowed) -> sorted distinct byte levels; none given = unlimited."""
    if not values:
        return [None]
    levels = set()
    for v in values:
        if not v > 0:
            raise BtbError(f"--ram {v:g}: a RAM level must be > 0 GB (e.g. --ram 0.5 1 2 4)")
        n = parse_gb(v)
        if host_bytes and n > host_bytes:
            raise BtbError(f"--ram {v:g}: above this host's memory ({host_bytes / 2**30:.1f} GB);"
                           f" valid levels are > 0 and <= {host_bytes / 2**30:.1f}")
        levels.add(n)
    return sorted(levels)


def run(profile: str, scenarios: list[str], queries: list[str], runtime: str, results: Path,
        root: Path, seed: int = DEFAULT_SEED, n_warmup: int = 2, n_runs: int = 5,
        timeout_s: float = 60.0, variants: list[str] | None = None, campaign: str | None = None,
        ram: list[float] | None = None, bisect_gb: float | None = None,
        threshold: float = DEFAULT_THRESHOLD, fresh: bool = False, command: list[str] | None = None,
        log=print) -> tuple[list[dict], dict]:
    """Returns (cells written by this invocation, campaign summary)."""
    prof = get_profile(profile)
    chosen = get_scenarios(scenarios)
    qids = catalog.parse_selection(queries)
    if runtime not in RUNTIMES:
        raise unknown_name("runtime", runtime, RUNTIMES)
    variants = variants or list(VARIANTS)
    for v in variants:
        if v not in VARIANTS:
            raise unknown_name("variant", v, VARIANTS)
    if n_runs < 1 or n_warmup < 0 or timeout_s <= 0:
        raise BtbError("bad protocol: --n-runs must be >= 1, --n-warmup >= 0, --timeout > 0")
    if threshold < 1:
        raise BtbError(f"--threshold {threshold:g}: must be >= 1 (p95 ratio to the largest level)")
    if bisect_gb is not None and not bisect_gb > 0:
        raise BtbError(f"--bisect {bisect_gb:g}: the resolution must be > 0 GB, e.g. 0.25")
    levels = ram_levels(ram, provenance.host()["ram_bytes"])
    if bisect_gb is not None and len(levels) < 2:
        raise BtbError("--bisect needs at least two --ram levels to narrow RAM_min between")
    factory, check = RUNTIMES[runtime]
    check(levels)
    _check_results_dir(Path(results))
    name, ds, fp = open_verified(prof, seed, root)
    params = json.loads((ds / "params.json").read_text())
    ctx = Context(dataset=ds, dataset_name=name, fingerprint=fp, params=params,
                  reference={}, queries=qids, runtime=factory(), results=Path(results),
                  campaign=campaign or prof.name,
                  protocol=Protocol(n_warmup, n_runs, timeout_s, tuple(variants)), log=log)
    # refuse a mismatching campaign before the minutes of reference answers
    ctx.state = Campaign(ctx.results, ctx.campaign, ctx.identity(), fresh=fresh, log=log)
    log(f"dataset {name} verified ({fp['dataset_sha256'][:12]}); computing reference answers")
    ref = Reference(ds)
    try:
        ctx.reference = {(q, v): ref.answer(q, catalog.bind(catalog.get(q), params, v))
                         for q in qids for v in variants}
    finally:
        ref.close()
    reap = getattr(ctx.runtime, "reap_orphans", None)
    if reap is not None:
        for line in reap():
            log(line)
    summary = run_campaign(ctx, chosen, levels, parse_gb(bisect_gb) if bisect_gb else None,
                           threshold, command)
    return ctx.written, summary


def ram_min_table(summary: dict) -> str:
    rows = [[c["scenario"], c["runtime"], c["ram_min"] or "none passed",
             " ".join(f"{lv['ram']}:{'pass' if lv['passed'] else 'fail'}" for lv in c["levels"])]
            for c in summary["configurations"]]
    head = ["scenario", "runtime", "RAM_min", "levels"]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in [head] + rows]
    return (f"RAM_min (p95 <= {summary['threshold']:g} x largest level's)\n" + "\n".join(lines))


def summary_table(written: list[dict]) -> str:
    """Scenario x query: p50 ms (small/large) or the status."""
    cells = defaultdict(dict)
    scen, qs = [], []
    several = len({r["ram"] for r in written}) > 1
    for r in written:
        col = f"{r['scenario']}@{r['ram']}" if several else r["scenario"]
        if col not in scen:
            scen.append(col)
        if r["query"] not in qs:
            qs.append(r["query"])
        cell = (f"{r['stats']['p50']:.1f}" if r["status"] == "ok" else r["status"])
        cells[(col, r["query"])][r["variant"]] = cell
    head = ["query"] + scen
    rows = [[q] + ["/".join(cells[(s, q)].get(v, "-") for v in ("small", "large"))
                   for s in scen] for q in qs]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in [head] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "p50 ms (small/large variant) or status\n" + "\n".join(lines)
