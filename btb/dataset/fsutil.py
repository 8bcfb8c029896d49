"""Small filesystem helpers for the dataset store: durable writes, tree walks, byte formatting."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

# progress(done, total): both in bytes. The CLI wraps a tqdm bar around it; tests pass nothing.
Progress = Callable[[int, int], None]

CHUNK = 1 << 20  # 1 MiB: streaming hash and copy buffer


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def sha256_file(path: Path, on_chunk: Callable[[int], None] | None = None) -> str:
    """SHA-256 of a file read in 1 MiB chunks (never the whole file in memory)."""
    h = hashlib.sha256()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
            if on_chunk is not None:
                on_chunk(n)
    return h.hexdigest()


def walk_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(relative posix path, absolute path) of every regular file under root, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for fn in filenames:
            p = Path(dirpath, fn)
            out.append((p.relative_to(root).as_posix(), p))
    out.sort()
    return iter(out)


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """fsync every file, then every directory bottom-up, so a rename of `root` publishes data that
    is already on disk (otherwise a crash after the rename can expose empty or truncated files)."""
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        for fn in filenames:
            fsync_path(Path(dirpath, fn))
        fsync_path(Path(dirpath))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """tmp → fsync → os.replace → fsync dir: readers see the old or the new file, never half."""
    tmp = path.parent / f".tmp-{path.name}-{secrets.token_hex(4)}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_path(path.parent)


def dump_json(obj) -> bytes:
    """Deterministic JSON (sorted keys, indent 2, trailing newline): same content, same bytes."""
    return (json.dumps(obj, sort_keys=True, indent=2, default=_json_default) + "\n").encode()


def _json_default(o):
    if hasattr(o, "isoformat"):  # date / datetime in meta
        return o.isoformat()
    if isinstance(o, Path):
        return o.as_posix()
    if hasattr(o, "item"):  # numpy scalar
        return o.item()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable: {o!r}")
