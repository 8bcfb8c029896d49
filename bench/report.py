"""Report build time and size for a full-size campaign, without running any engine.

    .venv/bin/python bench/report.py [--scenarios P1 P2 O1 O2 F1 F2 M1 M2] [--levels 0.5 1 2 4 8]

Writes constructed, schema-valid cells (tests/unit/result_factory.py: every scenario x level x
Q1..Q13 x small/large, a few failures at the smallest level) into a temp dir, builds the report
and prints the cell count, build time, HTML size, figure count and the tidy table's rows.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from btb.workflows.report import report  # noqa: E402
from tests.unit import result_factory as rf  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", nargs="+", default=["P1", "P2", "O1", "O2", "F1", "F2",
                                                       "M1", "M2"])
    ap.add_argument("--levels", nargs="+", type=float, default=[0.5, 1, 2, 4, 8])
    args = ap.parse_args()
    rnd = random.Random(42)
    cells = []
    for sc in args.scenarios:
        for lv in args.levels:
            for q in range(1, 14):
                for v in ("small", "large"):
                    status = "oom" if lv == min(args.levels) and rnd.random() < 0.3 else "ok"
                    p95 = (1 + q) * (3 if v == "large" else 1) * (1 + 2 / lv) * rnd.uniform(1, 1.1)
                    cells.append(rf.cell(lv, f"Q{q}", status, p95, variant=v, scenario=sc))
    with tempfile.TemporaryDirectory() as tmp:
        res = Path(tmp) / "results"
        rf.write(res, cells)
        t0 = time.perf_counter()
        r = report([res], Path(tmp) / "report", log=lambda m: None)
        seconds = time.perf_counter() - t0
        html = (Path(tmp) / "report" / "report.html").stat().st_size
        csv = sum(1 for _ in open(Path(tmp) / "report" / "results.csv")) - 1
    print(f"{r.cells} cells ({len(args.scenarios)} scenarios x {len(args.levels)} levels x 26): "
          f"report built in {seconds:.1f} s ({seconds / r.cells * 1000:.1f} ms per cell), "
          f"report.html {html / 1e6:.2f} MB, {len(r.figures)} figures, {csv} tidy rows")


if __name__ == "__main__":
    main()
