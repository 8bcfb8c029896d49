"""PostgreSQL CSV files from the Parquet pivot, for `btb export` (inspection, publication).

Engines never load from these files (the postgres engine streams COPY from Parquet); they exist
for people who want the data in a portable form. The timeseries CSV is written once per export
and shared by every scenario that uses it (hard links, not copies: seed 000's on-demand export).
Timestamps are naive UTC: pyarrow's CSV writer is several times slower on tz-aware columns.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

# seed 000's file names per scenario
TIMESERIES_NAMES = {"P1": "pg_timeseries.csv", "P2": "pg_timeseries.csv",
                    "M2": "timeseries.csv", "O2": "timeseries.csv", "F2": "timeseries.csv"}


def write_structure_csv(dataset: Path, out: Path) -> list[Path]:
    """nodes.csv, points.csv, edges.csv, classes.csv with a header row."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("nodes", "points", "edges", "classes"):
        target = out / f"{name}.csv"
        pacsv.write_csv(pq.read_table(Path(dataset) / f"{name}.parquet"), target)
        written.append(target)
    return written


def write_timeseries_csv(dataset: Path, target: Path,
                         progress: Callable[[int], None] | None = None) -> int:
    """One `point_id,time,value` CSV of every partition, streamed file by file; returns rows."""
    files = sorted(Path(dataset).glob("timeseries/date=*/*.parquet"))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    rows = 0
    with pacsv.CSVWriter(tmp, pq.read_schema(files[0])) as writer:
        for f in files:
            table = pq.read_table(f)
            writer.write_table(table)
            rows += table.num_rows
            if progress:
                progress(table.num_rows)
    os.replace(tmp, target)
    return rows


def link_timeseries(shared: Path, scenario_dir: Path, scenario: str) -> Path:
    """Hard-link the shared timeseries CSV into a scenario directory under seed 000's name."""
    scenario_dir.mkdir(parents=True, exist_ok=True)
    link = scenario_dir / TIMESERIES_NAMES[scenario]
    if link.exists():
        link.unlink()
    os.link(shared, link)
    return link
