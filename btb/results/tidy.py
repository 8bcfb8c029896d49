"""The tidy table: one row per cell × statistic, for pandas/R users (results.csv, .parquet).

Every cell gets its latency rows (n, min, p50, p95, p99, max, mean, cv, in ms except n and cv)
whatever its status: a failed cell has them with an empty value, so a pivot shows a hole and
never a zero latency. Answer, load and memory figures follow when the cell has them.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from btb.results.load import Cell

LATENCY_STATS = ("n", "min", "p50", "p95", "p99", "max", "mean", "cv")
UNITS = {"n": "runs", "cv": "ratio"}
KEYS = ("campaign", "host", "dataset", "dataset_sha256", "profile", "scenario", "engine",
        "ts_engine", "runtime", "ram", "ram_bytes", "query", "variant", "mode", "status",
        "reason", "unstable", "file")
COLUMNS = KEYS + ("statistic", "value", "unit")
SCHEMA = pa.schema([(k, pa.int64() if k == "ram_bytes" else
                     pa.bool_() if k == "unstable" else pa.string()) for k in KEYS]
                   + [("statistic", pa.string()), ("value", pa.float64()), ("unit", pa.string())])
PHASE_FIGURES = ("peak_bytes", "anon_bytes", "file_bytes", "current_bytes", "oom_kills")


def _keys(c: Cell, root_rel: str) -> dict:
    r = c.result
    return {"campaign": r["campaign"], "host": c.host,
            "dataset": r["provenance"]["dataset"]["name"], "dataset_sha256": c.dataset_sha256,
            "profile": r["profile"], "scenario": r["scenario"], "engine": r["engine"],
            "ts_engine": r.get("ts_engine"), "runtime": r["runtime"], "ram": r["ram"],
            "ram_bytes": r.get("ram_bytes"), "query": r["query"], "variant": r["variant"],
            "mode": r.get("mode"), "status": r["status"], "reason": r.get("reason"),
            "unstable": bool(r.get("unstable", False)), "file": root_rel}


def statistics(r: dict) -> list[tuple[str, float | None, str]]:
    """(statistic, value, unit) of one result; latency stats are None unless status is ok."""
    stats = (r.get("stats") or {}) if r["status"] == "ok" else {}
    out = [(s, stats.get(s), UNITS.get(s, "ms")) for s in LATENCY_STATS]
    answer = r.get("answer") or {}
    for k in ("rows", "reference_rows"):
        if answer.get(k) is not None:
            out.append((f"answer_{k}", answer[k], "rows"))
    for part, ms in sorted((r.get("split_ms") or {}).items()):
        out.append((f"split_{part}_ms", ms, "ms"))
    cold = r.get("cold") or {}  # --cold: first run after an engine restart (+ dropped caches)
    if cold.get("ms") is not None:
        out.append(("cold_ms", cold["ms"], "ms"))
    if cold.get("restart_s") is not None:
        out.append(("cold_restart_s", cold["restart_s"], "s"))
    load = r.get("load") or {}
    for role in ("structure", "timeseries"):
        part = load.get(role)
        if isinstance(part, dict):
            if part.get("seconds") is not None:
                out.append((f"load_{role}_seconds", part["seconds"], "s"))
            if part.get("data_size_bytes") is not None:
                out.append((f"load_{role}_data_size_bytes", part["data_size_bytes"], "bytes"))
    for role, m in sorted((r.get("memory") or {}).items()):
        if m.get("limit_bytes") is not None:
            out.append((f"mem_{role}_limit_bytes", m["limit_bytes"], "bytes"))
        for phase in ("load", "query"):
            for fig in PHASE_FIGURES:
                v = (m.get(phase) or {}).get(fig)
                if v is not None:
                    out.append((f"mem_{role}_{phase}_{fig}", v,
                                "kills" if fig == "oom_kills" else "bytes"))
    return out


def rows(cells: list[Cell], rel=lambda p: p.as_posix()) -> list[dict]:
    out = []
    for c in cells:
        keys = _keys(c, rel(c.path))
        for stat, value, unit in statistics(c.result):
            out.append({**keys, "statistic": stat,
                        "value": None if value is None else float(value), "unit": unit})
    return out


def table(cells: list[Cell], rel=lambda p: p.as_posix()) -> pa.Table:
    return pa.Table.from_pylist(rows(cells, rel), schema=SCHEMA)


def write_csv(t: pa.Table, path) -> None:
    # nulls are written as empty fields (pandas reads them as NaN), never as 0
    pacsv.write_csv(t, str(path))


def write_parquet(t: pa.Table, path) -> None:
    pq.write_table(t, str(path), compression="zstd")
