"""Report figures with matplotlib's Agg backend (no display needed): latency = f(RAM) per query,
efficiency per GB, load times, memory peaks.

The data behind each curve is computed first (`curves`) and kept apart from the drawing, so a
test can check where the inflection marker sits without reading pixels; the artists also carry
gids (`knee-P1-small`, `failed-O1-large`, `ram-min-F1-small`) that survive into the SVG.

RAM levels are categorical x positions in increasing order with 'unlimited' last: it has no
byte value, and equal spacing keeps 0.5g..64g readable. A failed cell is never drawn as a
latency: it is an ✕ at the top of the axes with its status, and the line breaks there.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: headless, deterministic
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator  # noqa: E402
from matplotlib.transforms import blended_transform_factory, offset_copy  # noqa: E402

from btb.results import analysis  # noqa: E402

# text stays text in the SVG (smaller, searchable); fixed salt and no date: same data, same file
plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "btb", "figure.dpi": 100,
                     "savefig.dpi": 110, "font.size": 9, "axes.titlesize": 10})
GIB = analysis.GIB
LOG_SPAN = 10.0  # log scale when the largest plotted value is more than 10x the smallest
STATUS_SHORT = {"timeout": "timeout", "oom": "OOM", "load_failed": "load failed",
                "crashed": "crashed", "wrong_answer": "wrong", "skipped": "skipped"}


@dataclass
class Series:
    """One scenario's p95 across the RAM levels for one query and variant."""

    scenario: str
    label: str
    p95: list[float | None]  # per axis level; None where not ok or not measured
    status: list[str | None]  # per axis level; None where not measured
    knee: str | None = None  # the query's own inflection level (analysis.query_inflections)
    ram_min: str | None = None  # the configuration's RAM_min


@dataclass
class Curve:
    query: str
    variant: str
    levels: list[str]  # x axis labels, increasing RAM
    series: list[Series] = field(default_factory=list)


def axis_levels(results: list[dict]) -> list[str]:
    seen = {r["ram"]: r.get("ram_bytes") for r in results}
    return sorted(seen, key=lambda lbl: (math.inf if seen[lbl] is None else seen[lbl], lbl))


def _label(r: dict) -> str:
    ts = f"+{r['ts_engine']}" if r.get("ts_engine") else ""
    rt = "" if r["runtime"] == "local" else f" ({r['runtime']})"
    return f"{r['scenario']} {r['engine']}{ts}{rt}"


def curves(results: list[dict], summaries: list[dict],
           threshold: float = analysis.DEFAULT_THRESHOLD,
           noise_ms: float = analysis.DEFAULT_NOISE_MS) -> dict[str, list[Curve]]:
    """{query: [Curve per variant]} for the results of ONE dataset (never mix fingerprints)."""
    levels = axis_levels(results)
    idx = {lbl: i for i, lbl in enumerate(levels)}
    ram_min = {(s["scenario"], s["runtime"]): s["ram_min"] for s in summaries}
    by_config: dict[tuple, list[dict]] = defaultdict(list)
    for r in results:
        by_config[(r["scenario"], r["runtime"])].append(r)
    out: dict[str, dict[str, Curve]] = defaultdict(dict)
    for (scen, runtime), cells in sorted(by_config.items()):
        knees = analysis.query_inflections(cells, threshold, noise_ms)
        by_qv: dict[tuple, list[dict]] = defaultdict(list)
        for r in cells:
            by_qv[(r["query"], r["variant"])].append(r)
        for (q, v), rs in by_qv.items():
            s = Series(scen, _label(rs[0]), [None] * len(levels), [None] * len(levels),
                       knees.get((q, v)), ram_min.get((scen, runtime)))
            for r in rs:
                i = idx[r["ram"]]
                s.status[i] = r["status"]
                if r["status"] == "ok":
                    s.p95[i] = r["stats"].get("p95")  # the schema does not require it
            out[q].setdefault(v, Curve(q, v, levels)).series.append(s)
    order = sorted(out, key=lambda q: int(q[1:]))
    return {q: [out[q][v] for v in ("small", "large") if v in out[q]] for q in order}


def _colors(labels: list[str]) -> dict[str, str]:
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {lbl: cycle[i % len(cycle)] for i, lbl in enumerate(sorted(set(labels)))}


def _draw_curve(ax, c: Curve, colors: dict[str, str]) -> None:
    top = blended_transform_factory(ax.transData, ax.transAxes)
    x = list(range(len(c.levels)))
    values = [p for s in c.series for p in s.p95 if p is not None and p > 0]
    for k, s in enumerate(c.series):
        col = colors[s.scenario]
        ys = [math.nan if p is None else p for p in s.p95]
        ax.plot(x, ys, "o-", color=col, label=s.label, gid=f"curve-{s.scenario}-{c.variant}")
        failed = [i for i, st in enumerate(s.status) if st not in (None, "ok")]
        if failed:
            # stacked slightly per series so two failures at one level stay readable
            y = 0.96 - 0.07 * k
            ax.plot(failed, [y] * len(failed), "x", color=col, markersize=8, mew=2,
                    transform=top, gid=f"failed-{s.scenario}-{c.variant}", clip_on=False)
            for i in failed:
                last = i == len(c.levels) - 1  # label to the left there, inside the axes
                ax.annotate(STATUS_SHORT.get(s.status[i], s.status[i]), (i, y),
                            xytext=(-6 if last else 5, -3), ha="right" if last else "left",
                            textcoords="offset points", xycoords=top, color=col, fontsize=7)
        if s.knee is not None and s.knee in c.levels:
            i = c.levels.index(s.knee)
            ax.plot([i], [s.p95[i]], "o", markersize=14, mfc="none", mec=col, mew=1.5,
                    gid=f"knee-{s.scenario}-{c.variant}")
        if s.ram_min is not None and s.ram_min in c.levels:
            # side by side when several scenarios share a RAM_min (the data x stays exact)
            step = min(7.0, 36.0 / len(c.series))
            shifted = offset_copy(top, fig=ax.figure, x=step * (k - (len(c.series) - 1) / 2),
                                  units="points")
            ax.plot([c.levels.index(s.ram_min)], [0.0], "^", color=col, markersize=8,
                    transform=shifted, clip_on=False, gid=f"ram-min-{s.scenario}-{c.variant}")
    if values and max(values) / min(values) > LOG_SPAN:
        ax.set_yscale("log")
        # ticks at 1-2-5 steps labelled 20, not 2 x 10^1
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.set_xticks(x, c.levels)
    ax.set_xlim(-0.5, len(x) - 0.5)
    if values:
        lo, hi = ax.get_ylim()
        ax.set_ylim(0 if ax.get_yscale() == "linear" else lo, hi * 1.25)
    ax.set_xlabel("RAM limit")
    ax.set_ylabel("p95 latency (ms)")
    ax.set_title(f"{c.query} {c.variant}")
    ax.grid(True, alpha=0.3)


def curve_figure(query: str, cs: list[Curve]) -> Figure:
    colors = _colors([s.scenario for c in cs for s in c.series])
    fig, axes = plt.subplots(1, len(cs), figsize=(max(6.4, 5.2 * len(cs)), 4.0), squeeze=False,
                             layout="constrained")
    for ax, c in zip(axes[0], cs):
        _draw_curve(ax, c, colors)
    legend: dict[str, object] = {}  # every scenario, even one measured in one variant only
    for ax in axes[0]:
        for h, lbl in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(lbl, h)
    # below the plots: the title keeps the full width, and 8 scenarios fit in two rows
    fig.legend(list(legend.values()), list(legend), loc="outside lower center", fontsize=8,
               ncols=min(4, len(legend)) or 1, frameon=False)
    fig.suptitle(f"{query}: p95 latency vs RAM limit "
                 "(ring: inflection; triangle: RAM_min; x: failed)", fontsize=9)
    return fig


def efficiency_figure(summaries: list[dict]) -> Figure | None:
    """Queries/s per GB at each RAM-limited level; None when no level has a limit."""
    limited = [s for s in summaries if any(lv["ram_bytes"] for lv in s["levels"])]
    if not limited:
        return None
    colors = _colors([s["scenario"] for s in limited])
    fig, ax = plt.subplots(figsize=(6.5, 3.6), layout="constrained")
    for s in limited:
        lv = [v for v in s["levels"] if v["ram_bytes"]]
        xs = [v["ram_bytes"] / analysis.GIB for v in lv]
        ys = [math.nan if v["efficiency_qps_per_gb"] is None else v["efficiency_qps_per_gb"]
              for v in lv]
        col = colors[s["scenario"]]
        ax.plot(xs, ys, "o-", color=col, label=f"{s['scenario']} {s['engine']}",
                gid=f"eff-{s['scenario']}")
        if s["ram_min_bytes"]:
            ax.plot([s["ram_min_bytes"] / analysis.GIB], [s["ram_min_efficiency_qps_per_gb"]],
                    "o", markersize=14, mfc="none", mec=col, gid=f"eff-ram-min-{s['scenario']}")
    ax.set_xscale("log", base=2)
    # ticks at the measured levels (bisection adds levels such as 1331m between powers of two)
    sizes = sorted({lv["ram_bytes"] for s in limited for lv in s["levels"] if lv["ram_bytes"]})
    ax.set_xticks([b / GIB for b in sizes], [analysis.ram_label(b) for b in sizes])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("RAM limit (GB)")
    ax.set_ylabel("queries/s per GB (1 / geomean p95)")
    ax.set_title("Efficiency per GB allocated (ring: RAM_min; gaps: a failing cell)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def load_figure(loads: list[dict]) -> Figure | None:
    """Load seconds per scenario and RAM level (structure + timeseries stacked)."""
    if not loads:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 0.35 * len(loads) + 1.2), layout="constrained")
    names = [f"{ld['scenario']} @ {ld['ram']}" + (f" [{ld['host']}]" if ld["multi_host"] else "")
             for ld in loads]
    ys = list(range(len(loads)))
    st = [ld["structure_s"] or 0.0 for ld in loads]
    ts = [ld["timeseries_s"] or 0.0 for ld in loads]
    ax.barh(ys, st, color="#4c72b0", label="structure")
    ax.barh(ys, ts, left=st, color="#dd8452", label="timeseries (hybrids)")
    for y, ld in zip(ys, loads):
        if ld["status"] != "loaded":
            ax.annotate(STATUS_SHORT.get(ld["status"], ld["status"]), (0, y), xytext=(3, -3),
                        textcoords="offset points", color="#c00", fontsize=7)
    ax.set_yticks(ys, names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, max(a + b for a, b in zip(st, ts)) * 1.06 or 1.0)  # sticky bar edges
    ax.set_xlabel("load time (s)")
    ax.set_title("Load time per scenario and RAM level")
    ax.legend(fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def memory_figure(mem: list[dict]) -> Figure | None:
    """Anon vs page cache (file) at the load peak and the highest query peak, per scenario/level.
    The axis fits the usage, not the limit: a 35 MiB engine under a 16 GiB limit would otherwise
    be an invisible sliver; a limit beyond the axis is written at the right edge instead."""
    rows = [m for m in mem if any(m[k] is not None for k in
                                  ("load_anon", "load_file", "query_anon", "query_file"))]
    if not rows:
        return None
    used = max(max((m[f"{p}_anon"] or 0) + (m[f"{p}_file"] or 0), m[f"{p}_peak"] or 0)
               for m in rows for p in ("load", "query"))
    unit, div = ("GiB", GIB) if used >= GIB else ("MiB", 1 << 20)
    right = used / div * 1.25 or 1.0
    fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(rows) + 1.3), layout="constrained")
    right_edge = blended_transform_factory(ax.transAxes, ax.transData)
    for i, m in enumerate(rows):
        for j, phase in enumerate(("load", "query")):
            y = i + (j - 0.5) * 0.38
            color = "#4c72b0" if j == 0 else "#55a868"
            anon, file = (m[f"{phase}_anon"] or 0) / div, (m[f"{phase}_file"] or 0) / div
            ax.barh(y, anon, height=0.36, color=color)
            ax.barh(y, file, left=anon, height=0.36, color=color, alpha=0.35, hatch="//")
            if m[f"{phase}_peak"]:
                ax.plot([m[f"{phase}_peak"] / div], [y], "|", color="k", markersize=10)
        if m["limit"] and m["limit"] / div <= right:
            ax.plot([m["limit"] / div], [i], "d", color="#c44e52", markersize=6)
        elif m["limit"]:
            ax.annotate(f"limit {m['limit'] / GIB:g} GiB →", (0.99, i), xycoords=right_edge,
                        ha="right", va="center", fontsize=7, color="#c44e52")
    ax.set_xlim(0, right)
    ax.set_yticks(range(len(rows)), [f"{m['scenario']} {m['role']} @ {m['ram']}" for m in rows],
                  fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(unit)
    ax.set_title("Memory: load (blue) and query (green) phases; solid anon, hatched page cache;"
                 "\n| peak, diamond: limit", fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)
    return fig


SPLIT_COLORS = {"graph": "#4c72b0", "transfer": "#c44e52", "timeseries": "#dd8452",
                "client": "#8172b3"}


def split_figure(rows: list[dict]) -> Figure | None:
    """Hybrid timing split at each scenario's largest RAM level: where a federated query spends
    its time (graph part, id transfer, timeseries part, client-side join)."""
    top: dict[str, float] = {}
    for r in rows:
        top[r["scenario"]] = max(top.get(r["scenario"], -1.0), r["ram_order"])
    rows = [r for r in rows if r["ram_order"] == top[r["scenario"]]]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 0.28 * len(rows) + 1.3), layout="constrained")
    ys = list(range(len(rows)))
    left = [0.0] * len(rows)
    for part, color in SPLIT_COLORS.items():
        vals = [r[part] or 0.0 for r in rows]
        ax.barh(ys, vals, left=left, color=color, label=part, height=0.7)
        left = [a + b for a, b in zip(left, vals)]
    ax.set_yticks(ys, [f"{r['scenario']} @ {r['ram']} {r['query']}-{r['variant']}" for r in rows],
                  fontsize=7)
    ax.invert_yaxis()
    # explicit: the stacked bars' base edges are "sticky" and would stop autoscale margins
    ax.set_xlim(0, max(left) * 1.06 or 1.0)
    ax.set_xlabel("mean ms per run")
    ax.set_title("Hybrid queries: time per part at the largest RAM level")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def save(fig: Figure, figdir: Path, name: str) -> str:
    """Write `name`.png and `name`.svg under figdir; return the SVG markup for inline embedding."""
    figdir.mkdir(parents=True, exist_ok=True)
    svg = figdir / f"{name}.svg"
    fig.savefig(figdir / f"{name}.png", metadata={"Software": None})
    fig.savefig(svg, metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = svg.read_text()
    return text[text.index("<svg"):]
