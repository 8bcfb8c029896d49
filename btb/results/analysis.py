"""RAM gradient analysis over cell results: per-level verdicts, RAM_min, efficiency, bisection.

A *configuration* is (dataset, profile, scenario, runtime); its cells at one RAM level form a
*level*. DESIGN.md §7 defines:

- a level **passes** when loading succeeded, no cell hit OOM, and each query's p95 is at most
  `threshold` × its *reference* p95 (below). We also fail a level on `timeout`, `crashed` and
  `load_failed` (a starved engine shows up as those as often as as `oom`). `skipped` and
  `wrong_answer` cells that have the same status at the largest level say nothing about memory
  and are ignored; the same status appearing only at a smaller level fails it.
- **ample levels** (our refinement of §7's "p95 at the largest level"): a level whose servers
  never used more than AMPLE_FRACTION (90%) of their limit, page cache included, in any phase,
  was never under memory pressure (the kernel reclaims only at the limit). Its latency
  differences are not memory's doing, so they are not compared; they join the reference
  instead: a query's reference p95 is the median of its p95 over the largest level and every
  ample level. Measured on small-2d (quiet host, 2 cores), the largest level's PostgreSQL ran
  25-35% faster in geometric mean than five other servers at 1-1.98 GB whose peak stayed under
  52% of their limit (its FalkorDB 25-30% slower): against that one server, every level failed
  the 1.2× rule. A level without memory figures (no cgroup) counts as under pressure.
- **noise floor**: a p95 at most `noise_ms` (1 ms by default) above the reference never fails a
  level, whatever the ratio: sub-millisecond queries (P1 Q1: 0.13 to 0.52 ms) vary up to 4×
  between two loads at ample RAM. `noise_ms=0` gives the bare ratio rule.
- **RAM_min** = the smallest level from which *every larger level also passes*. A passing level
  below a failing one is noise or a real anomaly; it is not taken as RAM_min but reported as
  `non_monotonic` so a reader sees it.
- **efficiency** = queries per second (1 / geometric-mean p95, in seconds) per GB allocated, over
  the cells that are ok at both this level and the largest one; null when any of them is not ok
  here (a mean over fewer cells would flatter a failing level). GB = 2^30 bytes, as docker's "1g".
  A hybrid runs two servers, each limited to the level, so it is allocated twice the level: its
  efficiency divides by that, or hybrids would look twice as frugal as they are.
- **bisection**: between the last failing level below RAM_min and RAM_min, the next level to try
  is the midpoint, rounded to whole MiB, until the gap is below the requested resolution.

"unlimited" (no limit, ram_bytes null) counts as the largest level but is never a RAM_min
candidate and has no efficiency (nothing allocated to divide by).

Pure functions of result dicts (as stored by `btb.results.store`): no I/O, no engines.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict

DEFAULT_THRESHOLD = 1.2
DEFAULT_NOISE_MS = 1.0
# A level whose servers never used more than this fraction of their limit (page cache included)
# was never under memory pressure: the kernel reclaims only at the limit.
AMPLE_FRACTION = 0.9
GIB = 1 << 30
MIB = 1 << 20
FAILING = ("load_failed", "oom", "timeout", "crashed")


def ram_label(nbytes: int | None) -> str:
    """Directory/label for a RAM level: 'unlimited', '4g', '0.5g', '1.375g' (GB = 2^30) when
    the size is a whole number of thousandths of a GB, else '1331m' (MiB), else bytes."""
    if nbytes is None:
        return "unlimited"
    if (nbytes * 1000) % GIB == 0:
        return f"{nbytes / GIB:g}g"
    return f"{nbytes // MIB}m" if nbytes % MIB == 0 else f"{nbytes}b"


def parse_gb(value: float) -> int:
    """A RAM level in GB (2^30 bytes, fractions allowed) -> bytes, rounded to whole MiB so the
    limit the kernel reads back equals the request (v1 rounds to pages)."""
    return max(1, round(value * 1024)) * MIB


def config_key(r: dict) -> tuple:
    return (r["provenance"]["dataset"]["dataset_sha256"], r["profile"], r["scenario"],
            r["runtime"])


def _order(ram_bytes: int | None) -> float:
    return math.inf if ram_bytes is None else ram_bytes


def _cell(r: dict) -> tuple[str, str]:
    return r["query"], r["variant"]


def _p95(r: dict) -> float | None:
    return r.get("stats", {}).get("p95") if r["status"] == "ok" else None


def peak_fraction(cells: list[dict]) -> float | None:
    """The highest memory peak / limit over a level's cells, servers and phases (load, query);
    None when a server has no such figures (unknown, so possibly under pressure)."""
    worst = None
    for r in cells:
        for m in (r.get("memory") or {}).values():
            limit = m.get("limit_bytes")
            peaks = [ph["peak_bytes"] for ph in m.values()
                     if isinstance(ph, dict) and ph.get("peak_bytes") is not None]
            if not limit or not peaks:
                return None
            worst = max(worst or 0.0, max(peaks) / limit)
    return worst


def level_verdict(cells: list[dict], reference: dict, threshold: float,
                  noise_ms: float = DEFAULT_NOISE_MS,
                  ample: bool = False) -> tuple[bool, list[str]]:
    """(passes, reasons) for one level's cells against the reference cells by (q, v). An `ample`
    level (memory never near its limit) has its statuses checked but not its latencies."""
    reasons = []
    if not any(r["status"] == "ok" for r in cells):
        # e.g. every cell skipped (engine not installed): nothing was measured, nothing passes
        reasons.append("no cell ok at this level")
    for r in sorted(cells, key=_cell):
        q, v = _cell(r)
        ref = reference.get((q, v))
        name = f"{q}-{v}"
        if r["status"] in FAILING:
            reasons.append(f"{name}: {r['status']}")
        elif r["status"] in ("skipped", "wrong_answer"):
            if ref is None or ref["status"] != r["status"]:
                reasons.append(f"{name}: {r['status']} (not at the largest level)")
        elif not ample and ref is not None and ref["status"] == "ok":
            p95, p95_ref = _p95(r), _p95(ref)
            if p95_ref and p95 is not None and p95 > threshold * p95_ref \
                    and p95 - p95_ref > noise_ms:
                reasons.append(f"{name}: p95 {p95:.3g} ms > {threshold:g} x {p95_ref:.3g} ms")
    return not reasons, reasons


def servers_per_level(r: dict) -> int:
    """Engine servers a scenario runs, each with the RAM level as its own limit."""
    return 2 if r.get("ts_engine") else 1


def _efficiency(cells: list[dict], reference: dict, ram_bytes: int | None) -> tuple:
    """(geomean p95 ms, queries/s per GB) over cells ok at the largest level; None if any fails."""
    by = {_cell(r): r for r in cells}
    keys = [k for k, ref in reference.items() if ref["status"] == "ok"]
    p95s = [_p95(by[k]) if k in by else None for k in keys]
    if not keys or any(p is None or p <= 0 for p in p95s):
        return None, None
    geo_ms = math.exp(sum(math.log(p) for p in p95s) / len(p95s))
    if ram_bytes is None:
        return geo_ms, None
    return geo_ms, (1000.0 / geo_ms) / (ram_bytes * servers_per_level(cells[0]) / GIB)


def summarise_config(cells: list[dict], threshold: float = DEFAULT_THRESHOLD,
                     noise_ms: float = DEFAULT_NOISE_MS) -> dict:
    """Verdict per level, RAM_min and bisection bounds for one configuration's cells."""
    levels: dict[int | None, list[dict]] = defaultdict(list)
    for r in cells:
        levels[r.get("ram_bytes")].append(r)
    order = sorted(levels, key=_order)
    top = order[-1]
    fractions = {nb: peak_fraction(levels[nb]) for nb in order}
    ample = {nb for nb in order
             if nb is None or fractions[nb] is not None and fractions[nb] < AMPLE_FRACTION}
    ref_levels = [nb for nb in order if nb == top or nb in ample]
    reference = _reference(levels, top, ref_levels)
    rows = []
    for nbytes in order:
        passed, reasons = level_verdict(levels[nbytes], reference, threshold, noise_ms,
                                        nbytes in ample)
        geo, eff = _efficiency(levels[nbytes], reference, nbytes)
        status_counts: dict[str, int] = defaultdict(int)
        for r in levels[nbytes]:
            status_counts[r["status"]] += 1
        allocated = None if nbytes is None else nbytes * servers_per_level(levels[nbytes][0])
        rows.append({"ram": ram_label(nbytes), "ram_bytes": nbytes,
                     "allocated_bytes": allocated, "passed": passed,
                     "reasons": reasons, "cells": len(levels[nbytes]),
                     "statuses": dict(sorted(status_counts.items())),
                     "peak_fraction": fractions[nbytes], "ample": nbytes in ample,
                     "geomean_p95_ms": geo, "efficiency_qps_per_gb": eff})
    first = cells[0]
    out = {"dataset_sha256": config_key(first)[0], "profile": first["profile"],
           "scenario": first["scenario"], "runtime": first["runtime"],
           "engine": first["engine"], "ts_engine": first.get("ts_engine"),
           "threshold": threshold, "noise_ms": noise_ms, "reference_ram": ram_label(top),
           "reference_levels": [ram_label(nb) for nb in ref_levels], "levels": rows}
    out.update(_ram_min(rows))
    return out


def _reference(levels: dict, top, ref_levels: list) -> dict:
    """Per (query, variant): the largest level's cell, its p95 replaced by the median p95 over
    the reference levels (the largest one and every ample one) where the cell is ok."""
    p95s: dict[tuple, list[float]] = defaultdict(list)
    for nb in ref_levels:
        for c in levels[nb]:
            if (p := _p95(c)) is not None:
                p95s[_cell(c)].append(p)
    reference = {}
    for r in levels[top]:
        k = _cell(r)
        if r["status"] == "ok" and p95s[k]:
            r = {**r, "stats": {**r.get("stats", {}), "p95": statistics.median(p95s[k])}}
        reference[k] = r
    return reference


def _ram_min(rows: list[dict]) -> dict:
    limited = [r for r in rows if r["ram_bytes"] is not None]
    # walk down from the largest level while levels pass: the last one reached is RAM_min
    i = len(rows)
    while i > 0 and rows[i - 1]["passed"]:
        i -= 1
    candidates = [r for r in rows[i:] if r["ram_bytes"] is not None]
    best = candidates[0] if candidates else None
    below = [r for r in limited if best is None or r["ram_bytes"] < best["ram_bytes"]]
    failing_below = [r for r in below if not r["passed"]]
    non_monotonic = [r["ram"] for r in below if r["passed"]]
    gap = None
    if best is not None and failing_below:
        low = failing_below[-1]
        gap = {"low": low["ram"], "low_bytes": low["ram_bytes"], "high": best["ram"],
               "high_bytes": best["ram_bytes"]}
    return {"ram_min": best["ram"] if best else None,
            "ram_min_bytes": best["ram_bytes"] if best else None,
            "ram_min_efficiency_qps_per_gb": best["efficiency_qps_per_gb"] if best else None,
            "non_monotonic": non_monotonic, "bisect_interval": gap}


def next_bisect_level(summary: dict, resolution_bytes: int) -> int | None:
    """The RAM level to try next to narrow RAM_min, or None when the gap is within resolution."""
    gap = summary.get("bisect_interval")
    if not gap or gap["high_bytes"] - gap["low_bytes"] <= resolution_bytes:
        return None
    mid = (gap["low_bytes"] + gap["high_bytes"]) // 2
    mid = max(MIB, round(mid / MIB) * MIB)
    if mid <= gap["low_bytes"] or mid >= gap["high_bytes"]:
        return None
    return mid


def summarise(results: list[dict], threshold: float = DEFAULT_THRESHOLD,
              noise_ms: float = DEFAULT_NOISE_MS) -> list[dict]:
    """One summary per configuration, sorted by (profile, scenario, runtime, dataset)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in results:
        groups[config_key(r)].append(r)
    keys = sorted(groups, key=lambda k: (k[1], k[2], k[3], k[0]))
    return [summarise_config(groups[k], threshold, noise_ms) for k in keys]


def query_inflections(cells: list[dict], threshold: float = DEFAULT_THRESHOLD,
                      noise_ms: float = DEFAULT_NOISE_MS) -> dict:
    """{(query, variant): RAM label} per query of one configuration: the query's own RAM_min, the
    level from which it is ok and within `threshold` × its reference p95 at every larger level:
    the inflection point marked on its latency-vs-RAM curve. None when no RAM-limited level
    qualifies (e.g. only 'unlimited' was measured)."""
    by: dict[tuple, list[dict]] = defaultdict(list)
    for r in cells:
        by[_cell(r)].append(r)
    return {k: summarise_config(v, threshold, noise_ms)["ram_min"] for k, v in sorted(by.items())}
