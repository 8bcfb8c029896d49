"""`btb run`: check every input, verify the dataset, compute reference answers, run the loop."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

from btb.bench.runner import Context, Protocol, run_scenarios
from btb.config.profiles import DEFAULT_SEED, get_profile
from btb.config.scenarios import get_scenarios
from btb.errors import BtbError, unknown_name
from btb.runtime.docker import DockerRuntime
from btb.runtime.local import LocalRuntime
from btb.workflows.datasets import open_verified
from btb.workload import catalog
from btb.workload.reference import Reference

RUNTIMES = {"local": LocalRuntime, "docker": DockerRuntime}
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


def run(profile: str, scenarios: list[str], queries: list[str], runtime: str, results: Path,
        root: Path, seed: int = DEFAULT_SEED, n_warmup: int = 2, n_runs: int = 5,
        timeout_s: float = 60.0, variants: list[str] | None = None, campaign: str | None = None,
        log=print) -> list[dict]:
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
    _check_results_dir(Path(results))
    rt = RUNTIMES[runtime]()  # before any long step: an unreachable Docker Engine fails here
    name, ds, fp = open_verified(prof, seed, root)
    params = json.loads((ds / "params.json").read_text())
    log(f"dataset {name} verified ({fp['dataset_sha256'][:12]}); computing reference answers")
    ref = Reference(ds)
    try:
        reference = {(q, v): ref.answer(q, catalog.bind(catalog.get(q), params, v))
                     for q in qids for v in variants}
    finally:
        ref.close()
    ctx = Context(dataset=ds, dataset_name=name, fingerprint=fp, params=params,
                  reference=reference, queries=qids, runtime=rt,
                  results=Path(results), campaign=campaign or prof.name,
                  protocol=Protocol(n_warmup, n_runs, timeout_s, tuple(variants)), log=log)
    return run_scenarios(ctx, chosen)


def summary_table(written: list[dict]) -> str:
    """Scenario x query: p50 ms (small/large) or the status."""
    cells = defaultdict(dict)
    scen, qs = [], []
    for r in written:
        if r["scenario"] not in scen:
            scen.append(r["scenario"])
        if r["query"] not in qs:
            qs.append(r["query"])
        cell = (f"{r['stats']['p50']:.1f}" if r["status"] == "ok" else r["status"])
        cells[(r["scenario"], r["query"])][r["variant"]] = cell
    head = ["query"] + scen
    rows = [[q] + ["/".join(cells[(s, q)].get(v, "-") for v in ("small", "large"))
                   for s in scen] for q in qs]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in [head] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "p50 ms (small/large variant) or status\n" + "\n".join(lines)
