"""`<root>/catalog.json`: one entry per dataset, derived from its fingerprint (rebuildable).

    {"<name>": {"profile", "seed", "parent", "rows", "row_counts", "bytes", "dataset_sha256",
                "created_at"}}

`rows` is the total over every Parquet file (structure + timeseries); `row_counts` splits it.
The fingerprints are the truth: a missing or stale catalog is rebuilt from them.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from . import fingerprint as fpmod
from .fsutil import atomic_write_bytes, dump_json

CATALOG = "catalog.json"


def entry(fp: dict, created_at: str | None = None) -> dict:
    counts = fp.get("row_counts", {})
    return {
        "profile": fp.get("profile"),
        "seed": fp.get("seed"),
        "parent": fp.get("parent"),
        "rows": sum(counts.values()),
        "row_counts": counts,
        "bytes": sum(e.get("bytes", 0) for e in fp["files"].values()),
        "dataset_sha256": fp.get("dataset_sha256"),
        "created_at": created_at or now_iso(),
    }


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def read(root: Path) -> dict | None:
    """The catalog, or None when it is missing or unreadable (the caller rebuilds it)."""
    try:
        cat = json.loads((root / CATALOG).read_bytes())
    except (OSError, ValueError):
        return None
    return cat if isinstance(cat, dict) else None


def write(root: Path, cat: dict) -> None:
    atomic_write_bytes(root / CATALOG, dump_json(cat))


def rebuild(root: Path, names: list[str], old: dict | None = None) -> dict:
    """A catalog from the fingerprints of `names`; keeps created_at from `old` where the dataset is
    unchanged, else uses fingerprint.json's mtime. Datasets without a valid fingerprint are left
    out (verify reports them)."""
    old = old or {}
    cat = {}
    for name in names:
        ds = root / name
        try:
            fp = fpmod.load(ds)
        except fpmod.FingerprintMissing:
            continue
        prev = old.get(name) or {}
        if prev.get("dataset_sha256") == fp.get("dataset_sha256") and prev.get("created_at"):
            created = prev["created_at"]
        else:
            mtime = (ds / fpmod.FINGERPRINT).stat().st_mtime
            created = dt.datetime.fromtimestamp(mtime, dt.timezone.utc).replace(microsecond=0)
            created = created.isoformat()
        cat[name] = entry(fp, created)
    return cat
