"""`btb report RESULTS_DIR... --out DIR`: read and validate every cell file, build the HTML report,
the figures (PNG + SVG) and the tidy table (CSV + Parquet), print a short summary.

Everything is built in a temporary directory inside DIR and then moved into place file by file
(os.replace; `figures/` swapped as a whole), `report.html` last: a reader or a killed run never
sees a report whose figures or tables are half-written, and DIR may hold other files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from btb.dataset.fsutil import fsync_tree
from btb.errors import BtbError
from btb.results import analysis, load, sections, tidy

OUTPUTS = ("results.csv", "results.parquet", "report.html")  # report.html last: it links the rest


@dataclass
class Report:
    out: Path
    cells: int
    errors: list
    figures: list[str]
    seconds: float
    text: str


def _out_dir(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BtbError(f"report directory {out} cannot be created: {e.strerror}") from None
    if not os.access(out, os.W_OK):
        raise BtbError(f"report directory {out} is not writable")
    return out


def _publish(tmp: Path, out: Path) -> None:
    fsync_tree(tmp)
    old = None
    if (out / "figures").exists():
        old = tmp / "figures.old"
        os.replace(out / "figures", old)
    os.replace(tmp / "figures", out / "figures")
    for name in OUTPUTS:
        os.replace(tmp / name, out / name)
    if old is not None:
        shutil.rmtree(old)


def report(dirs: list[Path], out: Path, threshold: float = analysis.DEFAULT_THRESHOLD,
           noise_ms: float = analysis.DEFAULT_NOISE_MS, log=print) -> Report:
    if threshold < 1:
        raise BtbError(f"--threshold must be >= 1 (a ratio to the p95 at the largest RAM level), "
                       f"got {threshold}")
    if not noise_ms >= 0:
        raise BtbError(f"--noise-ms must be >= 0 (ms of p95 difference ignored), got {noise_ms}")
    try:  # the optional `report` extra; `btb run` on a campaign host does not need it
        from btb.results import assemble, html
    except ImportError as e:
        raise BtbError(f"btb report needs the 'report' extra ({e.name} is missing): "
                       "pip install 'btb[report]' (matplotlib, jinja2)") from None
    t0 = time.perf_counter()
    loaded = load.load([Path(d) for d in dirs])
    log(f"read {loaded.files_seen} result files: {len(loaded.cells)} valid, "
        f"{len(loaded.errors)} left out")
    secs = sections.split_by_dataset(loaded.cells, threshold, noise_ms)
    out = _out_dir(Path(out))
    tmp = Path(tempfile.mkdtemp(prefix=".report-tmp-", dir=out))
    try:
        figdir = tmp / "figures"
        figdir.mkdir()
        log(f"drawing figures and tables for {len(secs)} dataset(s), "
            f"{sum(len(s.cells) for s in secs)} cells")
        ctx = assemble.context(loaded, secs, figdir, threshold, [str(d) for d in dirs],
                               noise_ms=noise_ms)
        table = tidy.table(loaded.cells)
        tidy.write_csv(table, tmp / "results.csv")
        tidy.write_parquet(table, tmp / "results.parquet")
        (tmp / "report.html").write_text(html.render(ctx), encoding="utf-8")
        _publish(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    seconds = time.perf_counter() - t0
    text = assemble.text_summary(ctx, out, loaded) + f"\nbuilt in {seconds:.1f} s"
    return Report(out, len(loaded.cells), loaded.errors, assemble.figure_names(ctx), seconds,
                  text)
