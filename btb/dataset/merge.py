"""append / upsert: combine an existing dataset with what a writer staged, inside the staging dir.

The staging dir ends up holding the complete new dataset, so the store's atomic swap works the same
for every mode. Existing files that do not change are hard-linked (never copied: a year of
timeseries must not need twice the disk), which is why staging lives on the store's filesystem.
"""

from __future__ import annotations

import filecmp
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from btb.errors import BtbError

from .fingerprint import FINGERPRINT, STRUCTURE_TABLES, TIMESERIES_DIR
from .fsutil import walk_files

STRUCTURE_FILES = frozenset(f"{t}.parquet" for t in STRUCTURE_TABLES)
KEY = ("point_id", "time")


def combine(existing: Path, staging: Path, mode: str, name: str) -> dict[str, str]:
    """Bring the existing dataset's files into staging according to `mode` (append or upsert).

    Returns {relative path: how the existing file was used} with "linked", "compared" or "merged",
    so the caller can check those files against the existing fingerprint."""
    used: dict[str, str] = {}
    for rel, old in walk_files(existing):
        if rel == FINGERPRINT:
            continue
        new = staging / rel
        if not new.exists():
            new.parent.mkdir(parents=True, exist_ok=True)
            os.link(old, new)
            used[rel] = "linked"
        elif rel in STRUCTURE_FILES:
            if not filecmp.cmp(old, new, shallow=False):
                raise BtbError(
                    f"{mode} to dataset {name!r}: staged {rel} differs from the existing one; "
                    f"{mode} only adds timeseries to an unchanged structure: leave {rel} out of "
                    "the staging dir, write the identical file, or use mode='replace'"
                )
            used[rel] = "compared"
        elif rel.startswith(TIMESERIES_DIR + "/"):
            if mode == "append":
                raise BtbError(
                    f"append to dataset {name!r}: {rel} already exists and append never "
                    "overwrites rows; use mode='upsert' to merge it (staged rows win) or "
                    "mode='replace'"
                )
            merge_timeseries(old, new)
            used[rel] = "merged"
        # any other file (params.json, ...): the staged one wins
    return used


def merge_timeseries(old: Path, new: Path) -> int:
    """Rewrite `new` as old ∪ new deduplicated on (point_id, time), new rows winning, sorted by
    (point_id, time), with the old file's compression. Returns the merged row count."""
    old_t, new_t = pq.read_table(old), pq.read_table(new)
    if not new_t.schema.equals(old_t.schema, check_metadata=False):
        raise BtbError(
            f"upsert {new.name}: staged schema differs from the existing file {old}; "
            f"staged: {new_t.schema.to_string(show_schema_metadata=False)}; "
            f"existing: {old_t.schema.to_string(show_schema_metadata=False)}"
        )
    both = pa.concat_tables([old_t, new_t.replace_schema_metadata(old_t.schema.metadata)])
    for k in KEY:
        if both[k].null_count:
            raise BtbError(f"upsert {new.name}: column {k} has nulls; keys must be set")
    src = np.concatenate([np.zeros(old_t.num_rows, np.int8), np.ones(new_t.num_rows, np.int8)])
    both = both.append_column("_src", pa.array(src))
    order = pc.sort_indices(
        both, sort_keys=[("point_id", "ascending"), ("time", "ascending"), ("_src", "descending")]
    )
    both = both.take(order)
    pid, t = _keys(both)
    keep = np.ones(both.num_rows, dtype=bool)
    keep[1:] = (pid[1:] != pid[:-1]) | (t[1:] != t[:-1])  # first of each key = the staged row
    merged = both.filter(pa.array(keep)).drop_columns(["_src"])
    tmp = new.with_name(f".merge-{new.name}")
    pq.write_table(merged, tmp, compression=compression_of(old))
    check_unique_sorted(tmp)
    os.replace(tmp, new)
    return merged.num_rows


def check_unique_sorted(path: Path) -> None:
    """Integrity check after a merge: keys strictly increasing, so no duplicate (point_id, time)."""
    pid, t = _keys(pq.read_table(path, columns=list(KEY)))
    ok = (pid[1:] > pid[:-1]) | ((pid[1:] == pid[:-1]) & (t[1:] > t[:-1]))
    if not ok.all():
        bad = int(np.argmin(ok)) + 1
        raise BtbError(
            f"integrity check failed after upsert: {path} has a duplicate or unsorted key "
            f"(point_id={pid[bad]}, time={t[bad]}) at row {bad}"
        )


def _keys(table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    pid = table["point_id"].to_numpy()
    t = pc.cast(table["time"], pa.int64()).to_numpy()
    return pid, t


def compression_of(path: Path) -> str:
    md = pq.read_metadata(path)
    if md.num_row_groups and md.num_columns:
        codec = md.row_group(0).column(0).compression.lower()
        if codec != "uncompressed":
            return codec
    return "zstd"
