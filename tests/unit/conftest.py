"""Session fixtures for the generator tests: each dataset is generated once, through the CLI.

`tiny1d`, `tiny2d` and `small2d` are seed-42 datasets generated with one worker under a shared
session root. Tests must not modify them: copy a dataset first (see `copy_dataset`).
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from btb import cli
from btb.config.profiles import Profile, get_profile
from btb.dataset import model

SEED = 42


def run_generate(root: Path, profile: str, seed: int = SEED, *extra: str) -> None:
    """`btb generate PROFILE --seed SEED --root ROOT --workers 1 [extra]`; must succeed."""
    argv = ["generate", profile, "--seed", str(seed), "--root", str(root)]
    if "--workers" not in extra:
        argv += ["--workers", "1"]
    rc = cli.main(argv + list(extra))
    assert rc == 0, f"btb {' '.join(argv)} exited with {rc}"


def _numpy(table: pa.Table) -> dict[str, np.ndarray]:
    out = {}
    for name in table.column_names:
        col = table[name]
        if pa.types.is_string(col.type):
            out[name] = np.asarray(col.to_pylist(), dtype=object)
        else:
            out[name] = col.to_numpy()
    return out


@dataclass
class Dataset:
    """A generated dataset plus cached readers (tables, numpy columns, per-point series)."""

    root: Path
    profile_name: str
    seed: int = SEED
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return f"{self.profile_name}_seed{self.seed}"

    @property
    def path(self) -> Path:
        return self.root / self.name

    @property
    def profile(self) -> Profile:
        return get_profile(self.profile_name)

    def _cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def table(self, name: str) -> pa.Table:
        """nodes / points / edges / classes as an Arrow table."""
        return self._cached(("table", name), lambda: pq.read_table(self.path / f"{name}.parquet"))

    def cols(self, name: str) -> dict[str, np.ndarray]:
        """The same table as numpy columns (strings as object arrays)."""
        return self._cached(("cols", name), lambda: _numpy(self.table(name)))

    def partition(self, date: dt.date, building: int = 1) -> Path:
        return self.path / f"timeseries/date={date.isoformat()}/part-b{building:03d}.parquet"

    def day_table(self, date: dt.date, building: int = 1) -> pa.Table:
        return pq.read_table(self.partition(date, building))

    def building(self, index: int = 1) -> model.Building:
        """The simulation's view of the building (fault zones, entity indices...)."""
        return self._cached(("building", index),
                            lambda: model.build(self.seed, self.profile.scale, index))

    def timeseries(self) -> dict[str, np.ndarray]:
        """Every row of every day (building 1) sorted by (point_id, time):
        point_id, time (datetime64[ms]), value, plus `start`: {point_id: (first, stop) index}."""
        def load():
            parts = [self.day_table(d) for d in self.profile.dates()]
            t = pa.concat_tables(parts)
            pid = t["point_id"].to_numpy()
            order = np.argsort(pid, kind="stable")  # days are concatenated in date order
            pid = pid[order]
            ids, first = np.unique(pid, return_index=True)
            stop = np.append(first[1:], len(pid))
            return {"point_id": pid, "time": t["time"].to_numpy()[order],
                    "value": t["value"].to_numpy()[order],
                    "index": dict(zip(ids.tolist(), zip(first.tolist(), stop.tolist())))}
        return self._cached("timeseries", load)

    def series(self, point_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(times, values) of one point over the whole period."""
        ts = self.timeseries()
        a, b = ts["index"][int(point_id)]
        return ts["time"][a:b], ts["value"][a:b]

    def point_of(self, type_key: str, entity: int | None = None, building: int = 1) -> int:
        """The id of the point of type `type_key` (e.g. "vav.zat") on simulated entity `entity`
        (zone, AHU or meter index; None: the first such point)."""
        b = self.building(building)
        for pid, key, ent in zip(b.points["id"], b.points["type"], b.points["entity"]):
            if key == type_key and entity in (None, ent):
                return pid
        raise KeyError((type_key, entity))


def _generated(tmp_path_factory, profile: str) -> Dataset:
    root = tmp_path_factory.getbasetemp() / "datasets"
    run_generate(root, profile)
    return Dataset(root, profile)


@pytest.fixture(scope="session")
def tiny1d(tmp_path_factory) -> Dataset:
    return _generated(tmp_path_factory, "tiny-1d")


@pytest.fixture(scope="session")
def tiny2d(tmp_path_factory) -> Dataset:
    return _generated(tmp_path_factory, "tiny-2d")


@pytest.fixture(scope="session")
def small2d(tmp_path_factory) -> Dataset:
    return _generated(tmp_path_factory, "small-2d")


@pytest.fixture
def copy_dataset(tmp_path):
    """copy_dataset(ds) -> Dataset: a private copy of a session dataset in a fresh root."""
    def copy(ds: Dataset) -> Dataset:
        root = tmp_path / "copy"
        shutil.copytree(ds.path, root / ds.name)
        return Dataset(root, ds.profile_name, ds.seed)
    return copy
