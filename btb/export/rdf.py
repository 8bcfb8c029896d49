"""N-Triples (Brick) from the Parquet pivot, streamed as bytes chunks: O1/O2 loads, `btb export`.

IRI scheme (queries rely on it):

- node or point `id`      -> `<urn:btb:<id>>` (ids are unique across nodes and points)
- ArchiveDay of a point   -> `<urn:btb:archive:<point_id>:<YYYY-MM-DD>>`
- Brick classes/relations -> `https://brickschema.org/schema/Brick#` (`brick:`)
- btb's own vocabulary    -> `urn:btb:vocab#` (`btb:`), see BTB_NS

Triples (prefixes rdf rdfs xsd brick btb):

- class tree: `brick:C rdfs:subClassOf brick:Parent` for every classes.parquet row with a parent
- every node and point: `rdf:type brick:<class>`, `btb:id` xsd:integer, `rdfs:label` name
  (plain string), `btb:buildingId` xsd:integer (not for Site); nodes also `btb:area` (area_m2,
  xsd:double) and `btb:level` (xsd:integer) where present; points `btb:unit` (plain string) and
  `btb:interval` (interval_s, xsd:integer seconds, 0 = change-of-value) where present
- relations: `<src> brick:<rel> <dst>` for every edges.parquet row (hasPart feeds hasLocation
  isPointOf meters hasSubMeter)
- O1 only, one `btb:ArchiveDay` per (point, date) having rows (queries/README.md):
  `rdf:type btb:ArchiveDay`, `btb:point <urn:btb:<point_id>>` (the point resource, not its id),
  `btb:date` xsd:date, `btb:weekday` xsd:integer (ISO, 1 = Monday), `btb:minutes` and
  `btb:values` (plain strings of space-separated numbers, same length, minutes after midnight
  ascending), `btb:n` xsd:integer, `btb:min btb:max btb:mean` xsd:double, and
  `<point> btb:hasTimeseries <archive>`: 11 triples per ArchiveDay.

Literal formatting is exact: integers in canonical decimal form; doubles in the shortest form
that round-trips (Arrow's float->string cast, proven equal under parsing to the float in the
tests), NaN/INF/-INF spelled the xsd way; strings escaped exactly as Oxigraph serialises
N-Triples (`escape`). Everything is vectorised with Arrow: ArchiveDays are built from each
partition file (sorted by (point_id, time)) by grouping rows per point, never row by row.
`count_triples` computes how many triples each part yields from the tables' shapes alone (no
string is built), so a load can be verified against the store's `COUNT(*)`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from btb.dataset.classes import BRICK_NS, RELATIONS

BTB_NS = "urn:btb:vocab#"
ID_PREFIX = "urn:btb:"
ARCHIVE_PREFIX = "urn:btb:archive:"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
PREFIXES = {"rdf": RDF, "rdfs": RDFS, "xsd": XSD, "brick": BRICK_NS, "btb": BTB_NS}

PARTS = ("classes", "nodes", "points", "edges", "archive")
ARCHIVE_TRIPLES = 11  # per ArchiveDay (see the module docstring)
BATCH_GROUPS = 4096  # ArchiveDays per yielded chunk: bounds the memory of one chunk
_MS_PER_DAY = 86_400_000
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*")  # class and relation names used in IRIs

# N-Triples string escaping, identical to Oxigraph's serialiser (checked in the unit tests):
# \t \b \n \r \f " \\ as ECHAR, other C0 controls and DEL as \\uXXXX (upper-case hex).
_ESCAPES = {c: f"\\u{c:04X}" for c in [*range(0x20), 0x7F]}
_ESCAPES.update({0x09: "\\t", 0x08: "\\b", 0x0A: "\\n", 0x0D: "\\r", 0x0C: "\\f",
                 0x22: '\\"', 0x5C: "\\\\"})
_NEEDS_ESCAPE = r'[\x00-\x1f"\\\x7f]'


def iri(s: str) -> str:
    return f"<{s}>"


def escape(s: str) -> str:
    """The body of an N-Triples STRING_LITERAL_QUOTE for `s` (Oxigraph's escaping)."""
    return s.translate(_ESCAPES)


def string_literal(s: str) -> str:
    return f'"{escape(s)}"'


def int_literal(i: int) -> str:
    return f'"{int(i)}"^^<{XSD}integer>'


def double_lexical(x: float) -> str:
    return _double_strings(np.array([x], dtype=np.float64))[0].as_py()


def double_literal(x: float) -> str:
    return f'"{double_lexical(x)}"^^<{XSD}double>'


def date_literal(d: dt.date) -> str:
    return f'"{d.isoformat()}"^^<{XSD}date>'


# -- vectorised term formatting -----------------------------------------------------------------
_P = {
    "type": iri(RDF + "type"), "subClassOf": iri(RDFS + "subClassOf"),
    "label": iri(RDFS + "label"), **{k: iri(BTB_NS + k) for k in (
        "id", "buildingId", "area", "level", "unit", "interval", "point", "date", "weekday",
        "minutes", "values", "n", "min", "max", "mean", "hasTimeseries")},
    **{rel: iri(BRICK_NS + rel) for rel in RELATIONS},
}
_ARCHIVE_DAY = iri(BTB_NS + "ArchiveDay")


def _cat(*parts) -> pa.Array:
    """Element-wise concatenation of string arrays/scalars; a null part makes the row null."""
    return pc.binary_join_element_wise(*parts, "")


def _str(arr: pa.Array) -> pa.Array:
    return pc.cast(arr, pa.string())


def _id_iris(ids: pa.Array) -> pa.Array:
    return _cat("<" + ID_PREFIX, _str(ids), ">")


def _typed(lexical: pa.Array, datatype: str) -> pa.Array:
    return _cat('"', lexical, f'"^^<{XSD}{datatype}>')


def _int_literals(arr: pa.Array) -> pa.Array:
    return _typed(_str(arr), "integer")


def _double_strings(values: np.ndarray) -> pa.Array:
    """Shortest round-trip decimal strings; NaN/INF/-INF in xsd:double spelling."""
    out = _str(pa.array(values, pa.float64()))
    if not np.isfinite(values).all():
        spell = {"nan": "NaN", "inf": "INF", "-inf": "-INF"}
        out = pa.array([spell.get(s, s) for s in out.to_pylist()], pa.string())
    return out


def _double_literals(arr: pa.Array) -> pa.Array:
    """xsd:double literals of a float column, null where the column is null."""
    arr = pc.cast(arr, pa.float64())
    filled = pc.fill_null(arr, 0.0).to_numpy(zero_copy_only=False)
    lex = _double_strings(filled)
    return _typed(pc.if_else(pc.is_null(arr), pa.scalar(None, pa.string()), lex), "double")


def _string_literals(arr: pa.Array) -> pa.Array:
    arr = pc.cast(arr, pa.string())
    flagged = pc.match_substring_regex(arr, _NEEDS_ESCAPE)
    if pc.any(flagged).as_py():  # rare: escape in Python, only where needed
        arr = pa.array([None if s is None else escape(s) for s in arr.to_pylist()], pa.string())
    return _cat('"', arr, '"')


def _class_iris(arr: pa.Array) -> pa.Array:
    for name in pc.unique(arr.drop_null()).to_pylist():
        if not _NAME_RE.fullmatch(name):
            raise ValueError(f"class/relation name {name!r} cannot be used in a Brick IRI")
    return _cat("<" + BRICK_NS, arr, ">")


def _triples(subject: pa.Array, predicate: str, obj: pa.Array) -> pa.Array:
    """'<s> <p> o .\\n' per row, null where the object is null (the triple is left out)."""
    return pc.binary_join_element_wise(subject, predicate, obj, ".\n", " ")


def _blocks(lines: list[pa.Array]) -> pa.Array:
    """Per row, the concatenation of its non-null triples (one subject's block)."""
    return pc.binary_join_element_wise(*lines, "", null_handling="replace",
                                       null_replacement="")


def _to_bytes(arr: pa.Array) -> bytes:
    """The concatenated bytes of a string array, nulls left out (one copy out of Arrow)."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if arr.null_count:
        arr = arr.drop_null()
    if len(arr) == 0:
        return b""
    odt = np.int64 if arr.type == pa.large_string() else np.int32
    offsets = np.frombuffer(arr.buffers()[1], odt, len(arr) + 1, arr.offset * odt().itemsize)
    start, end = int(offsets[0]), int(offsets[-1])
    return arr.buffers()[2].slice(start, end - start).to_pybytes()


# -- structure ----------------------------------------------------------------------------------
def _read(ds: Path, name: str) -> pa.Table:
    return pq.read_table(Path(ds) / f"{name}.parquet")


def require(table: pa.Table, name: str, cols: tuple[str, ...]) -> None:
    for c in cols:
        if c not in table.column_names:
            raise ValueError(f"{name}.parquet has no column {c!r}")
        if table.column(c).null_count:
            raise ValueError(f"{name}.parquet: column {c!r} holds NULLs")


def class_triples(ds: Path) -> bytes:
    t = _read(ds, "classes")
    require(t, "classes", ("class",))
    t = t.filter(pc.is_valid(t.column("parent")))
    sub = _class_iris(t.column("class").combine_chunks())
    sup = _class_iris(t.column("parent").combine_chunks())
    return _to_bytes(_triples(sub, _P["subClassOf"], sup))


def _entity_lines(t: pa.Table) -> tuple[pa.Array, list[pa.Array]]:
    ids = t.column("id").combine_chunks()
    s = _id_iris(ids)
    lines = [_triples(s, _P["type"], _class_iris(t.column("class").combine_chunks())),
             _triples(s, _P["id"], _int_literals(ids)),
             _triples(s, _P["label"], _string_literals(t.column("name").combine_chunks())),
             _triples(s, _P["buildingId"],
                      _int_literals(t.column("building_id").combine_chunks()))]
    return s, lines


def node_triples(ds: Path) -> bytes:
    t = _read(ds, "nodes")
    require(t, "nodes", ("id", "class"))
    s, lines = _entity_lines(t)
    if "area_m2" in t.column_names:
        lines.append(_triples(s, _P["area"], _double_literals(t.column("area_m2"))))
    if "level" in t.column_names:
        lines.append(_triples(s, _P["level"], _int_literals(t.column("level").combine_chunks())))
    return _to_bytes(_blocks(lines))


def point_triples(ds: Path) -> bytes:
    t = _read(ds, "points")
    require(t, "points", ("id", "class"))
    s, lines = _entity_lines(t)
    if "unit" in t.column_names:
        lines.append(_triples(s, _P["unit"], _string_literals(t.column("unit").combine_chunks())))
    if "interval_s" in t.column_names:
        lines.append(_triples(s, _P["interval"],
                              _int_literals(t.column("interval_s").combine_chunks())))
    return _to_bytes(_blocks(lines))


def distinct_edges(ds: Path) -> pa.Table:
    t = _read(ds, "edges")
    require(t, "edges", ("src", "rel", "dst"))
    bad = set(pc.unique(t.column("rel")).to_pylist()) - set(RELATIONS)
    if bad:
        raise ValueError(f"edges.parquet: unknown relations {sorted(bad)}; valid: {RELATIONS}")
    return t.group_by(["src", "rel", "dst"], use_threads=False).aggregate([])


def edge_triples(ds: Path) -> bytes:
    t = distinct_edges(ds)
    out = []
    for rel in RELATIONS:
        e = t.filter(pc.equal(t.column("rel"), rel))
        if e.num_rows:
            out.append(_to_bytes(_triples(_id_iris(e.column("src").combine_chunks()), _P[rel],
                                          _id_iris(e.column("dst").combine_chunks()))))
    return b"".join(out)


# -- ArchiveDay ---------------------------------------------------------------------------------
def partition_files(ds: Path) -> list[tuple[dt.date, Path]]:
    """(date, file) of every timeseries/date=YYYY-MM-DD/*.parquet, in date then name order."""
    out = []
    for d in sorted((Path(ds) / "timeseries").glob("date=*")):
        day = dt.date.fromisoformat(d.name.split("=", 1)[1])
        out += [(day, f) for f in sorted(d.glob("*.parquet"))]
    return out


def read_partition(path: Path, day: dt.date) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point_id, minute of day, value), sorted by (point_id, time), checked against `day`."""
    t = pq.read_table(path, columns=["point_id", "time", "value"])
    for c in t.column_names:
        if t.column(c).null_count:
            raise ValueError(f"{path}: column {c!r} holds NULLs; the dataset is corrupt")
    pid = t.column("point_id").to_numpy()
    ms = pc.cast(t.column("time"), pa.timestamp("ms")).cast(pa.int64()).to_numpy()
    val = t.column("value").to_numpy()
    day_ms = (day - dt.date(1970, 1, 1)).days * _MS_PER_DAY
    off = ms - day_ms
    if len(off) and (off.min() < 0 or off.max() >= _MS_PER_DAY):
        raise ValueError(f"{path}: rows outside {day} (the partition's date)")
    if np.any(off % 60_000):
        raise ValueError(f"{path}: times not on whole minutes; ArchiveDay minutes are integers")
    minutes = off // 60_000
    if len(pid) > 1 and not _sorted(pid, minutes):
        order = np.lexsort((minutes, pid))
        pid, minutes, val = pid[order], minutes[order], val[order]
    return pid, minutes, val


def _sorted(pid: np.ndarray, minutes: np.ndarray) -> bool:
    dp = np.diff(pid)
    return bool(np.all(dp >= 0) and np.all((dp > 0) | (np.diff(minutes) >= 0)))


def group_starts(pid: np.ndarray) -> np.ndarray:
    if len(pid) == 0:
        return np.zeros(0, np.int64)
    return np.concatenate([[0], np.flatnonzero(np.diff(pid) != 0) + 1])


def _joined(strings: pa.Array, offsets: np.ndarray) -> pa.Array:
    """One space-separated string per group (`offsets` into `strings`, len = groups + 1)."""
    off = offsets - offsets[0]
    lists = pa.ListArray.from_arrays(pa.array(off, pa.int32()),
                                     strings.slice(offsets[0], offsets[-1] - offsets[0]))
    return pc.binary_join(lists, " ")


def _archive_chunk(day: dt.date, pid: np.ndarray, mins_s: pa.Array, vals_s: pa.Array,
                   val: np.ndarray, offsets: np.ndarray) -> bytes:
    starts, ends = offsets[:-1], offsets[1:]
    n = ends - starts
    g_pid = pa.array(pid[starts], pa.int64())
    vmin = np.minimum.reduceat(val, starts) if len(val) else np.zeros(0)
    vmax = np.maximum.reduceat(val, starts) if len(val) else np.zeros(0)
    vmean = np.add.reduceat(val, starts) / n if len(val) else np.zeros(0)
    ds, pid_s = day.isoformat(), _str(g_pid)
    a = _cat("<" + ARCHIVE_PREFIX, pid_s, f":{ds}>")
    p = _cat("<" + ID_PREFIX, pid_s, ">")
    rows = len(starts)
    const = {"date": pa.array([f'"{ds}"^^<{XSD}date>'] * rows, pa.string()),
             "weekday": pa.array([int_literal(day.isoweekday())] * rows, pa.string())}
    lines = [
        _triples(a, _P["type"], pa.array([_ARCHIVE_DAY] * rows, pa.string())),
        _triples(a, _P["point"], p),
        _triples(a, _P["date"], const["date"]),
        _triples(a, _P["weekday"], const["weekday"]),
        _triples(a, _P["minutes"], _cat('"', _joined(mins_s, offsets), '"')),
        _triples(a, _P["values"], _cat('"', _joined(vals_s, offsets), '"')),
        _triples(a, _P["n"], _int_literals(pa.array(n, pa.int64()))),
        _triples(a, _P["min"], _typed(_double_strings(vmin), "double")),
        _triples(a, _P["max"], _typed(_double_strings(vmax), "double")),
        _triples(a, _P["mean"], _typed(_double_strings(vmean), "double")),
        _triples(p, _P["hasTimeseries"], a),
    ]
    return _to_bytes(_blocks(lines))


def archive_file_chunks(path: Path, day: dt.date,
                        batch_groups: int = BATCH_GROUPS) -> Iterator[tuple[bytes, int]]:
    """(N-Triples bytes, ArchiveDays in it) for one partition file, `batch_groups` at a time."""
    pid, minutes, val = read_partition(path, day)
    starts = group_starts(pid)
    if not len(starts):
        return
    mins_s = _str(pa.array(minutes, pa.int32()))
    vals_s = _double_strings(val)
    bounds = np.append(starts, len(pid))
    for i in range(0, len(starts), batch_groups):
        offsets = bounds[i:i + batch_groups + 1]
        yield _archive_chunk(day, pid, mins_s, vals_s, val, offsets), len(offsets) - 1


def archive_triples(ds: Path, counts: dict | None = None,
                    files: list[tuple[dt.date, Path]] | None = None) -> Iterator[bytes]:
    """ArchiveDay chunks of every partition file (or of `files`, a subset of partition_files)."""
    for day, path in partition_files(ds) if files is None else files:
        for chunk, groups in archive_file_chunks(path, day):
            if counts is not None:
                counts["archive"] = counts.get("archive", 0) + ARCHIVE_TRIPLES * groups
            yield chunk


# -- whole stream, counts, files ----------------------------------------------------------------
def structure_triples(ds: Path, counts: dict | None = None) -> Iterator[bytes]:
    """Class tree, nodes, points and edges: one chunk each."""
    for part, make in (("classes", class_triples), ("nodes", node_triples),
                       ("points", point_triples), ("edges", edge_triples)):
        chunk = make(Path(ds))
        if counts is not None:
            counts[part] = counts.get(part, 0) + chunk.count(b"\n")
        yield chunk


def stream(ds: Path, archive: bool, counts: dict | None = None) -> Iterator[bytes]:
    """N-Triples bytes chunks: class tree, nodes, points, edges, then (O1) the ArchiveDays.

    `counts`, when given, is filled with the triples yielded per part as the stream goes.
    """
    yield from structure_triples(ds, counts)
    if archive:
        yield from archive_triples(ds, counts)


def count_triples(ds: Path, archive: bool) -> dict[str, int]:
    """Triples each part yields, from the tables' shapes (null counts, groups), no strings."""
    ds = Path(ds)
    classes = _read(ds, "classes")
    out = {"classes": classes.num_rows - classes.column("parent").null_count}
    ids = []
    for name, optional in (("nodes", ("building_id", "area_m2", "level")),
                           ("points", ("building_id", "unit", "interval_s"))):
        t = _read(ds, name)
        require(t, name, ("id", "class"))
        n = 2 * t.num_rows + t.num_rows - t.column("name").null_count  # type, id, label
        for c in optional:
            if c in t.column_names:
                n += t.num_rows - t.column(c).null_count
        out[name] = n
        ids.append(t.column("id").to_numpy())
    all_ids = np.concatenate(ids)
    if len(np.unique(all_ids)) != len(all_ids):
        raise ValueError(f"{ds}: ids are not unique across nodes.parquet and points.parquet; "
                         f"IRIs urn:btb:<id> would merge resources")
    out["edges"] = distinct_edges(ds).num_rows
    if archive:
        groups = 0
        for _, path in partition_files(ds):
            pid = pq.read_table(path, columns=["point_id"]).column("point_id").to_numpy()
            groups += len(np.unique(pid))
        out["archive"] = ARCHIVE_TRIPLES * groups
    return out


def write_ntriples(dataset_dir: Path, out_path: Path, archive: bool) -> dict[str, int]:
    """Write the N-Triples file (atomically: temp file then rename); returns triples per part."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    counts: dict[str, int] = {}
    try:
        with open(tmp, "wb") as f:
            for chunk in stream(dataset_dir, archive, counts):
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return counts
