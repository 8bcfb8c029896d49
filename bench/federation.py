"""Federation threshold: bound id arrays vs a COPY-filled temp table, by number of graph rows.

    .venv/bin/python bench/federation.py [--profile small-2d] [--sizes 10 100 1000 ...]

Loads the profile's timeseries into a local PostgreSQL, then for each size N sends N point ids
(with one grouping key, as a hybrid graph part does) both ways through the real federation code
(btb/workload/execution.py) and times transfer + timeseries query (median of 5). The crossover
is where execution.FED_THRESHOLD should sit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from btb.config.profiles import DEFAULT_SEED
from btb.dataset.store import Store
from btb.engines.postgres import Postgres
from btb.runtime.base import ServerSpec
from btb.runtime.local import LocalRuntime
from btb.workload import execution
from btb.workload.catalog import Query

SQL = """SELECT fed.grp, count(*), avg(t.value)
FROM fed JOIN timeseries t ON t.point_id = fed.point_id
WHERE t.time >= %(start)s AND t.time < %(end)s
GROUP BY fed.grp"""


class _Graph:
    """Stands in for the graph engine: returns the prepared (point_id, grp) rows."""

    def __init__(self, rows):
        self.rows = rows

    def execute(self, *_):
        return self.rows


def _time(plan, graph, pg, params, threshold: int) -> float:
    samples = []
    for _ in range(5):
        out = execution.run(plan, graph, params, 60, pg, fed_threshold=threshold)
        samples.append(out.split_ms["transfer"] + out.split_ms["timeseries"])
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="small-2d")
    ap.add_argument("--root", default="datasets")
    ap.add_argument("--sizes", type=int, nargs="+",
                    default=[10, 100, 300, 1000, 3000, 10000, 30000, 100000])
    args = ap.parse_args()
    store = Store(args.root)
    name = f"{args.profile}_seed{DEFAULT_SEED}"
    ds = store.path(name)
    store.verify(name)
    period = json.loads((ds / "params.json").read_text())["period"]
    start = dt.datetime.fromisoformat(period["start"])
    params = {"start": start, "end": start + dt.timedelta(hours=6)}
    points = pq.read_table(ds / "points.parquet")["id"].to_numpy()
    q = Query("QF", "hybrid", "federation bench", {}, ("grp", "n", "mean"), Path("."),
              ("point_id", "grp"))
    plan = execution.Plan(q, "federate", SQL, "ts", graph_text="(graph part)")
    srv = LocalRuntime().start(ServerSpec("postgres", Path(tempfile.mkdtemp()) / "pg"))
    try:
        pg = Postgres()
        pg.connect(srv.endpoint)
        pg.create_schema("TS")
        t0 = time.perf_counter()
        pg.load(ds, "TS")
        print(f"{args.profile}: timeseries loaded in {time.perf_counter() - t0:.1f} s; "
              f"query window 6 h; {len(points)} distinct points (ids repeat above that)")
        print(f"{'N ids':>8} {'array ms':>9} {'temp table ms':>14} {'faster':>8}")
        rng = np.random.default_rng(0)
        for n in args.sizes:
            ids = rng.choice(points, n, replace=n > len(points))
            rows = [(int(i), int(i) % 97) for i in ids]
            graph = _Graph(rows)
            arr = _time(plan, graph, pg, params, threshold=n)  # n <= threshold: arrays
            tmp = _time(plan, graph, pg, params, threshold=n - 1)  # above: temp table
            print(f"{n:>8} {arr:>9.2f} {tmp:>14.2f} {'array' if arr <= tmp else 'temp':>8}")
    finally:
        srv.stop()
    print(f"current execution.FED_THRESHOLD = {execution.FED_THRESHOLD}")


if __name__ == "__main__":
    main()
