"""The report's content as plain data (no HTML): provenance, p95 matrices, RAM_min, efficiency,
load, memory, answer check, failed and unstable cells — one `Section` per dataset fingerprint.

Results of different datasets are never compared: `split_by_dataset` keeps each fingerprint in
its own section, and every table below is computed inside one section only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from btb.results import analysis
from btb.results.load import Cell
from btb.results.store import STATUSES


@dataclass
class Section:
    sha: str
    cells: list[Cell]
    summaries: list[dict] = field(default_factory=list)

    @property
    def results(self) -> list[dict]:
        return [c.result for c in self.cells]

    @property
    def dataset(self) -> dict:
        return self.cells[0].result["provenance"]["dataset"]

    @property
    def slug(self) -> str:
        return f"{self.dataset['profile']}-{self.sha[:8]}"


def split_by_dataset(cells: list[Cell], threshold: float,
                     noise_ms: float = analysis.DEFAULT_NOISE_MS) -> list[Section]:
    by: dict[str, list[Cell]] = defaultdict(list)
    for c in cells:
        by[c.dataset_sha256].append(c)
    out = [Section(sha, cs) for sha, cs in by.items()]
    for s in out:
        s.summaries = analysis.summarise(s.results, threshold, noise_ms)
    return sorted(out, key=lambda s: (s.dataset["profile"], s.dataset["name"], s.sha))


HOST_FIELDS = ("kernel", "cores", "ram_bytes", "cgroup", "cpu", "machine")


def _fmt_ms(v: float) -> str:
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def provenance(cells: list[Cell]) -> dict:
    """Who measured what, where and how: the campaign summary at the top of the report."""
    hosts, engines, btb, protocols = {}, set(), set(), set()
    for c in cells:
        p = c.result["provenance"]
        h = p.get("host") or {}
        hosts[c.host] = h
        for e in (p.get("engine"), p.get("ts_engine")):
            if e:
                engines.add((e["name"], e.get("version") or "unknown", e.get("image") or ""))
        btb.add((p["btb_version"], p.get("git_commit") or "unknown"))
        pr = c.result["protocol"]
        protocols.add((pr["n_warmup"], pr["n_runs"], pr["timeout_s"], bool(pr.get("cold"))))
    started = min(c.result["started_at"] for c in cells)
    finished = max(c.result["finished_at"] for c in cells)
    return {"campaigns": sorted({c.result["campaign"] for c in cells}),
            "hosts": [{"name": n, **{k: h.get(k) for k in HOST_FIELDS}}
                      for n, h in sorted(hosts.items())],
            "engines": _known_versions(engines), "btb": sorted(btb),
            "protocols": sorted(protocols),
            "started": started, "finished": finished,
            "statuses": status_counts(c.result for c in cells)}


def _known_versions(engines: set[tuple]) -> list[tuple]:
    """Cells that failed before the engine answered carry no version: list an engine as
    'unknown' only when no cell of it knows better."""
    known = {(name, image) for name, version, image in engines if version != "unknown"}
    return sorted(e for e in engines if e[1] != "unknown" or (e[0], e[2]) not in known)


def status_counts(results) -> dict[str, int]:
    n = Counter(r["status"] for r in results)
    return {s: n[s] for s in STATUSES if n[s]}


def matrices(section: Section, levels: list[str]) -> list[dict]:
    """Per query: rows = RAM levels, columns = scenario × variant, cell = p95 ms or the status."""
    scen_label = {}
    grid: dict[tuple, list[dict]] = defaultdict(list)
    for c in section.cells:
        r = c.result
        scen_label[r["scenario"]] = (f"{r['scenario']} {r['engine']}"
                                     + (f"+{r['ts_engine']}" if r.get("ts_engine") else ""))
        grid[(r["query"], r["ram"], r["scenario"], r["variant"])].append(
            {"host": c.host, "result": r})
    queries = sorted({c.result["query"] for c in section.cells}, key=lambda q: int(q[1:]))
    variants = [v for v in ("small", "large") if any(c.result["variant"] == v
                                                     for c in section.cells)]
    scenarios = sorted(scen_label)
    out = []
    for q in queries:
        rows = []
        for ram in levels:
            cells = []
            for s in scenarios:
                for v in variants:
                    cells.append(_matrix_cell(grid.get((q, ram, s, v), [])))
            rows.append({"ram": ram, "cells": cells})
        out.append({"query": q, "columns": [(s, scen_label[s]) for s in scenarios],
                    "variants": variants, "rows": rows})
    return out


def _matrix_cell(entries: list[dict]) -> dict:
    if not entries:
        return {"text": "–", "cls": "missing", "title": "not measured"}
    texts, titles, cls = [], [], "ok"
    for e in entries:
        r = e["result"]
        p95 = r["stats"].get("p95") if r["status"] == "ok" else None
        if p95 is not None:
            texts.append(_fmt_ms(p95))
            cold = (r.get("cold") or {}).get("ms")
            titles.append(f"{e['host']}: p95 {p95:.4g} ms, cv {r['stats'].get('cv', 0):.2f}"
                          + (f", cold run {cold:.4g} ms" if cold is not None else ""))
            if r.get("unstable"):
                cls = "unstable" if cls == "ok" else cls
        elif r["status"] == "ok":  # valid, but without a p95: say so rather than guess
            texts.append("ok, no p95")
            titles.append(f"{e['host']}: ok but stats has no p95")
        else:
            texts.append(r["status"])
            titles.append(f"{e['host']}: {r['status']}: {r.get('reason') or ''}")
            cls = "skipped" if r["status"] == "skipped" and cls != "fail" else "fail"
    return {"text": " / ".join(texts), "cls": cls, "title": "\n".join(titles)}


def loads(section: Section) -> list[dict]:
    """One row per (host, campaign, scenario, RAM level): load seconds, rows/s, data size."""
    seen: dict[tuple, dict] = {}
    hosts = {c.host for c in section.cells}
    for c in section.cells:
        r = c.result
        key = (c.host, r["campaign"], r["scenario"], r["runtime"], r.get("ram_bytes") or 0,
               r["ram"])
        load = r.get("load") or {}
        if key in seen and (seen[key]["structure_s"] is not None or not load):
            continue
        row = {"host": c.host, "multi_host": len(hosts) > 1, "campaign": r["campaign"],
               "scenario": r["scenario"], "engine": r["engine"], "ram": r["ram"],
               "ram_bytes": r.get("ram_bytes"),
               "status": "loaded", "reason": None}
        structure = load.get("structure")
        loaded_ok = isinstance(structure, dict) and structure.get("seconds") is not None
        if r["status"] != "ok" and not loaded_ok:
            # no load figures and a failed cell: the load is what failed (load_failed, or an
            # oom/crash during it); say which, with the reason
            row.update(status=r["status"], reason=r.get("reason"))
        for role in ("structure", "timeseries"):
            part = load.get(role) if isinstance(load.get(role), dict) else {}
            rows_loaded = sum(v for v in (part.get("counts") or {}).values()
                              if isinstance(v, (int, float)))
            secs = part.get("seconds")
            row[f"{role}_s"] = secs
            row[f"{role}_rows"] = rows_loaded or None
            row[f"{role}_rate"] = rows_loaded / secs if secs and rows_loaded else None
            row[f"{role}_bytes"] = part.get("data_size_bytes")
        if r["status"] == "skipped" and not load:
            continue  # an engine that never started has nothing to show here
        seen[key] = row
    return [seen[k] for k in sorted(seen, key=lambda k: (k[2], k[3], _order(k[4]), k[0], k[1]))]


def _order(nbytes: int) -> float:
    return float("inf") if not nbytes else nbytes


def memory(section: Section) -> list[dict]:
    """Per (host, scenario, RAM level, role): the limit, the load peak and the highest query
    peak, each split into anon and page cache (file)."""
    rows: dict[tuple, dict] = {}
    for c in section.cells:
        r = c.result
        for role, m in (r.get("memory") or {}).items():
            key = (r["scenario"], _order(r.get("ram_bytes") or 0), r["ram"], role, c.host)
            row = rows.setdefault(key, {
                "scenario": r["scenario"], "ram": r["ram"], "role": role, "host": c.host,
                "limit": m.get("limit_bytes"), "requested": m.get("requested_bytes"),
                "method": m.get("peak_method"), "cgroup_version": m.get("cgroup_version"),
                "load_peak": None, "load_anon": None, "load_file": None,
                "query_peak": None, "query_anon": None, "query_file": None, "query_cell": None,
                "oom_kills": 0})
            ld = m.get("load") or {}
            if row["load_peak"] is None and ld:
                row.update(load_peak=ld.get("peak_bytes"), load_anon=ld.get("anon_bytes"),
                           load_file=ld.get("file_bytes"))
            qp = m.get("query") or {}
            if qp.get("peak_bytes") is not None and (row["query_peak"] is None
                                                     or qp["peak_bytes"] > row["query_peak"]):
                row.update(query_peak=qp["peak_bytes"], query_anon=qp.get("anon_bytes"),
                           query_file=qp.get("file_bytes"),
                           query_cell=f"{r['query']}-{r['variant']}")
            row["oom_kills"] = max(row["oom_kills"], (qp.get("oom_kills") or 0),
                                   (ld.get("oom_kills") or 0))
    return [rows[k] for k in sorted(rows)]


SPLIT_PARTS = ("graph", "transfer", "timeseries", "client")


def splits(section: Section) -> list[dict]:
    """Federated (hybrid) cells: mean ms per part — graph query, id transfer, timeseries query,
    client-side join — next to the mean total, per scenario, RAM level, query and variant."""
    out = []
    for c in section.cells:
        r = c.result
        sp = r.get("split_ms")
        if r["status"] != "ok" or not sp:
            continue
        out.append({"scenario": r["scenario"], "ram": r["ram"], "host": c.host,
                    "ram_order": _order(r.get("ram_bytes") or 0), "query": r["query"],
                    "variant": r["variant"], "mean": r["stats"].get("mean"),
                    **{p: sp.get(p) for p in SPLIT_PARTS}})
    return sorted(out, key=_cell_order)


def answers(section: Section) -> list[dict]:
    out = []
    for c in section.cells:
        r = c.result
        a = r.get("answer") or {}
        out.append({"scenario": r["scenario"], "ram": r["ram"], "host": c.host,
                    "ram_order": _order(r.get("ram_bytes") or 0),
                    "query": r["query"], "variant": r["variant"], "status": r["status"],
                    "checked": a.get("checked"), "matches": a.get("matches_reference"),
                    "rows": a.get("rows"), "reference_rows": a.get("reference_rows"),
                    "diff": a.get("diff")})
    return sorted(out, key=_cell_order)


def problems(section: Section) -> list[dict]:
    """Failed (any status but ok) and unstable cells, with status and reason."""
    out = []
    for c in section.cells:
        r = c.result
        if r["status"] != "ok" or r.get("unstable"):
            st = r.get("stats") or {}
            out.append({"scenario": r["scenario"], "ram": r["ram"], "host": c.host,
                        "ram_order": _order(r.get("ram_bytes") or 0), "query": r["query"],
                        "variant": r["variant"], "status": r["status"],
                        "unstable": bool(r.get("unstable")),
                        "reason": r.get("reason") or (f"cv {st.get('cv', 0):.2f} over "
                                                      f"{st.get('n', 0)} runs"),
                        "file": c.path.as_posix()})
    # failures first: a few OOMs must not hide below dozens of noisy-but-ok cells
    return sorted(out, key=lambda d: (d["status"] == "ok",) + _cell_order(d))


def _cell_order(d: dict) -> tuple:
    return (d["scenario"], d["ram_order"], int(d["query"][1:]), d["variant"], d["host"])
