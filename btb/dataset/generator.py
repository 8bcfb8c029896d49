"""Generate a dataset: structure tables, then timeseries partitions in parallel workers.

Work is split into units of (building, contiguous block of days). With at least as many
buildings as workers, a unit is a whole building; otherwise each building's days are split into
one block per worker, and a block fast-forwards the (cheap) physics from the first day to its
start without emitting rows, so every block sees exactly the state a sequential run would.
Memory stays bounded by one building-day per worker.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from queue import Empty

import pyarrow as pa
import pyarrow.parquet as pq

from btb import __version__
from btb.config.profiles import Profile
from btb.dataset import classes, model
from btb.dataset.simulation import emit, physics

GENERATOR_VERSION = f"btb-generator/{__version__}"
PARQUET_OPTIONS = {"compression": "zstd", "use_byte_stream_split": ["value"]}


@dataclass(frozen=True)
class Unit:
    seed: int
    profile: Profile
    building: int
    first_day: int  # index into profile.dates()
    n_days: int


def structure_tables(seed: int, profile: Profile, buildings: list[int]) -> dict[str, pa.Table]:
    """nodes, points, edges and classes tables for the given building indices."""
    scale = profile.scale
    built = [model.build(seed, scale, i) for i in buildings]
    sites = sorted({b.site_id for b in built})
    nodes = {"id": sites, "class": ["Site"] * len(sites),
             "name": [f"S{s:02d}" for s in sites], "building_id": [None] * len(sites),
             "area_m2": [None] * len(sites), "level": [None] * len(sites)}
    points: dict = {k: [] for k in built[0].points}
    edges: dict = {k: [] for k in built[0].edges}
    for b in built:
        for k in nodes:
            nodes[k] += b.nodes[k]
        for k in points:
            points[k] += b.points[k]
        for k in edges:
            edges[k] += b.edges[k]
    points.pop("entity")  # simulation detail, not data
    i32, s = pa.int32(), pa.string()
    return {
        "nodes": pa.table(nodes, schema=pa.schema([
            ("id", i32), ("class", s), ("name", s), ("building_id", i32),
            ("area_m2", pa.float64()), ("level", i32)])),
        "points": pa.table(points, schema=pa.schema([
            ("id", i32), ("class", s), ("name", s), ("building_id", i32), ("parent_id", i32),
            ("type", s), ("unit", s), ("interval_s", i32)])),
        "edges": pa.table(edges, schema=pa.schema([("src", i32), ("rel", s), ("dst", i32)])),
        "classes": pa.Table.from_pylist(classes.class_rows(), schema=pa.schema([
            ("class", s), ("parent", s), ("category", s)])),
    }


def partition_path(date: dt.date, building: int) -> str:
    return f"timeseries/date={date.isoformat()}/part-b{building:03d}.parquet"


def simulate(unit: Unit, point_ids=None, days: set[int] | None = None):
    """Yield (day index, date, table) for the unit's days (or the subset `days`) and points."""
    b = model.build(unit.seed, unit.profile.scale, unit.building)
    groups = emit.plan(b, point_ids)
    dates = unit.profile.dates()
    state = physics.initial_state(unit.seed, b)
    last = unit.first_day + unit.n_days
    for d in range(last):
        signals, state = physics.simulate_day(unit.seed, b, dates[d], state)
        if d >= unit.first_day and (days is None or d in days):
            yield d, dates[d], emit.day_table(groups, signals, unit.seed, dates[d])


def write_table(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **PARQUET_OPTIONS)


def run_unit(unit: Unit, out_dir: str, report=None) -> dict[str, int]:
    """Write the unit's partition files; return {relative path: rows}.

    `report(rows)` is called after each file (the progress bar, or a worker's queue)."""
    rows = {}
    for _, date, table in simulate(unit):
        rel = partition_path(date, unit.building)
        write_table(table, Path(out_dir) / rel)
        rows[rel] = table.num_rows
        if report is not None:
            report(table.num_rows)
    return rows


# Share of a day's generation cost spent in the physics alone (small-1w: ~36 of ~120 ms per
# day), which a later day block pays again to fast-forward to its first day.
PHYSICS_SHARE = 0.3


def day_blocks(days: int, blocks: int, physics_share: float = PHYSICS_SHARE) -> list[int]:
    """Block lengths with equal work when block k first fast-forwards through the days before
    it: len_k = T - start_k * share. Later blocks are shorter; lengths sum to `days`."""
    blocks = max(1, min(blocks, days))
    lo, hi = days / blocks, float(days)
    for _ in range(60):  # bisection on the per-block work T
        t = (lo + hi) / 2
        start, total = 0.0, 0.0
        for _ in range(blocks):
            length = max(t - start * physics_share, 0.0)
            start += length
            total += length
        lo, hi = (t, hi) if total < days else (lo, t)
    lengths, start = [], 0
    for k in range(blocks):
        n = days - start if k == blocks - 1 else max(1, round(t - start * physics_share))
        n = min(n, days - start - (blocks - k - 1))
        lengths.append(n)
        start += n
    return [n for n in lengths if n > 0]


def plan_units(seed: int, profile: Profile, buildings: list[int], workers: int) -> list[Unit]:
    """Whole buildings when there are enough of them; else each building's days split in one
    block per worker, balanced for the fast-forward cost."""
    blocks = 1 if len(buildings) >= workers else workers
    units = []
    for b in buildings:
        start = 0
        for n in day_blocks(profile.days, blocks):
            units.append(Unit(seed, profile, b, start, n))
            start += n
    return units


def generate(seed: int, profile: Profile, out_dir: Path, workers: int = 1,
             buildings: list[int] | None = None, progress=None) -> dict:
    """Write a whole dataset (minus params/fingerprint) into `out_dir`; return row counts.

    `progress(rows)` is called as timeseries rows are written.
    """
    buildings = buildings or list(range(1, profile.scale.buildings + 1))
    for name, table in structure_tables(seed, profile, buildings).items():
        write_table(table, out_dir / f"{name}.parquet")
    units = plan_units(seed, profile, buildings, workers)
    files: dict[str, int] = {}
    if workers <= 1 or len(units) == 1:
        for u in units:
            files.update(run_unit(u, str(out_dir), progress))
        return files
    # forkserver: workers fork from a clean server that preloaded the generator, so they start
    # fast and never inherit the parent's pyarrow threads (plain fork after threads can deadlock)
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    queue = ctx.Queue() if progress else None
    with ProcessPoolExecutor(max_workers=min(workers, len(units)), mp_context=ctx,
                             initializer=_init_worker, initargs=(queue,)) as pool:
        pending = {pool.submit(_worker_unit, u, str(out_dir)) for u in units}
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for f in done:
                files.update(f.result())  # re-raises a worker's exception here
            _drain(queue, progress)
    _drain(queue, progress)
    return files


_progress_queue = None


def _init_worker(queue) -> None:
    global _progress_queue
    _progress_queue = queue


def _worker_unit(unit: Unit, out_dir: str) -> dict[str, int]:
    return run_unit(unit, out_dir, _progress_queue.put if _progress_queue else None)


def _drain(queue, progress) -> None:
    """Forward the rows workers reported to the progress callback."""
    if queue is None:
        return
    try:
        while True:
            progress(queue.get_nowait())
    except Empty:
        pass


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
