"""`btb export PROFILE --scenario X --out DIR`: a scenario's load files, for people who want them.

Engines load straight from the Parquet pivot; these files are for inspection or publication.
Layout follows seed 000's on-demand export: `<out>/<profile>_seed<seed>/timeseries.csv` written
once and hard-linked into every scenario that loads timeseries into PostgreSQL (P1 P2 M2 O2 F2),
then one directory per scenario (`p1/`, `o1/`, ...).
"""

from __future__ import annotations

from pathlib import Path

from btb.config.profiles import DEFAULT_SEED, get_profile
from btb.config.scenarios import get_scenarios
from btb.errors import BtbError
from btb.export import pg, rdf
from btb.progress import Bar
from btb.workflows.datasets import open_verified


def export(profile: str, scenarios: list[str], out: Path, root: Path,
           seed: int = DEFAULT_SEED) -> list[Path]:
    prof = get_profile(profile)
    chosen = get_scenarios(scenarios)
    name, ds, fp = open_verified(prof, seed, root)
    base = Path(out) / name
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BtbError(f"cannot create export directory {base}: {e.strerror}") from None
    written: list[Path] = []
    shared = base / "timeseries.csv"
    for sc in chosen:
        d = base / sc.name.lower()
        if sc.name in pg.TIMESERIES_NAMES:
            if not shared.exists():
                with Bar("timeseries.csv", total=fp["row_counts"]["timeseries"]) as bar:
                    pg.write_timeseries_csv(ds, shared, bar.add)
                written.append(shared)
            written.append(pg.link_timeseries(shared, d, sc.name))
        if sc.engine == "postgres":
            written += pg.write_structure_csv(ds, d)
        elif sc.engine == "oxigraph":
            target = d / ("brick_archive.nt" if not sc.hybrid else "brick.nt")
            rdf.write_ntriples(ds, target, archive=not sc.hybrid)
            written.append(target)
        else:
            from btb.export import cypher

            written += cypher.write_csv(ds, d, archive=not sc.hybrid)
    return written
