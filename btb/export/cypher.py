"""Property-graph batches and CSV files from the Parquet pivot: Cypher loads (F1/F2, M1/M2) and
`btb export`.

The graph (queries/README.md, "Logical model"):

- one node per nodes.parquet and points.parquet row, with properties `id`, `class` (most specific
  Brick class), `name`, `building_id` (absent for Site) and, where present, `area_m2`, `level`
  (nodes) or `unit`, `interval_s` (points: seconds, 0 = change-of-value). Labels: one per
  ancestor class, the class itself included (classes.parquet), so "is-a C" is the label C, e.g.
  `(:Zone_Air_Temperature_Sensor)` is also `:Air_Temperature_Sensor`, ..., `:Sensor`, `:Point`;
  plus `Node` on every nodes.parquet row (Site, Building, ..., Equipment, Meter) so that any
  node is found by `(:Node {id: $x})` and any point by `(:Point {id: $x})` (`Point` is already
  the root class of every point class).
- one relationship per distinct edges.parquet row `(src)-[:rel]->(dst)`, rel one of
  hasPart feeds hasLocation isPointOf meters hasSubMeter; no properties.
- M1/F1 only: one `ArchiveDay` node per (point, date) having rows, with `point_id`, `date`
  ('YYYY-MM-DD'), `weekday` (ISO, 1 = Monday), `minutes` (list of ints, minutes after midnight,
  ascending), `values` (list of floats, same length), `n`, `min`, `max`, `mean`, and
  `(point)-[:hasTimeseries]->(archive)`.

Labels and relationship types cannot be query parameters, so batches are grouped by label set
(one class per batch) and by (relationship type, source kind, target kind); the engine module
writes them into its statement after checking them with `identifier`. Everything else travels
as bound parameters (`UNWIND $rows AS r`).

ArchiveDays are built per partition file (rows sorted by (point_id, time), checked against the
partition's date, exactly as the RDF export reads them) with NumPy: groups from the point_id
runs, aggregates with `reduceat`; only the final dicts are made per ArchiveDay, never per row.
A batch holds at most `batch_rows` ArchiveDays and about `batch_values` list elements, so one
request stays bounded whatever the sampling rate.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from btb.dataset.classes import RELATIONS
from btb.export import rdf

NODE_LABEL = "Node"
POINT_LABEL = "Point"
ARCHIVE_LABEL = "ArchiveDay"
HAS_TIMESERIES = "hasTimeseries"
NODE_PROPS = ("id", "class", "name", "building_id", "area_m2", "level")
POINT_PROPS = ("id", "class", "name", "building_id", "unit", "interval_s")
ARCHIVE_PROPS = ("point_id", "date", "weekday", "minutes", "values", "n", "min", "max", "mean")
BATCH_ROWS = 5_000  # nodes / relationships / ArchiveDays per request
BATCH_VALUES = 200_000  # minutes + values elements per ArchiveDay request (~3 MB as text)
CSV_LIST_SEP = ";"  # list elements in archive_days.csv (neo4j-admin's array delimiter)

_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def identifier(name: str) -> str:
    """`name` as a backtick-quoted Cypher label/type, refused unless a plain identifier."""
    if not isinstance(name, str) or not _IDENT.fullmatch(name):
        raise ValueError(f"{name!r} cannot be a Cypher label or relationship type")
    return f"`{name}`"


@dataclass(frozen=True)
class NodeBatch:
    labels: tuple[str, ...]  # most specific class first, then its ancestors, then Node if any
    rows: list[dict]


@dataclass(frozen=True)
class EdgeBatch:
    rel: str
    src_label: str  # NODE_LABEL or POINT_LABEL: the indexed label to find the source by id
    dst_label: str
    rows: list[dict]  # {"s": src id, "d": dst id}


# -- structure ----------------------------------------------------------------------------------
def class_ancestors(ds: Path) -> dict[str, tuple[str, ...]]:
    """class -> (class, parent, ..., root) from the dataset's classes.parquet."""
    t = pq.read_table(Path(ds) / "classes.parquet", columns=["class", "parent"])
    parent = dict(zip(t.column("class").to_pylist(), t.column("parent").to_pylist()))
    out = {}
    for cls in parent:
        chain, c = [], cls
        while c is not None:
            if c in chain or c not in parent:
                raise ValueError(f"classes.parquet: broken class tree at {c!r} (from {cls!r})")
            chain.append(c)
            c = parent[c]
        out[cls] = tuple(chain)
    return out


def _rows(t: pa.Table, props: tuple[str, ...]) -> list[dict]:
    """Row dicts of the columns in `props` that exist, NULLs left out (absent properties)."""
    cols = [c for c in props if c in t.column_names]
    return [{k: v for k, v in r.items() if v is not None} for r in t.select(cols).to_pylist()]


def _entity_tables(ds: Path) -> list[tuple[str, pa.Table, tuple[str, ...]]]:
    ds = Path(ds)
    return [(NODE_LABEL, pq.read_table(ds / "nodes.parquet"), NODE_PROPS),
            (POINT_LABEL, pq.read_table(ds / "points.parquet"), POINT_PROPS)]


def labels_of(cls: str, kind: str, ancestors: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if cls not in ancestors:
        raise ValueError(f"class {cls!r} is not in classes.parquet")
    labels = ancestors[cls]
    if kind == POINT_LABEL and POINT_LABEL not in labels:
        raise ValueError(f"point class {cls!r} is not a subclass of Point")
    return labels + ((NODE_LABEL,) if kind == NODE_LABEL else ())


def node_batches(ds: Path, batch_rows: int = BATCH_ROWS) -> Iterator[NodeBatch]:
    """Nodes then points, one label set (class) at a time, `batch_rows` rows per batch."""
    ancestors = class_ancestors(ds)
    for kind, t, props in _entity_tables(ds):
        rdf.require(t, f"{kind.lower()}s", ("id", "class"))
        for cls in sorted(set(t.column("class").to_pylist())):
            labels = labels_of(cls, kind, ancestors)
            for label in labels:
                identifier(label)
            rows = _rows(t.filter(pc.equal(t.column("class"), cls)), props)
            for i in range(0, len(rows), batch_rows):
                yield NodeBatch(labels, rows[i:i + batch_rows])


def edge_table(ds: Path) -> pa.Table:
    """Distinct (src, rel, dst) with the kind (Node/Point) of each end, sorted."""
    ds = Path(ds)
    e = rdf.distinct_edges(ds)
    point_ids = pq.read_table(ds / "points.parquet", columns=["id"]).column("id")
    node_ids = pq.read_table(ds / "nodes.parquet", columns=["id"]).column("id")

    def kind(col: str) -> pa.Array:
        ids = e.column(col)
        is_point = pc.is_in(ids, value_set=point_ids)
        known = pc.or_(is_point, pc.is_in(ids, value_set=node_ids))
        if not pc.all(known).as_py():
            bad = pc.filter(ids, pc.invert(known)).to_pylist()[:5]
            raise ValueError(f"edges.parquet: {col} ids not in nodes or points, e.g. {bad}")
        return pc.if_else(is_point, POINT_LABEL, NODE_LABEL)

    e = e.append_column("src_label", kind("src")).append_column("dst_label", kind("dst"))
    return e.sort_by([("rel", "ascending"), ("src_label", "ascending"),
                      ("dst_label", "ascending"), ("src", "ascending"), ("dst", "ascending")])


def edge_batches(ds: Path, batch_rows: int = BATCH_ROWS) -> Iterator[EdgeBatch]:
    e = edge_table(ds)
    for (rel, sl, dl), g in _groups(e, ["rel", "src_label", "dst_label"]):
        identifier(rel)
        rows = [{"s": s, "d": d} for s, d in zip(g.column("src").to_pylist(),
                                                 g.column("dst").to_pylist())]
        for i in range(0, len(rows), batch_rows):
            yield EdgeBatch(rel, sl, dl, rows[i:i + batch_rows])


def _groups(t: pa.Table, keys: list[str]) -> Iterator[tuple[tuple, pa.Table]]:
    combos = t.group_by(keys, use_threads=False).aggregate([]).sort_by(
        [(k, "ascending") for k in keys])
    for combo in combos.to_pylist():
        mask = None
        for k in keys:
            m = pc.equal(t.column(k), combo[k])
            mask = m if mask is None else pc.and_(mask, m)
        yield tuple(combo[k] for k in keys), t.filter(mask)


# -- ArchiveDay ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ArchiveDays:
    """The ArchiveDays of one partition file, columnar: group g spans rows offsets[g]:[g+1]."""

    day: dt.date
    point_id: np.ndarray  # per group
    offsets: np.ndarray  # groups + 1
    minutes: np.ndarray  # per row, int64
    values: np.ndarray  # per row, float64
    min: np.ndarray
    max: np.ndarray
    mean: np.ndarray

    @property
    def n(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.point_id)


def archive_days(path: Path, day: dt.date) -> ArchiveDays:
    pid, minutes, val = rdf.read_partition(path, day)
    starts = rdf.group_starts(pid)
    offsets = np.append(starts, len(pid)).astype(np.int64)
    if len(pid):
        n = np.diff(offsets)
        vmin, vmax = np.minimum.reduceat(val, starts), np.maximum.reduceat(val, starts)
        vmean = np.add.reduceat(val, starts) / n
    else:
        vmin = vmax = vmean = np.zeros(0)
    return ArchiveDays(day, pid[starts], offsets, minutes.astype(np.int64), val, vmin, vmax,
                       vmean)


def archive_rows(a: ArchiveDays, start: int = 0, end: int | None = None) -> list[dict]:
    """One dict per ArchiveDay of groups [start, end) (ARCHIVE_PROPS)."""
    end = len(a) if end is None else end
    lo_row, hi_row = int(a.offsets[start]), int(a.offsets[end])
    mins, vals = a.minutes[lo_row:hi_row].tolist(), a.values[lo_row:hi_row].tolist()
    off = (a.offsets[start:end + 1] - lo_row).tolist()
    date, weekday = a.day.isoformat(), a.day.isoweekday()
    return [{"point_id": p, "date": date, "weekday": weekday, "minutes": mins[s:e],
             "values": vals[s:e], "n": e - s, "min": lo, "max": hi, "mean": mean}
            for p, s, e, lo, hi, mean in zip(
                a.point_id[start:end].tolist(), off[:-1], off[1:], a.min[start:end].tolist(),
                a.max[start:end].tolist(), a.mean[start:end].tolist())]


def archive_slices(ds: Path, files: list[tuple[dt.date, Path]] | None = None,
                   batch_rows: int = BATCH_ROWS, batch_values: int = BATCH_VALUES
                   ) -> Iterator[tuple[ArchiveDays, int, int]]:
    """(file's ArchiveDays, first group, end group) of every request, each holding at most
    `batch_rows` ArchiveDays and about `batch_values` list elements (2 per reading; a single
    ArchiveDay larger than that is one request of its own)."""
    for day, path in rdf.partition_files(ds) if files is None else files:
        a = archive_days(path, day)
        cum = np.cumsum(2 * a.n)
        start = 0
        while start < len(a):
            base = cum[start - 1] if start else 0
            end = int(np.searchsorted(cum, base + batch_values, side="right"))
            end = min(max(end, start + 1), start + batch_rows, len(a))
            yield a, start, end
            start = end


def archive_batches(ds: Path, files: list[tuple[dt.date, Path]] | None = None,
                    batch_rows: int = BATCH_ROWS,
                    batch_values: int = BATCH_VALUES) -> Iterator[list[dict]]:
    """ArchiveDay row batches of every partition file (or of `files`), bounded in size."""
    for a, start, end in archive_slices(ds, files, batch_rows, batch_values):
        yield archive_rows(a, start, end)


# -- expected counts ----------------------------------------------------------------------------
def expected_counts(ds: Path, archive: bool) -> dict[str, int]:
    """What a complete load holds: nodes (nodes + points [+ ArchiveDays]), relationships
    (distinct edges [+ hasTimeseries]) and, with `archive`, archive_days = distinct
    (point, date) pairs having rows (a point split across two files of one date would be two
    ArchiveDays in a load: counted once here, so such a load fails verification)."""
    ds = Path(ds)
    nodes = sum(pq.read_metadata(ds / f"{n}.parquet").num_rows for n in ("nodes", "points"))
    rels = rdf.distinct_edges(ds).num_rows
    out = {"nodes": nodes, "relationships": rels}
    if archive:
        days = 0
        by_date: dict[dt.date, list[Path]] = {}
        for day, path in rdf.partition_files(ds):
            by_date.setdefault(day, []).append(path)
        for paths in by_date.values():
            ids = [pq.read_table(p, columns=["point_id"]).column("point_id").to_numpy()
                   for p in paths]
            days += len(np.unique(np.concatenate(ids))) if ids else 0
        out = {"nodes": nodes + days, "relationships": rels + days, "archive_days": days}
    return out


# -- CSV files for `btb export` -----------------------------------------------------------------
def _write(table: pa.Table, target: Path) -> Path:
    tmp = target.with_name(f".{target.name}.tmp")
    pacsv.write_csv(table, tmp)
    os.replace(tmp, target)
    return target


def write_nodes_csv(ds: Path, target: Path) -> Path:
    """nodes.csv: id, labels (';'-separated), then every property column (empty = absent)."""
    ancestors = class_ancestors(ds)
    parts = []
    for kind, t, _ in _entity_tables(ds):
        labels = pa.array([CSV_LIST_SEP.join(labels_of(c, kind, ancestors))
                           for c in t.column("class").to_pylist()], pa.string())
        cols = {"id": t.column("id"), "labels": labels}
        for c in dict.fromkeys(NODE_PROPS + POINT_PROPS):
            if c != "id":
                cols[c] = t.column(c) if c in t.column_names else pa.nulls(t.num_rows)
        parts.append(pa.table(cols))
    types = {f.name: f.type for p in parts for f in p.schema if not pa.types.is_null(f.type)}
    parts = [p.cast(pa.schema([(n, types.get(n, pa.string())) for n in p.column_names]))
             for p in parts]
    return _write(pa.concat_tables(parts), target)


def write_relationship_csvs(ds: Path, out: Path) -> list[Path]:
    """relationships_<rel>.csv (src,dst), one per relationship type present."""
    e = edge_table(ds)
    written = []
    for rel in RELATIONS:
        g = e.filter(pc.equal(e.column("rel"), rel))
        if g.num_rows:
            written.append(_write(g.select(["src", "dst"]), out / f"relationships_{rel}.csv"))
    return written


def _joined(arr: np.ndarray, offsets: np.ndarray) -> pa.Array:
    strings = pc.cast(pa.array(arr), pa.string())
    lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int64()).cast(pa.int32()), strings)
    return pc.binary_join(lists, CSV_LIST_SEP)


def write_archive_csv(ds: Path, target: Path) -> tuple[Path, int]:
    """archive_days.csv (ARCHIVE_PROPS; minutes/values ';'-separated, floats in shortest
    round-trip form), one partition file at a time. `(:Point {id: point_id})-[:hasTimeseries]->`
    each row is implied. Returns (path, ArchiveDays written)."""
    tmp = target.with_name(f".{target.name}.tmp")
    writer, n = None, 0
    try:
        for day, path in rdf.partition_files(ds):
            a = archive_days(path, day)
            if not len(a):
                continue
            t = pa.table({
                "point_id": pa.array(a.point_id, pa.int64()),
                "date": pa.array([day.isoformat()] * len(a), pa.string()),
                "weekday": pa.array(np.full(len(a), day.isoweekday()), pa.int64()),
                "minutes": _joined(a.minutes, a.offsets),
                "values": _joined(a.values, a.offsets),
                "n": pa.array(a.n, pa.int64()), "min": pa.array(a.min, pa.float64()),
                "max": pa.array(a.max, pa.float64()), "mean": pa.array(a.mean, pa.float64())})
            if writer is None:
                writer = pacsv.CSVWriter(tmp, t.schema)
            writer.write_table(t)
            n += len(a)
        if writer is None:  # no partition: header only
            header = ",".join(f'"{c}"' for c in ARCHIVE_PROPS)
            tmp.write_text(header + "\n")
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, target)
    return target, n


def write_csv(ds: Path, out: Path, archive: bool) -> list[Path]:
    """`btb export` for a Cypher scenario: nodes.csv, relationships_<rel>.csv and (M1/F1)
    archive_days.csv in `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_nodes_csv(ds, out / "nodes.csv")]
    written += write_relationship_csvs(ds, out)
    if archive:
        written.append(write_archive_csv(ds, out / "archive_days.csv")[0])
    return written
