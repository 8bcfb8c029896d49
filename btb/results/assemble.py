"""Put the report together: per-dataset sections with their tables and figures, the messages a
reader must see first (left-out files, replaced duplicates, mixed datasets), the text summary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from btb import __version__
from btb.results import analysis, figures, sections
from btb.results.load import Loaded


def messages(loaded: Loaded, secs: list[sections.Section]) -> list[str]:
    out = list(loaded.campaigns)
    if len(secs) > 1:
        names = "; ".join(f"{s.dataset['name']} (sha256 {s.sha[:12]}…, {len(s.cells)} cells)"
                          for s in secs)
        out.append(f"These results come from {len(secs)} different datasets: {names}. Each is "
                   "reported in its own section and never compared with another.")
    for s in secs:
        hosts: dict[tuple, set] = {}
        for c in s.cells:
            r = c.result
            hosts.setdefault((r["scenario"], r["runtime"], r["ram"], r["query"], r["variant"]),
                             set()).add(c.host)
        shared = sorted({k[0] for k, h in hosts.items() if len(h) > 1})
        if shared:
            out.append(f"Dataset {s.dataset['name']}: scenario(s) {', '.join(shared)} have the "
                       "same cells measured on several hosts; the matrices show every host's "
                       "value, but RAM_min and efficiency pool them (use one host per "
                       "configuration for a clean RAM_min).")
        out += _unlike_hosts(s)
    for dropped, kept in loaded.replaced[:5]:
        out.append(f"{dropped} describes the same cell as {kept} (same dataset, scenario, RAM "
                   "level, query, variant and host); the one finished last is used.")
    if len(loaded.replaced) > 5:  # a whole campaign copied twice: say it once, not 300 times
        out.append(f"... and {len(loaded.replaced) - 5} more cells found twice; each time the "
                   "one finished last is used.")
    return out


def _unlike_hosts(s: sections.Section) -> list[str]:
    """A configuration whose levels ran on servers of different hardware (the Ansible round
    robin gives each server some levels): its RAM_min compares latencies across machines."""
    kinds: dict[tuple, dict[str, tuple]] = {}
    for c in s.cells:
        r, h = c.result, c.result["provenance"].get("host") or {}
        kinds.setdefault((r["scenario"], r["runtime"]), {})[c.host] = (
            h.get("cpu"), h.get("cores"), h.get("ram_bytes"))
    unlike = sorted(k[0] for k, by_host in kinds.items() if len(set(by_host.values())) > 1)
    if not unlike:
        return []
    return [f"Dataset {s.dataset['name']}: the RAM levels of {', '.join(unlike)} ran on hosts "
            "of different hardware (CPU, cores or RAM differ), so their RAM_min compares "
            "latencies across machines; give every host the same server type, or run every "
            "level on each host (btb_campaign_split: none)."]


def efficiency_matrix(summaries: list[dict], levels: list[str]) -> dict:
    """Scenario × RAM-limited level: queries/s per GB; the RAM_min cell flagged. Empty cells are
    levels not measured or with a failing cell (no mean over fewer queries)."""
    limited = [lbl for lbl in levels if lbl != "unlimited"]
    rows = []
    for m in summaries:
        by = {lv["ram"]: lv for lv in m["levels"]}
        cells = []
        for lbl in limited:
            lv = by.get(lbl)
            eff = lv["efficiency_qps_per_gb"] if lv else None
            cells.append({"value": eff, "ram_min": lbl == m["ram_min"],
                          "passed": bool(lv and lv["passed"]), "measured": lv is not None})
        rows.append({"scenario": m["scenario"], "engine": m["engine"], "ts_engine":
                     m["ts_engine"], "runtime": m["runtime"], "cells": cells})
    return {"levels": limited, "rows": rows}


def _section(s: sections.Section, figdir: Path, threshold: float, noise_ms: float) -> dict:
    results = s.results
    levels = figures.axis_levels(results)
    curve_figs = []
    for query, cs in figures.curves(results, s.summaries, threshold, noise_ms).items():
        name = f"{s.slug}-curve-{query}"
        curve_figs.append({"name": name, "query": query,
                           "svg": figures.save(figures.curve_figure(query, cs), figdir, name)})
    loads = sections.loads(s)
    mem = sections.memory(s)
    answers = sections.answers(s)
    splits = sections.splits(s)
    extra = {}
    for key, fig in (("efficiency_fig", figures.efficiency_figure(s.summaries)),
                     ("load_fig", figures.load_figure(loads)),
                     ("memory_fig", figures.memory_figure(mem)),
                     ("split_fig", figures.split_figure(splits))):
        name = f"{s.slug}-{key.removesuffix('_fig')}"
        extra[key] = None if fig is None else {"name": name,
                                               "svg": figures.save(fig, figdir, name)}
    summaries = [{**m, "limited": any(lv["ram_bytes"] for lv in m["levels"])}
                 for m in s.summaries]
    return {"slug": s.slug, "sha": s.sha, "dataset": s.dataset, "cells": len(s.cells),
            "prov": sections.provenance(s.cells), "levels": levels, "summaries": summaries,
            "matrices": sections.matrices(s, levels), "curve_figs": curve_figs,
            "efficiency": efficiency_matrix(s.summaries, levels),
            "loads": loads, "memory": mem, "answers": answers, "splits": splits,
            "answer_counts": {"match": sum(a["matches"] is True for a in answers),
                              "mismatch": sum(a["matches"] is False for a in answers),
                              "unchecked": sum(a["matches"] is None for a in answers)},
            "problems": sections.problems(s), "multi_host": len({c.host for c in s.cells}) > 1,
            **extra}


def context(loaded: Loaded, secs: list[sections.Section], figdir: Path, threshold: float,
            inputs: list[str], noise_ms: float = analysis.DEFAULT_NOISE_MS) -> dict:
    built = [_section(s, figdir, threshold, noise_ms) for s in secs]
    profiles = sorted({s.dataset["profile"] for s in secs})
    return {"title": ", ".join(profiles), "btb_version": __version__, "threshold": threshold,
            "noise_ms": noise_ms, "ample_fraction": analysis.AMPLE_FRACTION,
            "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "inputs": inputs, "messages": messages(loaded, secs), "errors": loaded.errors,
            "prov": sections.provenance(loaded.cells), "cells": len(loaded.cells),
            "sections": built}


def figure_names(ctx: dict) -> list[str]:
    out = []
    for s in ctx["sections"]:
        out += [f["name"] for f in s["curve_figs"]]
        out += [s[k]["name"] for k in ("efficiency_fig", "load_fig", "memory_fig", "split_fig")
                if s[k]]
    return out


def text_summary(ctx: dict, out_dir: Path, loaded: Loaded) -> str:
    """The short terminal summary: counts, RAM_min per scenario, problems, where the files are."""
    lines = []
    st = ctx["prov"]["statuses"]
    lines.append(f"{ctx['cells']} cells from {loaded.files_seen} files: "
                 + ", ".join(f"{n} {s}" for s, n in st.items()))
    if loaded.errors:
        lines.append(f"{len(loaded.errors)} file(s) left out (not valid):")
        lines += [f"  {p}: {why}" for p, why in loaded.errors]
    lines += [m for m in ctx["messages"]]
    for s in ctx["sections"]:
        lines.append(f"dataset {s['dataset']['name']} (sha256 {s['sha'][:12]}…), "
                     f"RAM levels {', '.join(s['levels'])}:")
        for m in s["summaries"]:
            if m["ram_min"]:
                verdict = f"RAM_min {m['ram_min']}"
                eff = m["ram_min_efficiency_qps_per_gb"]
                if eff is not None:
                    verdict += f" ({eff:.3g} q/s per GB)"
            elif not m["limited"]:
                verdict = "RAM_min: no RAM-limited level measured"
            else:
                verdict = "RAM_min: no level passes"
            eng = m["engine"] + (f"+{m['ts_engine']}" if m["ts_engine"] else "")
            lines.append(f"  {m['scenario']:<3} {eng:<18} {verdict}")
        if s["problems"]:
            lines.append(f"  {len(s['problems'])} failed or unstable cells (see the report)")
    lines.append(f"report  {out_dir / 'report.html'}")
    lines.append(f"figures {out_dir / 'figures'} ({len(figure_names(ctx))} figures, PNG + SVG)")
    lines.append(f"tables  {out_dir / 'results.csv'}, {out_dir / 'results.parquet'}")
    return "\n".join(lines)
