"""Cut a smaller dataset (fewer days and/or buildings) from a master without regenerating it.

Buildings 1..N and the first D dates are kept. Timeseries files are per building and day, so they
are hard-linked, never rewritten; nodes/points/edges are filtered; classes are linked unchanged;
params.json is redrawn for the subset. The subset's fingerprint records its parent.

Only a profile whose scale has the same building shape (floors, zones per floor, buildings per
site) can be cut, because buildings are drawn per index from the seed: building 3 of `large` is
building 3 of `medium`, but `tiny` buildings are not `small` ones.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from btb.config.profiles import DURATIONS, SCALES, Profile, Scale, get_profile
from btb.errors import BtbError

from . import fingerprint as fpmod
from .fsutil import Progress
from .merge import compression_of
from .store import Store

BUILDING_ID_STEP = 1_000_000  # building b (1-based) has node id b * 1_000_000
_TS_RE = re.compile(r"timeseries/date=(\d{4}-\d{2}-\d{2})/part-b(\d+)\.parquet")
ParamsWriter = Callable[[Path, int], object]


def extract(
    store: Store,
    source_name: str,
    target_profile: Profile,
    seed: int,
    params_writer: ParamsWriter | None = None,
    progress: Progress | None = None,
) -> str:
    """Write `<target_profile>_seed<seed>` cut from `source_name`; returns the new name.

    params_writer(staging_dir, seed) writes params.json; default btb.dataset.params.write_params."""
    if params_writer is None:
        from btb.dataset.params import write_params as params_writer
    target = f"{target_profile.name}_seed{seed}"
    with store.lock():
        src_fp = store.fingerprint(source_name)
        src_profile = _source_profile(src_fp, source_name)
        if src_fp.get("seed") != seed:
            raise BtbError(
                f"cannot cut {target} from {source_name!r}: its data was drawn with seed "
                f"{src_fp.get('seed')}, and a subset keeps its master's seed; use seed "
                f"{src_fp.get('seed')} or generate {target_profile.name} with seed {seed}"
            )
        if target == source_name:
            raise BtbError(f"cannot cut {target} from itself; choose a smaller profile")
        dates = sorted({m[1] for rel in src_fp["files"] if (m := _TS_RE.fullmatch(rel))})
        _check_cut(src_profile, len(dates), target_profile, source_name)
        n_b, kept_dates = target_profile.scale.buildings, dates[: target_profile.days]
        ts = _timeseries_files(src_fp, set(kept_dates), n_b, source_name)
        structure = [f"{t}.parquet" for t in fpmod.STRUCTURE_TABLES]
        src = store.path(source_name)
        missing = [rel for rel in structure if rel not in src_fp["files"]]
        if missing:
            raise BtbError(f"cannot cut from {source_name!r}: it has no {', '.join(missing)}; "
                           "regenerate the master")
        problems = fpmod.check(src, src_fp, only=set(structure) | set(ts))
        if problems:
            raise store._corrupt(source_name, problems, f"cannot cut {target}: ")
        meta = _subset_meta(src_fp, source_name, target_profile, kept_dates)
        need = sum(src_fp["files"][rel]["bytes"] for rel in structure)
        with store.write(target, meta, "replace", need_bytes=need, progress=progress) as staging:
            n_sites = math.ceil(n_b / target_profile.scale.buildings_per_site)
            _cut_structure(src, staging, n_b, n_sites)
            for rel in ["classes.parquet", *ts]:
                (staging / rel).parent.mkdir(parents=True, exist_ok=True)
                os.link(src / rel, staging / rel)
            params_writer(staging, seed)
    return target


def _source_profile(src_fp: dict, source_name: str) -> Profile:
    try:
        return get_profile(str(src_fp.get("profile")))
    except BtbError as e:
        raise BtbError(f"cannot cut from {source_name!r}: its fingerprint names no valid "
                       f"profile ({e})") from None


def _shape(s: Scale) -> tuple:
    return (s.floors, s.zones_per_floor, s.buildings_per_site)


def _check_cut(src: Profile, src_days: int, tgt: Profile, source_name: str) -> None:
    s, t = src.scale, tgt.scale
    if _shape(s) != _shape(t):
        why = (f"{t.name} buildings are not {s.name} buildings (floors, zones per floor or "
               "buildings per site differ)")
    elif t.buildings > s.buildings:
        why = f"{tgt.name} needs {t.buildings} buildings, the source has {s.buildings}"
    elif tgt.days > src_days:
        why = f"{tgt.name} needs {tgt.days} days, the source has {src_days}"
    else:
        return
    ok = [
        f"{sc.name}-{d.name}"
        for sc in SCALES.values()
        if _shape(sc) == _shape(s) and sc.buildings <= s.buildings
        for d in DURATIONS.values()
        if d.days <= src_days and f"{sc.name}-{d.name}" != src.name
    ]
    raise BtbError(
        f"cannot cut {tgt.name} from {source_name!r} ({src.name}): {why}; profiles that can be "
        f"cut from it: {', '.join(ok) or 'none'}; otherwise generate {tgt.name}"
    )


def _timeseries_files(src_fp: dict, dates: set[str], n_b: int, source_name: str) -> list[str]:
    out = []
    for rel in sorted(src_fp["files"]):
        if not rel.startswith(fpmod.TIMESERIES_DIR + "/"):
            continue
        m = _TS_RE.fullmatch(rel)
        if m is None:
            raise BtbError(f"cannot cut from {source_name!r}: unexpected timeseries file {rel} "
                           "(expected timeseries/date=YYYY-MM-DD/part-bNNN.parquet)")
        if m[1] in dates and int(m[2]) <= n_b:
            out.append(rel)
    return out


def _subset_meta(src_fp: dict, source_name: str, tgt: Profile, kept_dates: list[str]) -> dict:
    meta = fpmod.meta_of(src_fp)
    n_b = tgt.scale.buildings
    b = meta.get("buildings")
    meta["buildings"] = b[:n_b] if isinstance(b, list) else n_b
    d = meta.get("dates")
    meta["dates"] = len(kept_dates) if isinstance(d, int) else list(kept_dates)
    meta["profile"] = tgt.name
    meta["parent"] = {"name": source_name, "dataset_sha256": src_fp["dataset_sha256"]}
    return meta


def _cut_structure(src: Path, staging: Path, n_b: int, n_sites: int) -> None:
    kept_ids: list[pa.Array] = []
    for table_name in ("nodes", "points"):
        path = src / f"{table_name}.parquet"
        table = pq.read_table(path)
        id_col = _id_column(table, path)
        if "building_id" not in table.column_names:
            raise BtbError(f"cannot cut {path}: it has no building_id column")
        b = table["building_id"]
        mask = pc.or_kleene(pc.is_null(b), pc.less(b, (n_b + 1) * BUILDING_ID_STEP))
        if "class" in table.column_names:  # site rows: keep sites 1..ceil(N / buildings_per_site)
            drop_site = pc.and_kleene(pc.equal(table["class"], "Site"),
                                      pc.greater(table[id_col], n_sites))
            mask = pc.and_(mask, pc.invert(pc.fill_null(drop_site, False)))
        kept = table.filter(pc.fill_null(mask, False))
        pq.write_table(kept, staging / path.name, compression=compression_of(path))
        kept_ids.append(pc.cast(kept[id_col], pa.int64()).combine_chunks())
    ids = pa.concat_arrays(kept_ids)
    path = src / "edges.parquet"
    edges = pq.read_table(path)
    keep = pc.and_(pc.is_in(pc.cast(edges["src"], pa.int64()), value_set=ids),
                   pc.is_in(pc.cast(edges["dst"], pa.int64()), value_set=ids))
    pq.write_table(edges.filter(keep), staging / path.name, compression=compression_of(path))


def _id_column(table: pa.Table, path: Path) -> str:
    for c in ("id", "point_id", "node_id"):
        if c in table.column_names:
            return c
    raise BtbError(f"cannot cut {path}: it has no id column (id, point_id or node_id)")
