"""`btb run`: check every input, verify the dataset, compute reference answers, run the loop."""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from pathlib import Path

from btb.bench import provenance
from btb.bench.campaign import Campaign
from btb.bench.runner import Context, Protocol, run_campaign
from btb.config.profiles import DEFAULT_SEED, get_profile
from btb.config.scenarios import get_scenarios
from btb.errors import BtbError, unknown_name
from btb.results.analysis import AMPLE_FRACTION, DEFAULT_NOISE_MS, DEFAULT_THRESHOLD, parse_gb
from btb.runtime import docker, local
from btb.workflows.datasets import open_verified
from btb.workload import catalog
from btb.workload.reference import Reference

# name -> (factory, check(ram_levels) raising BtbError when the runtime cannot serve them here)
RUNTIMES = {"local": (local.LocalRuntime, local.check),
            "docker": (docker.DockerRuntime, docker.check)}
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


# PostgreSQL P1 on small-2d took ~87 B per reading with indexes (243 MB for 2.78 M): the largest
# store, so the size every RAM gradient has to bracket
BYTES_PER_ROW_LOADED = 90


# A load slower than this is stuck, not slow: 10-100x below the load rates measured here
# (PostgreSQL 1-2.5 M rows/s, FalkorDB 2.1 M, Oxigraph ~3 M readings/s as day chunks)
MIN_LOAD_ROWS_PER_S = 20_000
MIN_LOAD_TIMEOUT_S = 600.0


def default_load_timeout(rows: int) -> float:
    """`--load-timeout` when not given: the profile's rows at MIN_LOAD_ROWS_PER_S, >= 10 min."""
    return max(MIN_LOAD_TIMEOUT_S, rows / MIN_LOAD_ROWS_PER_S)


def auto_levels(rows: int, host_bytes: int | None, log=print) -> list[float]:
    """`--ram auto`: powers of two GB from ~1/8 of the largest loaded store (where engines
    should fail or slow down) to ~1.5x it (everything cached), at least 0.125 GB, at most 6
    levels, capped at the host's memory."""
    store = max(rows * BYTES_PER_ROW_LOADED, 1) / 2**30
    low = 2.0 ** max(-3, math.floor(math.log2(store / 8)))
    high = max(2 * low, 2.0 ** math.ceil(math.log2(store * 1.5)))
    levels = [low * 2**i for i in range(int(math.log2(high / low)) + 1)][-6:]
    if host_bytes:
        dropped = [lv for lv in levels if lv * 2**30 > host_bytes]
        if dropped:
            log(f"--ram auto: dropping {', '.join(f'{d:g}' for d in dropped)} GB, above this "
                f"host's {host_bytes / 2**30:.1f} GB")
        levels = [lv for lv in levels if lv * 2**30 <= host_bytes] or levels[:1]
    return levels


def parse_ram(values: list[str] | None) -> list[float] | str | None:
    """--ram values: numbers in GB, or the single word `auto`."""
    if not values:
        return None
    if values == ["auto"]:
        return "auto"
    out = []
    for v in values:
        try:
            out.append(float(v))
        except ValueError:
            raise BtbError(f"--ram {v!r}: expected RAM levels in GB (e.g. --ram 0.5 1 2) or "
                           f"--ram auto (levels from the profile's size)") from None
    return out


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
        ram: list[str] | None = None, bisect_gb: float | None = None,
        threshold: float = DEFAULT_THRESHOLD, fresh: bool = False, command: list[str] | None = None,
        cold: bool = False, noise_ms: float = DEFAULT_NOISE_MS,
        load_timeout_s: float | None = None, log=print) -> tuple[list[dict], dict]:
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
    if not noise_ms >= 0:
        raise BtbError(f"--noise-ms {noise_ms:g}: must be >= 0 (ms of p95 difference ignored)")
    if load_timeout_s is not None and not load_timeout_s > 0:
        raise BtbError(f"--load-timeout {load_timeout_s:g}: must be > 0 seconds")
    if bisect_gb is not None and not bisect_gb > 0:
        raise BtbError(f"--bisect {bisect_gb:g}: the resolution must be > 0 GB, e.g. 0.25")
    host_ram = provenance.host()["ram_bytes"]
    ram = parse_ram(ram)
    if ram == "auto" or load_timeout_s is None:
        from btb.dataset.estimate import estimate

        rows = estimate(prof, seed).rows
        load_timeout_s = load_timeout_s or default_load_timeout(rows)
    if ram == "auto":
        ram = auto_levels(rows, host_ram, log)
        log(f"--ram auto for {prof.name}: {' '.join(f'{lv:g}' for lv in ram)} GB")
    levels = ram_levels(ram, host_ram)
    if bisect_gb is not None and len(levels) < 2:
        raise BtbError("--bisect needs at least two --ram levels to narrow RAM_min between")
    factory, check = RUNTIMES[runtime]
    check(levels)
    if cold and not hasattr(factory, "restart"):
        raise BtbError(f"--cold: the {runtime} runtime cannot restart a server on its data; "
                       f"cold runs work with: "
                       f"{', '.join(n for n, (f, _) in RUNTIMES.items() if hasattr(f, 'restart'))}")
    _check_results_dir(Path(results))
    name, ds, fp = open_verified(prof, seed, root)
    params = json.loads((ds / "params.json").read_text())
    ctx = Context(dataset=ds, dataset_name=name, fingerprint=fp, params=params,
                  reference={}, queries=qids, runtime=factory(), results=Path(results),
                  campaign=campaign or prof.name,
                  protocol=Protocol(n_warmup, n_runs, timeout_s, tuple(variants), cold,
                                    load_timeout_s), log=log)
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
                           threshold, command, noise_ms)
    return ctx.written, summary


def ram_min_table(summary: dict) -> str:
    rows = [[c["scenario"], c["runtime"], c["ram_min"] or "none passed",
             " ".join(f"{lv['ram']}:{'pass' if lv['passed'] else 'fail'}"
                      + ("(ample)" if lv["ample"] and lv["ram_bytes"] else "")
                      for lv in c["levels"])]
            for c in summary["configurations"]]
    head = ["scenario", "runtime", "RAM_min", "levels"]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in [head] + rows]
    return (f"RAM_min (p95 <= {summary['threshold']:g} x the median of the largest and the ample "
            f"levels' (peak < {AMPLE_FRACTION:.0%} of the limit, not compared), differences up to "
            f"{summary['noise_ms']:g} ms ignored)\n" + "\n".join(lines))


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
