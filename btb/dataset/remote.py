"""Push/pull datasets to any fsspec URL (`file://`, `memory://`, `s3://`, `hf://datasets/...`).

The remote copy is `<url>/<name>/` with the same layout as on disk. fingerprint.json is uploaded
last and downloaded first: a remote without it is an unfinished push and is refused; every pulled
file is checked against it before the dataset is installed (atomically, like a `replace` write).
"""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path, PurePosixPath

import fsspec

from btb.errors import BtbError

from . import fingerprint as fpmod
from .fsutil import CHUNK, Progress
from .store import Store


def _open_fs(url: str):
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as e:
        raise BtbError(f"cannot open {url}: {e} (install the fsspec backend it names)") from None
    except (ValueError, OSError) as e:
        raise BtbError(f"cannot open {url}: {e}") from None


class _Counter:
    """Byte progress across many files."""

    def __init__(self, total: int, progress: Progress | None):
        self.total, self.done, self.progress = total, 0, progress

    def add(self, n: int) -> None:
        self.done += n
        if self.progress:
            self.progress(self.done, self.total)


def push(store: Store, name: str, url: str, progress: Progress | None = None) -> str:
    """Verify `name`, upload it to `<url>/<name>/`, fingerprint.json last. Returns the dataset URL.

    Re-pushing over an older copy first deletes the remote fingerprint.json, so an interrupted
    push is never mistaken for a complete one. Remote files not in the fingerprint are left alone
    (pull ignores them)."""
    fs, base = _open_fs(url)
    with store.lock():  # a concurrent replace must not swap files under the upload
        return _push_locked(store, name, url, fs, base, progress)


def _push_locked(store: Store, name: str, url: str, fs, base: str, progress) -> str:
    fp = store.verify(name, progress)
    ds = store.path(name)
    dest = f"{base.rstrip('/')}/{name}"
    dest_url = f"{url.rstrip('/')}/{name}"
    files = sorted(fp["files"])
    count = _Counter(sum(fp["files"][r]["bytes"] for r in files), progress)
    rel = fpmod.FINGERPRINT
    try:
        if fs.exists(f"{dest}/{rel}"):
            fs.rm_file(f"{dest}/{rel}")
        made: set[str] = set()
        for rel in [*files, fpmod.FINGERPRINT]:
            parent = posixpath.dirname(f"{dest}/{rel}")
            if parent not in made:
                fs.makedirs(parent, exist_ok=True)
                made.add(parent)
            fs.put_file(str(ds / rel), f"{dest}/{rel}")
            count.add(fp["files"].get(rel, {}).get("bytes", 0))
    except OSError as e:
        raise BtbError(
            f"push of {name!r} to {dest_url} failed at {rel}: {e}; the remote copy has no "
            f"{fpmod.FINGERPRINT} so it counts as incomplete; run the push again"
        ) from None
    return dest_url


def pull(
    store: Store, url: str, name: str | None = None, progress: Progress | None = None
) -> str:
    """Download the dataset at `url` (`.../<name>`) into the store; returns its local name.

    Every file is checked against the remote fingerprint before anything is installed; on any
    mismatch or missing file nothing changes locally."""
    fs, base = _open_fs(url)
    base = base.rstrip("/")
    url = url.rstrip("/")
    name = name or posixpath.basename(base)
    store.path(name)  # validates the name
    fp_url = f"{url}/{fpmod.FINGERPRINT}"
    try:
        raw = fs.cat_file(f"{base}/{fpmod.FINGERPRINT}")
    except FileNotFoundError:
        raise BtbError(
            f"no {fpmod.FINGERPRINT} at {fp_url}: {url} is not a btb dataset or its push did not "
            "finish; push it again and retry (the URL must point at the dataset directory, "
            ".../<profile>_seed<seed>)"
        ) from None
    except OSError as e:
        raise BtbError(f"cannot read {fp_url}: {e}") from None
    try:
        fp = fpmod.parse(raw)
    except fpmod.FingerprintMissing as e:
        raise BtbError(f"{fp_url}: {e}; the remote dataset is corrupt, push it again") from None
    files: dict[str, dict] = fp["files"]
    for rel in files:
        _check_rel(rel, fp_url)
    if fp.get("dataset_sha256") != fpmod.dataset_sha256(files):
        raise BtbError(f"{fp_url}: dataset_sha256 does not match its file list; the remote "
                       "fingerprint was edited or corrupted, push the dataset again")
    total = sum(int(e.get("bytes", 0)) for e in files.values())
    count = _Counter(total, progress)
    with store.lock(), store._staging(name, need_bytes=total) as staging:
        for rel in sorted(files):
            sha, size = _download(fs, f"{base}/{rel}", staging / rel, count, f"{url}/{rel}")
            want = files[rel]
            if sha != want["sha256"] or size != want.get("bytes", size):
                raise BtbError(
                    f"pulled file {url}/{rel} does not match {fp_url}: sha256 {sha[:12]}… "
                    f"({size} bytes), expected {want['sha256'][:12]}… ({want.get('bytes')} "
                    "bytes); the remote copy is corrupt or changed after the push; nothing was "
                    "installed"
                )
        store._publish(staging, name, raw, fp)
    return name


def _check_rel(rel: str, fp_url: str) -> None:
    p = PurePosixPath(rel)
    if (not rel or p.is_absolute() or ".." in p.parts or "\\" in rel
            or rel == fpmod.FINGERPRINT or str(p) != rel):
        raise BtbError(f"{fp_url}: refusing file path {rel!r} (must be a plain relative path "
                       "inside the dataset)")


def _download(fs, rpath: str, local: Path, count: _Counter, shown: str) -> tuple[str, int]:
    """Stream rpath into local, hashing on the way; (sha256, bytes)."""
    local.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    size = 0
    try:
        with fs.open(rpath, "rb") as src, open(local, "wb") as dst:
            while chunk := src.read(CHUNK):
                h.update(chunk)
                dst.write(chunk)
                size += len(chunk)
                count.add(len(chunk))
    except FileNotFoundError:
        raise BtbError(
            f"{shown} is listed in the remote {fpmod.FINGERPRINT} but missing; the remote "
            "dataset is incomplete, push it again; nothing was installed"
        ) from None
    except OSError as e:
        raise BtbError(f"download of {shown} failed: {e}; nothing was installed") from None
    return h.hexdigest(), size
