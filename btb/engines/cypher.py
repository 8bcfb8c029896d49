"""What the Cypher engines (falkordb, memgraph) share: schema, loading, verification, binding.

An engine module subclasses `CypherEngine` and supplies the dialect and the driver:
`index_statements()`, `_send(statement, rows) -> created`, `_clear()`, `execute(...)`,
`connect`, `data_size`, `close`. Everything else is here, so both engines load the same graph
(`btb.export.cypher` documents it) with the same statements.

Schema. Labels and relationship types cannot be parameters; they come from the class tree and
are checked by `export.cypher.identifier` before they are written into a statement. Indexes on
`id` for `Node`, `Point` and every class that is not a point class (Site, Building, Floor,
Room, HVAC_Zone, Equipment, AHU, VAV, Meter, ...): query parameters name such nodes, so queries
look them up as `(:Node {id: $x})`, `(:Point {id: $x})` or `(:AHU {id: $ahu})`, and the loader
finds relationship ends through the Node/Point ones. Point classes and ArchiveDay get no `id`
index: points are found through `:Point`, ArchiveDays from their point
(`(p)-[:hasTimeseries]->(a)`), so an index would only add memory to the measured data size.
Dialects differ: FalkorDB `CREATE INDEX FOR (n:L) ON (n.id)`, Memgraph `CREATE INDEX ON :L(id)`
(plus label indexes, see memgraph.py).

Load. `UNWIND $rows AS r` batches (sizes in export.cypher: at most 5,000 rows and ~200,000 list
elements per request), in three phases with a barrier between them: nodes (one statement per
label set, `CREATE (n:A:B:...) SET n = r`), relationships (per type and end kinds,
`MATCH (a:Node {id: r.s}) MATCH (b:Point {id: r.d}) CREATE (a)-[:T]->(b)`), then for M1/F1 the
ArchiveDays (`MATCH (p:Point {id: r.point_id}) CREATE (p)-[:hasTimeseries]->(a:ArchiveDay)
SET a = r`). `load_workers` connections send batches at once (default 2), so the server
executes one batch while the client encodes the next; where concurrent writes to one node
conflict (Memgraph, `conflicting_writes`), relationships go one request at a time and
ArchiveDays one partition file at a time (a file's requests touch distinct points). On this
2-core box (small-2d F1, FalkorDB) 2 workers load ArchiveDays 1.8x faster than 1, 3 no faster
than 2; 200,000 list elements per request beat 50,000 and 100,000 and equal 400,000-800,000.
The server's counters for what each statement created are summed, then the
graph is counted (`MATCH (n)`, `MATCH ()-[r]->()`, `MATCH (a:ArchiveDay)`) and compared with
`export.cypher.expected_counts` (nodes + points [+ ArchiveDays], distinct edges
[+ hasTimeseries], ArchiveDays = (point, date) pairs with rows).

Parameters are always bound through the driver (`$name`), never formatted into the text.
`bind_params` makes them the same in both engines: datetimes become ISO strings
'YYYY-MM-DDTHH:MM:SS' (naive UTC), dates 'YYYY-MM-DD' (so they compare with `ArchiveDay.date`
as strings, and a query needing temporal values calls `localdatetime($x)`), NumPy scalars and
arrays Python values, tuples and sets lists; NaN and infinities are refused (FalkorDB's
parameter syntax has no literal for them).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from btb.dataset import classes
from btb.engines.base import LoadResult
from btb.export import cypher as X

ArchiveScenarios = dict[str, bool]  # scenario -> loads ArchiveDays


def index_labels() -> list[str]:
    """Labels whose `id` is indexed: Node, Point and every class that is not a point class."""
    tree = [r["class"] for r in classes.class_rows()]
    return [X.NODE_LABEL, X.POINT_LABEL] + sorted(
        c for c in tree if not classes.is_a(c, X.POINT_LABEL))


def all_labels() -> list[str]:
    """Every label the loader may create: classes, Node, ArchiveDay."""
    tree = [r["class"] for r in classes.class_rows()]
    return sorted(set(tree) | {X.NODE_LABEL, X.POINT_LABEL, X.ARCHIVE_LABEL})


# -- statements ---------------------------------------------------------------------------------
def node_statement(labels: Iterable[str]) -> str:
    return f"UNWIND $rows AS r CREATE (n:{':'.join(X.identifier(x) for x in labels)}) SET n = r"


def edge_statement(rel: str, src_label: str, dst_label: str) -> str:
    return (f"UNWIND $rows AS r MATCH (a:{X.identifier(src_label)} {{id: r.s}}) "
            f"MATCH (b:{X.identifier(dst_label)} {{id: r.d}}) "
            f"CREATE (a)-[:{X.identifier(rel)}]->(b)")


ARCHIVE_STATEMENT = (
    f"UNWIND $rows AS r MATCH (p:{X.identifier(X.POINT_LABEL)} {{id: r.point_id}}) "
    f"CREATE (p)-[:{X.identifier(X.HAS_TIMESERIES)}]->(a:{X.identifier(X.ARCHIVE_LABEL)}) "
    "SET a = r")

COUNT_NODES = "MATCH (n) RETURN count(n)"
COUNT_RELATIONSHIPS = "MATCH ()-[r]->() RETURN count(r)"
COUNT_ARCHIVE_DAYS = f"MATCH (a:{X.identifier(X.ARCHIVE_LABEL)}) RETURN count(a)"


# -- parameters ---------------------------------------------------------------------------------
def bind_value(v: Any) -> Any:
    """One parameter value in the form both engines receive (see the module docstring)."""
    if v is None or isinstance(v, (bool, str, int)):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"cannot bind {v!r} as a Cypher parameter (not finite)")
        return v
    if isinstance(v, dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return v.isoformat(timespec="seconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return bind_value(float(v))
    if isinstance(v, np.ndarray):
        return [bind_value(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        return bind_value(v.item())
    if isinstance(v, dict):
        return {str(k): bind_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, frozenset)):
        return [bind_value(x) for x in v]
    raise TypeError(f"cannot bind a {type(v).__name__} as a Cypher parameter: {v!r}")


def bind_params(params: dict[str, Any] | None) -> dict[str, Any]:
    return {str(k): bind_value(v) for k, v in (params or {}).items()}


# -- the shared engine --------------------------------------------------------------------------
class CypherEngine:
    """Base of the Cypher engines; subclasses set `name`, `languages`, `scenarios`."""

    name: str
    languages: tuple[str, ...]
    scenarios: ArchiveScenarios
    # True when concurrent transactions touching the same node conflict (Memgraph's MVCC):
    # relationships are then sent one request at a time and ArchiveDays one file at a time.
    # False for FalkorDB, which runs one write query at a time per graph anyway.
    conflicting_writes = False

    def __init__(self, load_workers: int = 2):
        self.load_workers = max(1, load_workers)
        self.scenario: str | None = None

    # -- dialect and driver, provided by the engine module --------------------------------------
    def index_statements(self) -> list[str]:
        raise NotImplementedError

    def _send(self, statement: str, rows: Any) -> int:
        """Run one write batch (thread-safe) with `$rows` bound to `rows` (a list of dicts, or
        what `archive_payload` returned); return the nodes + relationships it created."""
        raise NotImplementedError

    def archive_payload(self, a: X.ArchiveDays, start: int, end: int) -> Any:
        """`$rows` of ArchiveDays [start, end) of one file: dicts, unless the driver has a
        faster encoding of the same values (falkordb)."""
        return X.archive_rows(a, start, end)

    def _clear(self) -> None:
        """Remove the whole graph (data and indexes)."""
        raise NotImplementedError

    def _ddl(self, statement: str) -> None:
        """Run one schema statement (index creation)."""
        self.execute(statement, None)

    def execute(self, query: str, params: dict[str, Any] | None = None,
                timeout_s: float | None = None) -> list[tuple]:
        raise NotImplementedError

    # -- schema ---------------------------------------------------------------------------------
    def _check_scenario(self, scenario: str) -> bool:
        if scenario not in self.scenarios:
            raise ValueError(f"{self.name} engine: unknown scenario {scenario!r}; "
                             f"valid: {', '.join(self.scenarios)}")
        return self.scenarios[scenario]

    def create_schema(self, scenario: str) -> None:
        """Drop the graph, then create the indexes (on the empty graph: ready at once)."""
        self._check_scenario(scenario)
        self._clear()
        for stmt in self.index_statements():
            self._ddl(stmt)
        self.scenario = scenario

    # -- load -----------------------------------------------------------------------------------
    def load(self, dataset: Path, scenario: str, progress=None) -> LoadResult:
        """Nodes, relationships, then (M1/F1) ArchiveDays; counted and checked.

        `progress(n)` is called with the rows of each batch sent (nodes, relationships or
        ArchiveDays)."""
        ds = Path(dataset)
        archive = self._check_scenario(scenario)
        if scenario != self.scenario:
            self.create_schema(scenario)
        expected = X.expected_counts(ds, archive)
        details: dict[str, Any] = {"load_workers": self.load_workers,
                                   "batch_rows": X.BATCH_ROWS, "batch_values": X.BATCH_VALUES}
        t0 = time.perf_counter()
        n_nodes, created_n, s_nodes = self._phase(
            ((node_statement(b.labels), b.rows, len(b.rows), None)
             for b in X.node_batches(ds)), progress)
        n_rels, created_r, s_rels = self._phase(
            ((edge_statement(b.rel, b.src_label, b.dst_label), b.rows, len(b.rows), None)
             for b in X.edge_batches(ds)), progress,
            workers=1 if self.conflicting_writes else None)
        details.update(structure_s=s_nodes + s_rels, nodes=n_nodes, nodes_s=s_nodes,
                       nodes_per_s=_rate(n_nodes, s_nodes), relationships=n_rels,
                       relationships_s=s_rels, relationships_per_s=_rate(n_rels, s_rels))
        created = created_n + created_r
        if archive:
            readings = [0]

            def requests() -> Iterator[tuple[str, Any, int, object]]:
                file_no, last = 0, None
                for a, start, end in X.archive_slices(ds):
                    if a is not last:  # a new partition file: a new group
                        file_no, last = file_no + 1, a
                    readings[0] += int(a.offsets[end] - a.offsets[start])
                    yield (ARCHIVE_STATEMENT, self.archive_payload(a, start, end), end - start,
                           file_no)

            n_days, created_a, s_days = self._phase(requests(), progress)
            created += created_a
            details.update(archive_days=n_days, archive_s=s_days,
                           archive_days_per_s=_rate(n_days, s_days), readings=readings[0],
                           readings_per_s=_rate(readings[0], s_days))
        seconds = time.perf_counter() - t0
        counts = self.counts(archive)
        details.update(created=created, seconds_total=seconds, data_size=self.data_size())
        return LoadResult(seconds, counts, expected, details)

    def counts(self, archive: bool) -> dict[str, int]:
        out = {"nodes": self._scalar(COUNT_NODES),
               "relationships": self._scalar(COUNT_RELATIONSHIPS)}
        if archive:
            out["archive_days"] = self._scalar(COUNT_ARCHIVE_DAYS)
        return out

    def _scalar(self, query: str) -> int:
        return int(self.execute(query, None)[0][0])

    def _phase(self, batches: Iterator[tuple[str, Any, int, object]],
               progress: Callable[[int], None] | None,
               workers: int | None = None) -> tuple[int, int, float]:
        """Send every (statement, rows, n, group) with up to `workers` (default
        `load_workers`) requests in flight; return (rows sent, entities created, seconds).

        With `conflicting_writes`, requests of different groups never run at once: the
        ArchiveDay requests of one partition file touch distinct points, those of two files
        may touch the same ones (a write-write conflict in Memgraph)."""
        t0 = time.perf_counter()
        workers = workers or self.load_workers
        rows = created = 0
        lock = threading.Lock()

        def send(stmt: str, batch: Any, n: int) -> int:
            c = self._send(stmt, batch)
            if progress is not None:
                with lock:
                    progress(n)
            return c

        if workers == 1:
            for stmt, batch, n, _ in batches:
                created += send(stmt, batch, n)
                rows += n
            return rows, created, time.perf_counter() - t0
        pending: set[Future] = set()
        last_group = None
        with ThreadPoolExecutor(workers, thread_name_prefix=f"btb-{self.name}-load") as pool:
            try:
                for stmt, batch, n, group in batches:
                    barrier = self.conflicting_writes and group != last_group
                    while pending and (barrier or len(pending) >= workers):
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        created += sum(f.result() for f in done)
                    last_group = group
                    pending.add(pool.submit(send, stmt, batch, n))
                    rows += n
                finished, pending = wait(pending).done, set()
                created += sum(f.result() for f in finished)
            finally:
                for f in pending:
                    f.cancel()
        return rows, created, time.perf_counter() - t0

    # -- the rest of the protocol ---------------------------------------------------------------
    def reset_caches(self) -> None:
        """No-op: both engines keep the whole graph in memory, there is no page cache to drop;
        their query-plan caches are part of steady-state behaviour (a cold run restarts the
        server instead)."""

    def data_size(self) -> int:
        raise NotImplementedError


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else 0.0
