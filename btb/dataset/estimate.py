"""Size estimates of a profile before generating it: points, rows, Parquet bytes, engine loads.

Structure counts are exact (the structure is built, which is cheap). Rows per point-day come from
simulating the first building's first day, so change-of-value rates are measured, not guessed;
seasonal variation of COV rates makes them estimates. Per-scenario figures are what each engine
will be asked to load (DESIGN.md §5): relational rows, property-graph nodes + relationships (with
one ArchiveDay node per point and day for M1/F1), RDF triples (structure, plus ArchiveDay chunks
and daily aggregates for O1).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from btb.config.profiles import DEFAULT_SEED, SCALES, START_DATE, Profile
from btb.dataset import model
from btb.dataset.classes import POINT_TYPES
from btb.dataset.simulation import emit, physics

# Measured on generated data (bench/generate.py prints the current figure): zstd Parquet with
# byte-stream-split values costs ~1.6 bytes per row; 2.0 keeps the disk check on the safe side.
PARQUET_BYTES_PER_ROW = 2.0
TRIPLES_PER_NODE = 3  # rdf:type, rdfs:label, building membership
TRIPLES_PER_CHUNK = 5  # ArchiveDay: type, point, date, values literal, count
TRIPLES_PER_AGGREGATE = 4  # daily min/mean/max/count


@dataclass(frozen=True)
class Estimate:
    profile: str
    buildings: int
    nodes: int
    points: int
    edges: int
    rows: int
    parquet_bytes: int

    def loads(self, days: int) -> dict[str, dict[str, int]]:
        structure_triples = (self.nodes + self.points) * TRIPLES_PER_NODE + self.edges
        chunks = self.points * days
        return {
            "P1 P2": {"rows": self.rows + self.nodes + self.points + self.edges},
            "M1 F1": {"nodes": self.nodes + self.points + chunks, "rels": self.edges + chunks},
            "M2 F2": {"nodes": self.nodes + self.points, "rels": self.edges,
                      "ts_rows": self.rows},
            "O1": {"triples": structure_triples + chunks * (TRIPLES_PER_CHUNK
                                                            + TRIPLES_PER_AGGREGATE)},
            "O2": {"triples": structure_triples, "ts_rows": self.rows},
        }


@lru_cache(maxsize=8)
def _scale_counts(scale_name: str, seed: int) -> tuple[int, int, int, Counter, dict]:
    scale = SCALES[scale_name]
    nodes = points = edges = 0
    types: Counter = Counter()
    for i in range(1, scale.buildings + 1):
        b = model.build(seed, scale, i)
        nodes += len(b.nodes["id"])
        points += len(b.points["id"])
        edges += len(b.edges["src"])
        types.update(b.points["type"])
    nodes += model.site_count(scale)
    first = model.build(seed, scale, 1)
    signals, _ = physics.simulate_day(seed, first, START_DATE, physics.initial_state(seed, first))
    table = emit.day_table(emit.plan(first), signals, seed, START_DATE)
    per_point = Counter(dict(zip(*_rows_by_type(first, table))))
    n_first = Counter(first.points["type"])
    rate = {k: per_point[k] / n_first[k] for k in n_first}
    for k in types:  # a type absent from building 1: periodic rows are exact, COV at least 1/day
        interval = POINT_TYPES[k].interval_s
        rate.setdefault(k, 86400 / interval if interval else 1.0)
    return nodes, points, edges, types, rate


def _rows_by_type(b: model.Building, table) -> tuple[list, list]:
    ids = np.asarray(b.points["id"])
    keys = np.asarray(b.points["type"])
    pid = table["point_id"].to_numpy()
    idx = np.searchsorted(ids, pid)
    uniq, counts = np.unique(keys[idx], return_counts=True)
    return list(uniq), list(counts)


def estimate(profile: Profile, seed: int = DEFAULT_SEED) -> Estimate:
    nodes, points, edges, types, rate = _scale_counts(profile.scale.name, seed)
    rows = int(sum(n * rate.get(k, 0.0) for k, n in types.items()) * profile.days)
    return Estimate(profile.name, profile.scale.buildings, nodes, points, edges, rows,
                    int(rows * PARQUET_BYTES_PER_ROW))
