"""PostgreSQL engine (P1 relational, P2 JSONB, TS = timeseries side of the hybrids M2/F2/O2).

Schemas are in `postgres_schema` (its docstring is the layout the query files rely on). Loading
streams the Parquet pivot straight into the server with `COPY ... FROM STDIN`, nothing written to
disk on the way: structure tables as CSV rendered by pyarrow, the timeseries as binary COPY built
vectorised with NumPy, partition file by partition file, in parallel connections (one file each).

Measured on this dev box (2 cores, PostgreSQL 15; COPY into one unindexed table over one
connection, two runs each; encoding time alone in brackets):
    tiny-2d  (0.11 M rows): CSV via pyarrow.csv 0.83-1.00 M rows/s (3.5-4.3 M rows/s),
                            binary 2.27-2.53 M rows/s (16-17 M rows/s) with 65,536-row batches;
    small-2d (2.76 M rows): CSV 0.58-0.65 M rows/s (2.7-3.1), binary 1.51-1.87 M rows/s (25-31);
1 M-row batches were slower for both (small-2d: CSV 0.42-0.55, binary 1.23-1.54). Binary is kept.
As loaded here (straight into each day partition, 2 connections), small-2d's COPY phase runs at
2.8-3.3 M rows/s, about 1.0 M rows/s end to end with the index build and VACUUM ANALYZE.

Loader sessions run with `synchronous_commit = off` (a crash loses the last commits, never
consistency); the server itself keeps every durability default (see the launcher). After the
COPY: the (point_id, time) index, then VACUUM ANALYZE so statistics, hint bits and the
visibility map are settled before measuring and autovacuum does not start mid-run.

Queries run without psycopg's automatic server-side prepare (`prepare_threshold=None`), so every
run of a query is planned the same way, warmup or measured. Every query file is read with
bound parameters (psycopg `%(name)s`), so a literal `%` must be written `%%`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from psycopg import sql

from btb.dataset.classes import RELATIONS
from btb.engines import postgres_schema as S
from btb.engines.base import EngineCrashed, LoadResult, QueryTimeout
from btb.runtime.base import Endpoint

# P1/P2 fall back to ts.sql for the pure timeseries queries (Q7, Q8): same table, same SQL.
LANGUAGES = {"P1": ("sql", "ts"), "P2": ("jsonb", "ts"), "TS": ("ts",)}
_FED_TYPES = ("bigint", "text")  # column types a federation temp table may use
BATCH_ROWS = 65_536  # rows per COPY write (see the figures above)

# Binary COPY row for (int4, timestamp, float8): field count, then (length, value) per field.
_ROW = np.dtype([("n", ">i2"), ("l1", ">i4"), ("point_id", ">i4"), ("l2", ">i4"),
                 ("time", ">i8"), ("l3", ">i4"), ("value", ">f8")])
_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_TRAILER = b"\xff\xff"
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds (binary timestamp origin)


def binary_rows(batch: pa.RecordBatch | pa.Table) -> bytes:
    """One batch of (point_id, time, value) as binary COPY rows (no header or trailer)."""
    for c in ("point_id", "time", "value"):
        if batch.column(c).null_count:
            raise ValueError(f"timeseries column {c!r} holds NULLs; the dataset is corrupt")
    t = batch.column("time")
    if getattr(t.type, "tz", None):
        raise ValueError("timeseries.time must be naive UTC, got a timezone-aware column")
    out = np.empty(batch.num_rows, _ROW)
    out["n"], out["l1"], out["l2"], out["l3"] = 3, 4, 8, 8
    out["point_id"] = batch.column("point_id").to_numpy()
    out["time"] = t.cast(pa.timestamp("us")).cast(pa.int64()).to_numpy() - _PG_EPOCH_US
    out["value"] = batch.column("value").to_numpy()
    return out.tobytes()


def csv_bytes(table: pa.Table) -> bytes:
    """A structure table as CSV for COPY: strings quoted, NULL as an unquoted empty field."""
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
    return buf.getvalue()


def bind(params: dict[str, Any] | None) -> dict[str, Any]:
    """Parameters for psycopg: nested dicts (time windows) also flattened to `day.start` and
    `day_start`; lists become arrays (psycopg does that), nothing is formatted into the text."""
    out = dict(params or {})
    for k, v in (params or {}).items():
        if isinstance(v, dict):
            for sub, x in v.items():
                out[f"{k}.{sub}"] = out[f"{k}_{sub}"] = x
    return out


class Postgres:
    name = "postgres"

    def __init__(self, endpoint: Endpoint | None = None, scenario: str | None = None,
                 load_workers: int | None = None):
        self.scenario = scenario
        self.load_workers = load_workers or max(1, min(4, os.cpu_count() or 1))
        self.ts_layout: str | None = None
        self._endpoint: Endpoint | None = None
        self._conn: psycopg.Connection | None = None
        self._timeout_ms: int | None = None
        if endpoint is not None:
            self.connect(endpoint)

    @property
    def languages(self) -> tuple[str, ...]:
        """Query file stems for the current scenario (all three before create_schema)."""
        return LANGUAGES[self.scenario] if self.scenario else ("sql", "jsonb", "ts")

    @staticmethod
    def languages_for(scenario: str) -> tuple[str, ...]:
        return LANGUAGES[scenario]

    # -- connection ----------------------------------------------------------------------------
    def _new_conn(self) -> psycopg.Connection:
        e = self._endpoint
        return psycopg.connect(host=e.host, port=e.port, user=e.user, password=e.password,
                               dbname=e.database, autocommit=True, prepare_threshold=None,
                               application_name="btb")

    def connect(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint
        self._conn = self._new_conn()
        self._timeout_ms = None

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None:
            raise RuntimeError("postgres engine: call connect(endpoint) first")
        return self._conn

    # -- schema --------------------------------------------------------------------------------
    def create_schema(self, scenario: str) -> None:
        if scenario not in LANGUAGES:
            raise ValueError(f"postgres engine: unknown scenario {scenario!r}; "
                             f"valid: {', '.join(LANGUAGES)}")
        self.scenario = scenario
        with self.conn.transaction():
            self.conn.execute(S.DROP)
            if scenario in ("P1", "P2"):
                self.conn.execute(S.P1 if scenario == "P1" else S.P2)
        self.ts_layout = "hypertable" if self._try_hypertable() else "partitioned"
        if self.ts_layout == "partitioned":
            self.conn.execute(S.TS_PARTITIONED)

    def _try_hypertable(self) -> bool:
        e = self._endpoint
        if e is not None and e.extra.get("timescaledb") is False:
            return False  # the launcher knows the extension is not installed
        found = self.conn.execute("SELECT 1 FROM pg_available_extensions "
                                  "WHERE name = 'timescaledb'").fetchone()
        if not found:
            return False
        try:
            with self.conn.transaction():
                self.conn.execute(S.TS_HYPERTABLE)
            return True
        except psycopg.Error:  # installed but not preloaded, or too old: plain partitions
            return False

    # -- load ----------------------------------------------------------------------------------
    def load(self, dataset: Path, scenario: str, progress=None) -> LoadResult:
        ds = Path(dataset)
        if scenario != self.scenario or self.ts_layout is None:
            self.create_schema(scenario)
        fp = json.loads((ds / "fingerprint.json").read_text())
        keys = S.COUNTS[scenario]
        expected = {k: int(fp["row_counts"][k]) for k in keys}
        files = _partition_files(ds)
        details: dict[str, Any] = {"ts_layout": self.ts_layout, "copy_format": "binary",
                                   "load_workers": self.load_workers}
        t0 = time.perf_counter()
        if scenario in ("P1", "P2"):
            self._load_structure(ds, scenario)
        details["structure_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        ts_rows = self._load_timeseries(files, progress)
        details["copy_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        self.conn.execute(S.TS_INDEX)
        if scenario in ("P1", "P2"):
            self.conn.execute(S.P1_INDEXES if scenario == "P1" else S.P2_INDEXES)
        details["index_s"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        self.conn.execute("VACUUM ANALYZE")
        details["vacuum_analyze_s"] = time.perf_counter() - t3
        seconds = time.perf_counter() - t0
        counts = {k: int(self.conn.execute(q, {"rels": list(RELATIONS)}).fetchone()[0])
                  for k, q in keys.items()}
        details["rows_per_s"] = ts_rows / details["copy_s"] if details["copy_s"] else 0.0
        details["rows_per_s_total"] = ts_rows / seconds if seconds else 0.0
        details["data_size"] = self.data_size()
        return LoadResult(seconds, counts, expected, details)

    def _copy_csv(self, cur: psycopg.Cursor, table: str, cols: tuple[str, ...],
                  data: pa.Table) -> None:
        stmt = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols)))
        with cur.copy(stmt) as cp:
            cp.write(csv_bytes(data.select(list(cols))))

    def _load_structure(self, ds: Path, scenario: str) -> None:
        classes = pq.read_table(ds / "classes.parquet").to_pylist()
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("SET LOCAL synchronous_commit = off")
            with cur.copy("COPY brick_class (class, parent, category) FROM STDIN") as cp:
                for r in classes:
                    cp.write_row((r["class"], r["parent"], r["category"]))
            with cur.copy("COPY class_ancestor (class, ancestor, depth) FROM STDIN") as cp:
                for row in S.ancestor_rows(classes):
                    cp.write_row(row)
            if scenario == "P2":
                cur.execute(S.P2_STAGE)
            for part, table in S.TARGETS[scenario].items():
                self._copy_csv(cur, table, S.COLUMNS[part], pq.read_table(ds / f"{part}.parquet"))
            if scenario == "P2":
                cur.execute(S.P2_BUILD)

    def _load_timeseries(self, files: list[tuple[dt.date, Path]], progress) -> int:
        """COPY every partition file, `load_workers` files at a time; return the row count."""
        targets = []
        for day in sorted({d for d, _ in files}):
            if self.ts_layout == "partitioned":
                name, ddl = S.partition_ddl(day)
                self.conn.execute(ddl)
            else:
                name = "timeseries"
            targets += [(name, f) for d, f in files if d == day]
        lock = threading.Lock()

        def report(n: int) -> None:
            if progress is not None:
                with lock:
                    progress(n)

        def copy_file(item: tuple[str, Path]) -> int:
            table, path = item
            rows = 0
            with self._new_conn() as conn, conn.cursor() as cur:
                cur.execute("SET synchronous_commit = off")
                stmt = sql.SQL("COPY {} (point_id, time, value) FROM STDIN (FORMAT binary)")
                with cur.copy(stmt.format(sql.Identifier(table))) as cp:
                    cp.write(_HEADER)
                    for batch in pq.ParquetFile(path).iter_batches(BATCH_ROWS):
                        cp.write(binary_rows(batch))
                        rows += batch.num_rows
                        report(batch.num_rows)
                    cp.write(_TRAILER)
            return rows

        with ThreadPoolExecutor(self.load_workers) as pool:
            return sum(pool.map(copy_file, targets))

    # -- queries -------------------------------------------------------------------------------
    def execute(self, query: str, params: dict[str, Any] | None = None,
                timeout_s: float | None = None) -> list[tuple]:
        """Run `query` with bound params; all rows fetched. Server-side statement_timeout."""
        ms = max(1, int(timeout_s * 1000)) if timeout_s else 0
        conn = self.conn
        try:
            with conn.cursor() as cur:
                if ms != self._timeout_ms:  # one round trip only when the timeout changes
                    cur.execute("SELECT set_config('statement_timeout', %s, false)", (f"{ms}ms",))
                    self._timeout_ms = ms
                cur.execute(query, bind(params))
                return cur.fetchall() if cur.description is not None else []
        except psycopg.errors.QueryCanceled as e:  # before OperationalError: it is one
            raise QueryTimeout(f"postgres: query cancelled after {timeout_s} s") from e
        except psycopg.Error as e:
            if conn.closed or conn.broken:
                raise EngineCrashed(f"postgres: connection lost ({e})") from e
            raise

    def fill_temp_table(self, name: str, columns: list[tuple[str, str]], rows) -> None:
        """(Re)create session temp table `name` and COPY `rows` into it: the federation path
        above the array threshold (btb/workload/execution.py). Names are quoted identifiers."""
        for _, t in columns:
            if t not in _FED_TYPES:
                raise ValueError(f"federation column type {t!r} not in {_FED_TYPES}")
        ident = sql.Identifier(name)
        cols = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t))
                                  for c, t in columns)
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
                cur.execute(sql.SQL("CREATE TEMP TABLE {} ({})").format(ident, cols))
                with cur.copy(sql.SQL("COPY {} FROM STDIN").format(ident)) as copy:
                    for row in rows:
                        copy.write_row(row)
                cur.execute(sql.SQL("ANALYZE {}").format(ident))
        except psycopg.Error as e:
            if self.conn.closed or self.conn.broken:
                raise EngineCrashed(f"postgres: connection lost ({e})") from e
            raise

    def data_size(self) -> int:
        return int(self.conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])

    def reset_caches(self) -> None:
        """DISCARD ALL: session state only (plans, temp tables, settings). shared_buffers and the
        OS page cache survive: a cold run needs a server restart (and dropping the page cache)."""
        self.conn.execute("DISCARD ALL")
        self._timeout_ms = None  # DISCARD ALL reset statement_timeout too

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


def _partition_files(ds: Path) -> list[tuple[dt.date, Path]]:
    """(date, file) for every timeseries/date=YYYY-MM-DD/*.parquet, in date order."""
    out = []
    for d in sorted((ds / "timeseries").glob("date=*")):
        day = dt.date.fromisoformat(d.name.split("=", 1)[1])
        out += [(day, f) for f in sorted(d.glob("*.parquet"))]
    if not out:
        raise ValueError(f"{ds}: no timeseries/date=*/ partition files to load")
    return out
