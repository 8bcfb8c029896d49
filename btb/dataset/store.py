"""The dataset store: partitioned Parquet datasets under one root, written atomically.

    <root>/catalog.json        every dataset (rebuilt from the fingerprints when missing or stale)
    <root>/.lock               fcntl lock for the whole root; holds the holder's pid
    <root>/<name>/             nodes/points/edges/classes.parquet, params.json,
                               timeseries/date=YYYY-MM-DD/part-bNNN.parquet, fingerprint.json

A writer fills a staging dir `<root>/.tmp-<name>-*` (same filesystem, so the final rename is
atomic); on success the store merges it with the existing dataset according to the mode
(replace / append / upsert), fsyncs everything, writes fingerprint.json and swaps it into place:
`<name>` → `.old-<name>-*`, staging → `<name>`, then deletes the old one. A crash at any point
leaves either the old or the new dataset, and the next lock holder cleans up (`_recover`).
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from btb.errors import BtbError, unknown_name

from . import catalog
from . import fingerprint as fpmod
from .fsutil import Progress, dump_json, fsync_path, fsync_tree, human_bytes
from .merge import combine

MODES = ("replace", "append", "upsert")
DISK_MARGIN = 1.1  # need_bytes × this must be free: Parquet footers, fingerprint, filesystem slack
DEFAULT_LOCK_TIMEOUT_S = 120.0
LOCK_FILE = ".lock"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SEED_RE = re.compile(r"^(?P<profile>.+)_seed(?P<seed>\d+)$")


class Store:
    """Datasets under `root`; every mutation holds the root's lock."""

    def __init__(self, root: Path | str):
        self.root = Path(root).expanduser().absolute()
        _ensure_writable_dir(self.root)
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._lock_fd: int | None = None
        try:  # start-up recovery, unless another process holds the lock (it recovers then)
            with self.lock(timeout_s=0):
                pass
        except BtbError:
            pass

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # ------------------------------------------------------------------ names and paths
    def path(self, name: str) -> Path:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise BtbError(
                f"bad dataset name {name!r}: use letters, digits, '.', '_' and '-', starting with "
                "a letter or digit (e.g. small-1w_seed42)"
            )
        return self.root / name

    def exists(self, name: str) -> bool:
        return self.path(name).is_dir()

    def names(self) -> list[str]:
        """Every dataset directory, complete or not (verify tells which are usable)."""
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _NAME_RE.match(p.name))

    def _existing(self, name: str) -> Path:
        ds = self.path(name)
        if ds.is_dir():
            return ds
        names = self.names()
        if not names:
            raise BtbError(
                f"unknown dataset {name!r}: the store {self.root} has no datasets yet; "
                "generate one (btb generate <profile>) or pull one (btb datasets pull URL)"
            )
        raise BtbError(f"{unknown_name('dataset', name, names)} (store: {self.root})")

    # ------------------------------------------------------------------ lock
    @contextmanager
    def lock(self, timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> Iterator[None]:
        """Exclusive lock on the whole root (re-entrant within this Store object)."""
        if not self._thread_lock.acquire(timeout=max(timeout_s, 0)):
            raise BtbError(
                f"dataset store {self.root} is locked by another thread of this process "
                f"(pid {os.getpid()}); waited {timeout_s:g} s"
            )
        try:
            if self._depth == 0:
                self._lock_fd = self._acquire_flock(timeout_s)
                try:
                    self._recover()
                except BaseException:
                    self._release_flock()
                    raise
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release_flock()
        finally:
            self._thread_lock.release()

    def _acquire_flock(self, timeout_s: float) -> int:
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout_s
        delay = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
                    os.close(fd)
                    raise BtbError(
                        f"dataset store {self.root} is locked by pid {holder} (another btb "
                        f"process writing a dataset); waited {timeout_s:g} s. Wait for it to "
                        "finish, or stop that process: the lock is released when it exits"
                    ) from None
                time.sleep(min(delay, left))
                delay = min(delay * 2, 0.5)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return fd

    def _release_flock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _recover(self) -> None:
        """Undo what a crashed writer left (we hold the lock, so nobody else is writing)."""
        for entry in sorted(self.root.iterdir()):
            n = entry.name
            if n.startswith((".tmp-", ".del-", ".probe-")):
                _remove(entry)
            elif n.startswith(".old-"):
                orig = n[len(".old-") :].rsplit("-", 1)[0]
                if _NAME_RE.match(orig) and not (self.root / orig).exists():
                    os.rename(entry, self.root / orig)  # crash between the two renames of a swap
                    fsync_path(self.root)
                else:
                    _remove(entry)

    # ------------------------------------------------------------------ write
    @contextmanager
    def write(
        self,
        name: str,
        meta: dict,
        mode: str = "replace",
        need_bytes: int = 0,
        progress: Progress | None = None,
        lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    ) -> Iterator[Path]:
        """Yield a staging dir to fill with the dataset layout; install it on normal exit.

        replace: staging becomes the dataset. append: existing files are kept (hard links) and the
        staged timeseries files are added; a staged file that exists already is an error. upsert:
        like append, but such a file is merged (dedupe on point_id, time; staged rows win).
        On an exception the staging dir is removed and the existing dataset is untouched."""
        if mode not in MODES:
            raise BtbError(f"unknown write mode {mode!r}; valid modes: {', '.join(MODES)}")
        self.path(name)
        with self.lock(lock_timeout_s), self._staging(name, need_bytes) as staging:
            yield staging
            fp = self._merge_and_fingerprint(name, staging, meta, mode, progress)
            self._publish(staging, name, dump_json(fp), fp)

    @contextmanager
    def _staging(self, name: str, need_bytes: int = 0) -> Iterator[Path]:
        """A fresh staging dir in the root (caller holds the lock); removed unless published."""
        free = shutil.disk_usage(self.root).free
        need = int(need_bytes * DISK_MARGIN)
        if need_bytes > 0 and free < need:
            raise BtbError(
                f"not enough disk space for dataset {name!r} in {self.root}: need "
                f"{human_bytes(need)} ({need_bytes} bytes + {DISK_MARGIN - 1:.0%} margin), "
                f"free {human_bytes(free)}; free some space (btb datasets delete NAME) or use "
                "another dataset root"
            )
        staging = Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=self.root))
        try:
            yield staging
        finally:
            _remove(staging)  # gone already when published

    def _merge_and_fingerprint(
        self, name: str, staging: Path, meta: dict, mode: str, progress: Progress | None
    ) -> dict:
        existing = self.root / name
        if mode == "replace" or not existing.is_dir():
            return fpmod.compute(staging, meta, progress)
        old_fp = self._load_fp(name, f"cannot {mode}: ")
        problems = fpmod.check(existing, old_fp, hashes=False)
        if problems:
            raise self._corrupt(name, problems, f"cannot {mode}: ")
        used = combine(existing, staging, mode, name)
        read = {rel for rel, how in used.items() if how != "linked"}
        problems = fpmod.check(existing, old_fp, only=read)
        fp = fpmod.compute(staging, meta, progress)
        problems += [
            f"changed file: {rel} (sha256 differs from {fpmod.FINGERPRINT})"
            for rel, how in used.items()
            if how == "linked" and fp["files"][rel]["sha256"] != old_fp["files"][rel]["sha256"]
        ]
        if problems:
            raise self._corrupt(name, sorted(problems), f"cannot {mode}: ")
        return fp

    def _publish(self, staging: Path, name: str, fp_bytes: bytes, fp: dict) -> None:
        """fingerprint.json, fsync, atomic swap into `<name>`, catalog entry. Lock held."""
        (staging / fpmod.FINGERPRINT).write_bytes(fp_bytes)
        os.chmod(staging, 0o755)  # mkdtemp made it 0700
        fsync_tree(staging)
        target = self.root / name
        old = None
        if target.exists():
            old = self.root / f".old-{name}-{secrets.token_hex(4)}"
            os.rename(target, old)
        os.rename(staging, target)
        fsync_path(self.root)
        if old is not None:
            _remove(old)
        cat = catalog.read(self.root)
        if cat is None:
            cat = catalog.rebuild(self.root, self.names())
        cat[name] = catalog.entry(fp)
        catalog.write(self.root, cat)

    # ------------------------------------------------------------------ read, verify, list
    def fingerprint(self, name: str) -> dict:
        """The dataset's fingerprint.json, not verified against the files."""
        self._existing(name)
        return self._load_fp(name)

    def verify(self, name: str, progress: Progress | None = None) -> dict:
        """Recompute every file's sha256; raise BtbError listing each problem, else return the
        fingerprint."""
        ds = self._existing(name)
        fp = self._load_fp(name)
        problems = fpmod.check(ds, fp, progress)
        if problems:
            raise self._corrupt(name, problems)
        return fp

    def list(self) -> list[dict]:
        """Catalog entries ({"name", "profile", "seed", "parent", "rows", "bytes", ...}) by name."""
        names = self.names()
        cat = catalog.read(self.root)
        complete = {n for n in names if (self.root / n / fpmod.FINGERPRINT).is_file()}
        if cat is None or set(cat) - set(names) or complete - set(cat):
            cat = catalog.rebuild(self.root, names, cat)
            try:  # persist when nobody is writing; a long write must not block a listing
                with self.lock(timeout_s=0):
                    catalog.write(self.root, cat)
            except BtbError:
                pass
        return [{"name": n, **cat[n]} for n in sorted(cat)]

    def delete(self, name: str) -> None:
        with self.lock():
            ds = self._existing(name)
            trash = self.root / f".del-{name}-{secrets.token_hex(4)}"
            os.rename(ds, trash)  # one atomic step: the dataset is gone or still whole
            fsync_path(self.root)
            cat = catalog.read(self.root)
            if cat is not None:
                cat.pop(name, None)
            else:
                cat = catalog.rebuild(self.root, self.names())
            catalog.write(self.root, cat)
            _remove(trash)

    # ------------------------------------------------------------------ errors
    def _load_fp(self, name: str, prefix: str = "") -> dict:
        try:
            return fpmod.load(self.root / name)
        except fpmod.FingerprintMissing as e:
            raise BtbError(
                f"{prefix}dataset {name!r} at {self.root / name} is incomplete or corrupt: {e} "
                f"(a write was interrupted, or it was not written by btb); {self._remedy(name)}"
            ) from None

    def _corrupt(self, name: str, problems: list[str], prefix: str = "") -> BtbError:
        lines = "\n".join(f"  - {p}" for p in problems)
        return BtbError(
            f"{prefix}dataset {name!r} at {self.root / name} failed verification "
            f"({len(problems)} problem{'s' if len(problems) > 1 else ''}):\n{lines}\n"
            f"It is corrupt and will not be used; {self._remedy(name)}"
        )

    @staticmethod
    def _remedy(name: str) -> str:
        m = _SEED_RE.match(name)
        regen = (
            f"btb generate {m['profile']} --seed {m['seed']}" if m else "btb generate <profile>"
        )
        return f"regenerate it ({regen}), pull it again, or delete it (btb datasets delete {name})"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _ensure_writable_dir(root: Path) -> None:
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise BtbError(f"dataset store root {root} exists but is not a directory; "
                       "choose a directory path for the datasets") from None
    except NotADirectoryError:
        parent = next((p for p in root.parents if p.exists()), root)
        raise BtbError(f"cannot create dataset store root {root}: {parent} is a file, not a "
                       "directory; choose a directory path for the datasets") from None
    except OSError as e:
        raise BtbError(f"cannot create dataset store root {root}: {e.strerror}; choose a "
                       "writable directory for the datasets") from None
    try:  # os.access lies for root and on read-only mounts: really create a file
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=root)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise BtbError(f"dataset store root {root} is not writable ({e.strerror}); choose a "
                       "writable directory for the datasets or fix its permissions") from None
