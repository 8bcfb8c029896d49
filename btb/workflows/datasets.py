"""Dataset workflows: generate, list, verify, extract, push, pull."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from btb.config.profiles import Profile, check_seed, get_profile
from btb.dataset import generator, params
from btb.dataset.estimate import estimate
from btb.dataset.extract import extract
from btb.dataset.remote import pull, push
from btb.dataset.store import Store
from btb.errors import BtbError
from btb.progress import Bar


def dataset_name(profile: Profile, seed: int) -> str:
    return f"{profile.name}_seed{seed}"


def open_verified(profile: Profile, seed: int, root: Path) -> tuple[str, Path, dict]:
    """(name, path, fingerprint) of the profile's dataset after a full verify: a missing
    dataset says how to generate it, a corrupt or partial one is refused (BtbError)."""
    store = Store(root)
    name = dataset_name(profile, seed)
    if not store.exists(name):
        raise BtbError(f"dataset {name} not found in {store.root}; generate it first: "
                       f"btb generate {profile.name} --seed {seed} --root {root}")
    fp = store.verify(name)
    return name, store.path(name), fp


@dataclass
class Generated:
    name: str
    path: Path
    fingerprint: dict
    seconds: float
    skipped: bool = False


def generate(profile_name: str, seed: int, root: Path, workers: int | None = None,
             force: bool = False, progress: bool | None = None) -> Generated:
    profile = get_profile(profile_name)
    check_seed(seed)
    if workers is not None and workers < 1:
        raise BtbError(f"bad --workers {workers}: must be >= 1")
    store = Store(root)
    name = dataset_name(profile, seed)
    if store.exists(name) and not force:
        fp = store.verify(name)
        return Generated(name, store.path(name), fp, 0.0, skipped=True)
    est = estimate(profile, seed)
    meta = {"generator_version": generator.GENERATOR_VERSION, "profile": profile.name,
            "seed": seed, "buildings": profile.scale.buildings,
            "dates": [d.isoformat() for d in profile.dates()]}
    t0 = time.perf_counter()
    with store.write(name, meta, mode="replace", need_bytes=est.parquet_bytes) as staging, \
            Bar(f"generate {name}", total=est.rows, enabled=progress) as bar:
        generator.generate(seed, profile, staging, workers or generator.default_workers(),
                           progress=bar.add)
        params.write_params(staging, seed)
    return Generated(name, store.path(name), store.fingerprint(name), time.perf_counter() - t0)


def verify(root: Path, name: str) -> dict:
    store = Store(root)
    with Bar(f"verify {name}", unit="B") as bar:
        return store.verify(name, progress=bar.at)


def cut(root: Path, name: str, to_profile: str) -> str:
    store = Store(root)
    fp = store.fingerprint(name)
    return extract(store, name, get_profile(to_profile), int(fp["seed"]))


def push_dataset(root: Path, name: str, url: str) -> str:
    with Bar(f"push {name}", unit="B") as bar:
        return push(Store(root), name, url, progress=bar.at)


def pull_dataset(root: Path, url: str) -> str:
    with Bar(f"pull {url}", unit="B") as bar:
        return pull(Store(root), url, progress=bar.at)
