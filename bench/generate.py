"""Generation throughput and memory, against Parquet write-only throughput measured in the same run.

    .venv/bin/python bench/generate.py --profile small-1w --workers 1 2

For each worker count, a fresh process generates the profile (structure + timeseries, no
fingerprint hashing) and reports rows/s and the peak RSS of the largest process (parent or any
worker). Then the same rows are read back and written again with the generator's Parquet
settings: the write-only reference. Targets (issue 2): >= 5 M rows/s per worker end to end, i.e.
within ~2x of write-only; peak RSS < 2 GB; near-linear speed-up from 1 to 2 workers.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from btb.config.profiles import DEFAULT_SEED, get_profile
from btb.dataset import generator

_CHILD = """
import json, sys, time
from pathlib import Path
from btb.config.profiles import get_profile
from btb.dataset import generator
profile, seed, workers, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
t0 = time.perf_counter()
files = generator.generate(seed, get_profile(profile), out, workers)
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": sum(files.values()),
                  "files": len(files)}))
"""


def run_generation(profile: str, seed: int, workers: int, out: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([sys.executable, "-c", _CHILD, profile, str(seed), str(workers),
                           str(out)], check=True, capture_output=True, text=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # ru_maxrss of waited-for descendants: the largest single process (KiB on Linux)
    result["peak_rss_mb"] = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                                ) / 1024
    return result


def write_only(src: Path, dst: Path) -> dict:
    rows, seconds, size = 0, 0.0, 0
    for f in sorted(src.glob("timeseries/date=*/*.parquet")):
        table = pq.read_table(f)
        target = dst / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        pq.write_table(table, target, **generator.PARQUET_OPTIONS)
        seconds += time.perf_counter() - t0
        rows += table.num_rows
        size += target.stat().st_size
    return {"rows": rows, "seconds": seconds, "bytes_per_row": size / max(rows, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="small-1w")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()
    get_profile(args.profile)  # fail early on a bad name

    with tempfile.TemporaryDirectory(prefix="btb-bench-") as tmp:
        runs = {}
        for w in args.workers:
            out = Path(tmp) / f"gen-w{w}"
            out.mkdir()
            runs[w] = run_generation(args.profile, args.seed, w, out)
        ref = write_only(Path(tmp) / f"gen-w{args.workers[0]}", Path(tmp) / "write-only")

    wo_rate = ref["rows"] / ref["seconds"]
    print(f"profile {args.profile}: {ref['rows']:,} timeseries rows, "
          f"{ref['bytes_per_row']:.2f} Parquet bytes/row")
    print(f"write-only reference (same rows, same Parquet settings, 1 process): "
          f"{wo_rate / 1e6:.2f} M rows/s")
    print(f"{'workers':>7} {'seconds':>8} {'M rows/s':>9} {'per worker':>10} "
          f"{'write-only/per-worker':>21} {'speed-up':>8} {'peak RSS MB':>11}")
    base = runs[args.workers[0]]
    for w, r in runs.items():
        rate = r["rows"] / r["seconds"]
        print(f"{w:>7} {r['seconds']:>8.2f} {rate / 1e6:>9.2f} {rate / w / 1e6:>10.2f} "
              f"{wo_rate / (rate / w):>21.2f} {base['seconds'] / r['seconds']:>8.2f} "
              f"{r['peak_rss_mb']:>11.0f}")


if __name__ == "__main__":
    main()
