"""Constructed cell results, complete and valid against btb/results/schema.json, for the report
tests: a known RAM gradient without starting any engine."""

from __future__ import annotations

from pathlib import Path

from btb.results import analysis, store

G = analysis.GIB
WORKING_SET = 3 * G // 2  # what every constructed engine would use: levels <= 1g fill up
SHA = "a" * 64
ENGINES = {"P1": ("postgres", None), "P2": ("postgres", None), "O1": ("oxigraph", None),
           "O2": ("oxigraph", "postgres"), "F1": ("falkordb", None), "F2": ("falkordb", "postgres"),
           "M1": ("memgraph", None), "M2": ("memgraph", "postgres")}


def _phase(peak: int) -> dict:
    return {"peak_bytes": peak, "current_bytes": peak // 2, "anon_bytes": int(peak * 0.7),
            "file_bytes": int(peak * 0.25), "oom_kills": 0}


def cell(ram_gb: float | None, query: str, status: str = "ok", p95: float = 10.0,
         variant: str = "small", scenario: str = "P1", sha: str = SHA, campaign: str = "c1",
         host: str = "host-a", profile: str = "tiny-1d", unstable: bool = False,
         reason: str | None = None) -> dict:
    nbytes = None if ram_gb is None else int(ram_gb * G)
    engine, ts = ENGINES[scenario]
    r = {
        "schema_version": 1, "campaign": campaign, "profile": profile, "scenario": scenario,
        "engine": engine, "ts_engine": ts, "runtime": "local", "ram": analysis.ram_label(nbytes),
        "ram_bytes": nbytes, "query": query, "variant": variant,
        "mode": "federate" if ts else "direct", "status": status, "reason": None,
        "answer": {"checked": True, "matches_reference": True, "rows": 3, "reference_rows": 3,
                   "diff": None},
        "latencies_ms": [], "protocol": {"n_warmup": 1, "n_runs": 5, "timeout_s": 60.0},
        "load": {"structure": {"layout": scenario, "seconds": 1.5, "counts": {"nodes": 300},
                               "data_size_bytes": 5 << 20},
                 "engine_version": "1.0"},
        "memory": {"structure": {"cgroup_version": 2, "requested_bytes": nbytes,
                                 "limit_bytes": nbytes, "peak_method": "reset",
                                 "load": _phase(min(nbytes or WORKING_SET, WORKING_SET)),
                                 "query": _phase(min(nbytes or WORKING_SET, WORKING_SET // 2))}},
        "provenance": {"dataset": {"name": f"{profile}_seed42", "dataset_sha256": sha,
                                   "profile": profile, "seed": 42},
                       "btb_version": "0.1.0", "git_commit": "0123456789abcdef",
                       "engine": {"name": engine, "version": "1.0"},
                       "ts_engine": {"name": ts, "version": "16"} if ts else None,
                       "host": {"hostname": host, "kernel": "6.1", "cores": 2,
                                "ram_bytes": 8 * G, "cgroup": "v2"}},
        "started_at": "2026-11-23T10:00:00+00:00", "finished_at": "2026-11-23T10:00:01+00:00",
    }
    if status == "ok":
        lat = [p95 * 0.9, p95 * 0.95, p95]
        r["latencies_ms"] = lat
        r["stats"] = {"n": 3, "min": lat[0], "p50": lat[1], "p95": p95, "p99": p95,
                      "max": p95, "mean": sum(lat) / 3, "cv": 0.4 if unstable else 0.05}
        r["unstable"] = unstable
    else:
        r["reason"] = reason or f"constructed {status}"
        if status in ("oom", "load_failed", "crashed", "skipped"):
            r["answer"] = None
        if status in ("load_failed", "skipped"):
            r["load"] = None  # nothing was loaded
        if status == "wrong_answer":
            r["answer"]["matches_reference"] = False
            r["answer"]["diff"] = "row 1 differs"
    store.validate(r)
    return r


def write(results_dir: Path, results: list[dict]) -> list[Path]:
    paths = []
    for r in results:
        p = store.cell_path(results_dir, r["campaign"], r["scenario"], r["ram"], r["query"],
                            r["variant"])
        store.write(p, r)
        paths.append(p)
    return paths


def gradient(**kw) -> list[dict]:
    """P1 with a known inflection at 2g for both queries (Q1 slows x1.5 at 1g, OOM at 0.5g) and
    O1 flat down to 1g, timing out at 0.5g: RAM_min P1 = 2g, O1 = 1g. Memory fills the limit at
    0.5g and 1g (latency compared), not at 2g and 4g (ample: the reference)."""
    spec = {"P1": {0.5: {"Q1": ("oom", 0), "Q2": ("ok", 30.0)},
                   1: {"Q1": ("ok", 15.0), "Q2": ("ok", 10.1)},
                   2: {"Q1": ("ok", 11.0), "Q2": ("ok", 10.5)},
                   4: {"Q1": ("ok", 10.0), "Q2": ("ok", 10.0)}},
            "O1": {0.5: {"Q1": ("timeout", 0), "Q2": ("ok", 400.0)},
                   1: {"Q1": ("ok", 21.0), "Q2": ("ok", 41.0)},
                   2: {"Q1": ("ok", 20.0), "Q2": ("ok", 40.0)},
                   4: {"Q1": ("ok", 20.0), "Q2": ("ok", 40.0)}}}
    return [cell(ram, q, st, p95, scenario=sc, **kw)
            for sc, levels in spec.items() for ram, qs in levels.items()
            for q, (st, p95) in qs.items()]
