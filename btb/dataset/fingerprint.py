"""`fingerprint.json`: what a dataset is (generator meta) and exactly which bytes make it up.

    {<meta: generator_version, profile, seed, buildings, dates, parent?>,
     "files": {"nodes.parquet": {"sha256": ..., "bytes": ..., "rows": ...}, ...},
     "row_counts": {"nodes": n, "points": n, "edges": n, "classes": n, "timeseries": n},
     "dataset_sha256": sha256 over the sorted "path\\tsha256\\n" lines}

Deterministic on purpose (no timestamps, sorted keys): the same content written twice gives the same
bytes, so two hosts can compare datasets by `dataset_sha256` alone. `created_at` lives in the
catalog instead.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq

from btb.errors import BtbError

from .fsutil import Progress, sha256_file, walk_files

FINGERPRINT = "fingerprint.json"
STRUCTURE_TABLES = ("nodes", "points", "edges", "classes")
TIMESERIES_DIR = "timeseries"
# Keys computed here; a caller's meta never overrides them.
COMPUTED_KEYS = ("files", "row_counts", "dataset_sha256")


class FingerprintMissing(Exception):
    """fingerprint.json is absent or unreadable; the message says which."""


def dataset_sha256(files: dict[str, dict]) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(f"{rel}\t{files[rel]['sha256']}\n".encode())
    return h.hexdigest()


def meta_of(fp: dict) -> dict:
    """The caller's meta part of a fingerprint (everything but the computed keys)."""
    return {k: v for k, v in fp.items() if k not in COMPUTED_KEYS}


def _hash_all(
    items: list[tuple[str, Path]], progress: Progress | None
) -> dict[str, tuple[str, int]]:
    sizes = {rel: p.stat().st_size for rel, p in items}
    total = sum(sizes.values())
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        progress(done, total)  # type: ignore[misc]

    out = {}
    for rel, p in items:
        out[rel] = (sha256_file(p, tick if progress else None), sizes[rel])
    if progress:
        progress(total, total)
    return out


def compute(ds_dir: Path, meta: dict, progress: Progress | None = None) -> dict:
    """Fingerprint of every file under ds_dir except fingerprint.json itself."""
    items = [(rel, p) for rel, p in walk_files(ds_dir) if rel != FINGERPRINT]
    files: dict[str, dict] = {}
    for rel, (sha, size) in _hash_all(items, progress).items():
        entry: dict = {"sha256": sha, "bytes": size}
        if rel.endswith(".parquet"):
            try:
                entry["rows"] = pq.read_metadata(ds_dir / rel).num_rows
            except Exception as e:  # a file the writer left unreadable: refuse to register it
                raise BtbError(f"{ds_dir / rel}: not a readable Parquet file ({e})") from e
        files[rel] = entry
    counts = {t: files.get(f"{t}.parquet", {}).get("rows", 0) for t in STRUCTURE_TABLES}
    counts["timeseries"] = sum(
        e.get("rows", 0) for rel, e in files.items() if rel.startswith(TIMESERIES_DIR + "/")
    )
    fp = {k: v for k, v in meta.items() if k not in COMPUTED_KEYS}
    fp.update(files=files, row_counts=counts, dataset_sha256=dataset_sha256(files))
    return fp


def load(ds_dir: Path) -> dict:
    try:
        raw = (ds_dir / FINGERPRINT).read_bytes()
    except FileNotFoundError:
        raise FingerprintMissing(f"{FINGERPRINT} is missing") from None
    except OSError as e:
        raise FingerprintMissing(f"{FINGERPRINT} is unreadable ({e})") from None
    return parse(raw)


def parse(raw: bytes) -> dict:
    """A fingerprint from its JSON bytes; FingerprintMissing when it is not a usable one."""
    try:
        fp = json.loads(raw)
    except ValueError as e:
        raise FingerprintMissing(f"{FINGERPRINT} is not valid JSON ({e})") from None
    if not isinstance(fp, dict) or not isinstance(fp.get("files"), dict):
        raise FingerprintMissing(f"{FINGERPRINT} has no 'files' table")
    for rel, e in fp["files"].items():
        if not (isinstance(e, dict) and isinstance(e.get("sha256"), str)):
            raise FingerprintMissing(f"{FINGERPRINT} entry {rel!r} has no sha256")
    return fp


def check(
    ds_dir: Path,
    fp: dict,
    progress: Progress | None = None,
    only: set[str] | None = None,
    hashes: bool = True,
) -> list[str]:
    """Problems found comparing ds_dir with fp: missing, changed and extra files, one line each.

    only: check just these relative paths (no search for extra files).
    hashes=False: names and sizes only (cheap), no content check."""
    problems: list[str] = []
    listed: dict[str, dict] = fp["files"]
    if only is None:
        if fp.get("dataset_sha256") != dataset_sha256(listed):
            problems.append(f"{FINGERPRINT}: dataset_sha256 does not match its own file list")
        on_disk = {rel: p for rel, p in walk_files(ds_dir) if rel != FINGERPRINT}
        problems += [
            f"extra file: {rel} (not listed in {FINGERPRINT})" for rel in sorted(on_disk.keys() -
                                                                                listed.keys())
        ]
        wanted = sorted(listed)
    else:
        on_disk = {rel: ds_dir / rel for rel in only if (ds_dir / rel).is_file()}
        wanted = sorted(only)
    present = []
    for rel in wanted:
        if rel not in listed:
            problems.append(f"extra file: {rel} (not listed in {FINGERPRINT})")
        elif rel not in on_disk:
            problems.append(f"missing file: {rel}")
        elif on_disk[rel].stat().st_size != listed[rel].get("bytes", -1):
            size = on_disk[rel].stat().st_size
            problems.append(f"changed file: {rel} ({size} bytes, expected {listed[rel]['bytes']})")
        else:
            present.append((rel, on_disk[rel]))
    if not hashes:
        present = []
    for rel, (sha, _size) in _hash_all(present, progress).items():
        if sha != listed[rel]["sha256"]:
            problems.append(f"changed file: {rel} (sha256 {sha[:12]}…, expected "
                            f"{listed[rel]['sha256'][:12]}…)")
    return sorted(problems)
