"""Memgraph engine (M1: property graph + ArchiveDay nodes; M2: property graph, timeseries in
PostgreSQL), over Bolt with the `neo4j` Python driver. Schema, load and verification are the
ones FalkorDB runs (`btb.engines.cypher`); this module is the dialect and the driver. Memgraph
cannot run on the machines btb is developed on: this module is exercised by the shared loader's
tests on FalkorDB and by tests/integration/test_memgraph_engine.py where `BTB_MEMGRAPH_URI`
points at a real server.

- `create_schema` deletes every node (DETACH DELETE) and index, then creates a label index on
  every label (`CREATE INDEX ON :L`: without one Memgraph scans all vertices for `MATCH (n:L)`;
  FalkorDB keeps one matrix per label and needs none) and the `id` label-property indexes
  (`CREATE INDEX ON :L(id)`) on the labels listed by `cypher.index_labels`.
- Parameters: the driver's own `$name` binding (Bolt PackStream), after `cypher.bind_params`
  (datetimes as ISO strings, as for FalkorDB, so both engines read the same query files).
- Timeouts: the per-transaction timeout Bolt carries (`neo4j.Query(timeout=...)`, honoured by
  Memgraph >= 2.10); the launcher's `--query-execution-timeout-sec` is the server-wide
  fallback. Both abort the query server-side -> QueryTimeout. The driver has no client-side
  read timeout. A lost connection (ServiceUnavailable, SessionExpired, OSError) raises
  EngineCrashed.
- Results: Python values; temporal values via `to_native()` (naive datetimes stay naive),
  nodes and relationships as their property dicts.
- data_size: `SHOW STORAGE INFO` (per database from Memgraph 3.11: `ON CURRENT DATABASE`):
  `db_storage_memory_tracked`, else `db_memory_tracked`, else `memory_tracked`, in bytes.
"""

from __future__ import annotations

import re
from typing import Any

from btb.engines import cypher
from btb.engines.base import EngineCrashed, QueryTimeout
from btb.export import cypher as X
from btb.runtime.base import Endpoint

try:
    import neo4j
    from neo4j import exceptions as _nx
except ImportError:  # pragma: no cover - part of btb[engines]
    neo4j = _nx = None

_SIZE = re.compile(r"^\s*([0-9.]+)\s*([KMGTP]?i?B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "pib": 2**50,
          "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "pb": 10**15}
SIZE_KEYS = ("db_storage_memory_tracked", "db_memory_tracked", "memory_tracked")


class MemgraphError(RuntimeError):
    """The server refused a statement (syntax, semantics): its message."""


def parse_size(value: Any) -> int:
    """A SHOW STORAGE INFO size ('43.15MiB', '512B', 1024) in bytes."""
    if isinstance(value, (int, float)):
        return int(value)
    m = _SIZE.match(str(value))
    if not m:
        raise ValueError(f"memgraph: unreadable size {value!r}")
    return int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])


def _convert(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_convert(x) for x in v]
    if isinstance(v, dict):
        return {k: _convert(x) for k, x in v.items()}
    if hasattr(v, "to_native"):  # neo4j.time Date / DateTime / Time / Duration
        return v.to_native()
    if neo4j is not None and isinstance(v, (neo4j.graph.Node, neo4j.graph.Relationship)):
        return {k: _convert(x) for k, x in v.items()}
    return v


def _timed_out(exc: Exception) -> bool:
    msg = str(exc).lower()
    return "timeout" in msg or "timed out" in msg or "asked to abort" in msg


class Memgraph(cypher.CypherEngine):
    name = "memgraph"
    languages = ("memgraph", "cypher")
    scenarios = {"M1": True, "M2": False}
    conflicting_writes = True  # MVCC: two transactions adding edges to one vertex conflict

    def __init__(self, endpoint: Endpoint | None = None, load_workers: int = 2):
        super().__init__(load_workers)
        self._endpoint: Endpoint | None = None
        self._driver = None
        if endpoint is not None:
            self.connect(endpoint)

    # -- connection -----------------------------------------------------------------------------
    def connect(self, endpoint: Endpoint) -> None:
        if neo4j is None:
            raise RuntimeError("memgraph engine: the `neo4j` driver is missing; "
                               "pip install 'btb[engines]'")
        self.close()
        self._endpoint = endpoint
        auth = (endpoint.user, endpoint.password or "") if endpoint.user else None
        self._driver = neo4j.GraphDatabase.driver(f"bolt://{endpoint.host}:{endpoint.port}",
                                                  auth=auth, connection_timeout=10)

    def _session(self):
        if self._driver is None:
            raise RuntimeError("memgraph engine: call connect(endpoint) first")
        return self._driver.session()

    def _crashed(self, exc: Exception) -> EngineCrashed:
        e = self._endpoint
        where = f"{e.host}:{e.port}" if e else "?"
        return EngineCrashed(f"memgraph at {where}: connection lost "
                             f"({type(exc).__name__}: {exc})")

    def _run(self, query: Any, params: dict | None, fetch: bool):
        """(rows, summary counters) of one auto-commit query, errors mapped."""
        try:
            with self._session() as s:
                result = s.run(query, params or {})
                rows = [tuple(_convert(v) for v in r.values()) for r in result] if fetch else []
                return rows, result.consume().counters
        except (_nx.ServiceUnavailable, _nx.SessionExpired, OSError) as exc:
            raise self._crashed(exc) from exc
        except _nx.Neo4jError as exc:
            if _timed_out(exc):
                raise QueryTimeout(f"memgraph: query aborted by its timeout: {exc}") from exc
            raise MemgraphError(f"memgraph: {exc}") from exc

    # -- dialect and driver ---------------------------------------------------------------------
    def index_statements(self) -> list[str]:
        return ([f"CREATE INDEX ON :{X.identifier(label)}" for label in cypher.all_labels()]
                + [f"CREATE INDEX ON :{X.identifier(label)}(id)"
                   for label in cypher.index_labels()])

    def _clear(self) -> None:
        self._run("MATCH (n) DETACH DELETE n", None, fetch=False)
        for row in self._run("SHOW INDEX INFO", None, fetch=True)[0]:
            label, prop = row[1], row[2]  # (index type, label, property, count)
            if isinstance(prop, list):
                prop = prop[0] if len(prop) == 1 else None
            target = f":{X.identifier(label)}" + (f"({X.identifier(prop)})" if prop else "")
            self._run(f"DROP INDEX ON {target}", None, fetch=False)

    def _send(self, statement: str, rows: Any) -> int:
        """One load batch in a managed write transaction: the driver retries it when Memgraph
        reports a transient conflict with a concurrent one (the loader avoids them; see
        `conflicting_writes`)."""

        def work(tx) -> int:
            c = tx.run(statement, {"rows": rows}).consume().counters
            return c.nodes_created + c.relationships_created

        try:
            with self._session() as s:
                return s.execute_write(work)
        except (_nx.ServiceUnavailable, _nx.SessionExpired, OSError) as exc:
            raise self._crashed(exc) from exc
        except _nx.Neo4jError as exc:
            raise MemgraphError(f"memgraph: load statement failed: {exc}; "
                                f"statement: {statement[:300]}") from exc

    def execute(self, query: str, params: dict[str, Any] | None = None,
                timeout_s: float | None = None) -> list[tuple]:
        """Run one query with bound parameters; every row fetched and converted."""
        q = neo4j.Query(query, timeout=timeout_s) if timeout_s is not None else query
        return self._run(q, cypher.bind_params(params), fetch=True)[0]

    # -- sizes ----------------------------------------------------------------------------------
    def storage_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {}
        for q in ("SHOW STORAGE INFO", "SHOW STORAGE INFO ON CURRENT DATABASE"):
            try:
                info.update({str(r[0]): r[1] for r in self.execute(q)})
            except MemgraphError:  # the per-database form exists from Memgraph 3.11 only
                continue
        return info

    def data_size(self) -> int:
        info = self.storage_info()
        for key in SIZE_KEYS:
            if key in info:
                return parse_size(info[key])
        return -1

    def close(self) -> None:
        if self._driver is not None:
            try:
                self._driver.close()
            except Exception:  # noqa: BLE001 - closing a dead connection must not fail
                pass
            self._driver = None
