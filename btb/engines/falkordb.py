"""FalkorDB engine (F1: property graph + ArchiveDay nodes; F2: property graph, timeseries in
PostgreSQL), through the `falkordb` Python client (redis-py underneath) that `falkordblite`
installs. Schema, load and verification are shared with memgraph (`btb.engines.cypher`); this
module is the dialect and the driver.

- One graph, `btb`, per server. `create_schema` deletes it (GRAPH.DELETE) and creates the `id`
  range indexes: `CREATE INDEX FOR (n:L) ON (n.id)`.
- Parameters: GRAPH.QUERY has no separate parameter argument; the client's `params=` puts them
  in the command's `CYPHER name=value ...` header, which the server parses as parameter values
  before it plans the query body (the body stays the same text, so its plan is cached). Values
  go through `cypher.bind_params` first (datetimes as ISO strings, no NaN: the header syntax
  has no literal for it).
- Load: nodes and relationships go through the client's `params=` as well. ArchiveDay batches
  get the very same header built by `archive_header` with Arrow (`GRAPH.QUERY btb
  "CYPHER `rows`=[...] UNWIND $rows ..." --compact`, what the client sends): the client formats
  one Python value at a time, which took 3.1 s of the 4.6 s ArchiveDay phase of small-2d
  (0.6 M readings/s); vectorised, the phase takes 1.3-1.5 s (2.0 M readings/s, 2 workers).
  Tests check that the header decodes to exactly `export.cypher.archive_rows` and that every
  value read back from the server equals the Parquet one.
- Timeouts: the query runs with GRAPH.QUERY's `TIMEOUT <ms>` (server-side; FalkorDB answers
  "Query timed out"), and the client reads with a socket timeout of the query timeout plus a
  grace (`TIMEOUT_GRACE_S`, at least 25 %), for what the server-side check cannot interrupt
  (e.g. building a huge list in one `UNWIND range(...)`); both raise QueryTimeout. A refused or
  reset connection raises EngineCrashed. The client never retries (redis-py's retry is off), so
  a statement is never sent twice.
- Results: rows of Python values; temporal values as naive UTC datetime/date, nodes and edges
  as their property dicts.
- data_size: Redis's `used_memory_dataset` (INFO memory: every byte the server allocated, the
  graph module's included, minus Redis's own overhead), exact to the byte. GRAPH.MEMORY USAGE
  is also recorded in the load details: it is a sampled estimate in whole MB (0 on tiny).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from btb.engines import cypher
from btb.engines.base import EngineCrashed, QueryTimeout
from btb.export import cypher as X
from btb.runtime.base import Endpoint

try:
    import falkordb as _falkordb
    import redis as _redis
    from falkordb.query_result import QueryResult as _QueryResult
except ImportError:  # pragma: no cover - falkordblite needs Python >= 3.12
    _falkordb = _redis = _QueryResult = None

GRAPH = "btb"
TIMEOUT_GRACE_S = 2.0
INSTALL_HINT = "pip install falkordblite (Python >= 3.12)"


class FalkorDBError(RuntimeError):
    """The server refused a statement (syntax, semantics): its message."""


def _convert(v: Any) -> Any:
    """A result value from the client as a plain Python value."""
    if isinstance(v, list):
        return [_convert(x) for x in v]
    if isinstance(v, dict):
        return {k: _convert(x) for k, x in v.items()}
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(dt.timezone.utc).replace(tzinfo=None)
    props = getattr(v, "properties", None)  # falkordb Node / Edge
    if isinstance(props, dict):
        return {k: _convert(x) for k, x in props.items()}
    return v


# -- the ArchiveDay parameter header, vectorised --------------------------------------------------
class Header(str):
    """A complete `CYPHER `rows`=[...] ` parameter header, to be put before a statement."""


def float_strings(x: np.ndarray) -> pa.Array:
    """Doubles as Cypher float literals: Arrow's shortest round-trip form, with '.0' added to
    integral values (Arrow writes 21.0 as '21', which Cypher would read as an integer)."""
    if len(x) and not np.isfinite(x).all():
        raise ValueError("cannot bind NaN or infinite values as Cypher parameters")
    s = pc.cast(pa.array(x, pa.float64()), pa.string())
    return pc.if_else(pc.match_substring_regex(s, r"^-?[0-9]+$"),
                      pc.binary_join_element_wise(s, ".0", ""), s)


def _lists(strings: pa.Array, offsets: np.ndarray) -> pa.Array:
    """'[a,b,...]' per group; `offsets` (groups + 1) index `strings` from 0."""
    lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), strings)
    return pc.binary_join_element_wise("[", pc.binary_join(lists, ","), "]", "")


def archive_header(a: X.ArchiveDays, start: int, end: int) -> Header:
    """The parameter header binding `$rows` to ArchiveDays [start, end) of one file: the same
    text the client's `params=` builds from `export.cypher.archive_rows` (same keys and order,
    shortest round-trip floats), built with Arrow instead of one Python call per value."""
    lo, hi = int(a.offsets[start]), int(a.offsets[end])
    off = a.offsets[start:end + 1] - lo
    ints = pa.array(a.minutes[lo:hi], pa.int64()).cast(pa.string())
    day = a.day.isoformat()
    groups = pc.binary_join_element_wise(
        "{`point_id`:", pa.array(a.point_id[start:end], pa.int64()).cast(pa.string()),
        f',`date`:"{day}",`weekday`:{a.day.isoweekday()},`minutes`:', _lists(ints, off),
        ",`values`:", _lists(float_strings(a.values[lo:hi]), off),
        ",`n`:", pa.array(np.diff(off), pa.int64()).cast(pa.string()),
        ",`min`:", float_strings(a.min[start:end]), ",`max`:", float_strings(a.max[start:end]),
        ",`mean`:", float_strings(a.mean[start:end]), "}", "")
    return Header("CYPHER `rows`=[" + ",".join(groups.to_pylist()) + "] ")


def socket_timeout(timeout_s: float) -> float:
    """How long the client waits for an answer to a query with server timeout `timeout_s`."""
    return timeout_s + max(TIMEOUT_GRACE_S, 0.25 * timeout_s)


def _timed_out(exc: Exception) -> bool:
    return "timed out" in str(exc).lower()


class FalkorDB(cypher.CypherEngine):
    name = "falkordb"
    languages = ("falkordb", "cypher")
    scenarios = {"F1": True, "F2": False}

    def __init__(self, endpoint: Endpoint | None = None, load_workers: int = 2):
        super().__init__(load_workers)
        self._endpoint: Endpoint | None = None
        self._clients: dict[float | None, Any] = {}  # socket timeout -> falkordb.FalkorDB
        self._lock = threading.Lock()  # load threads share the clients
        if endpoint is not None:
            self.connect(endpoint)

    # -- connection -----------------------------------------------------------------------------
    def connect(self, endpoint: Endpoint) -> None:
        if _falkordb is None:
            raise RuntimeError(f"falkordb engine: the `falkordb` client is missing; "
                               f"{INSTALL_HINT}")
        self.close()
        self._endpoint = endpoint

    def _client(self, read_timeout: float | None = None):
        """A client whose reads give up after `read_timeout` s (None: never); cached per
        value, since a run uses one query timeout. Creating one checks the server (INFO)."""
        if self._endpoint is None:
            raise RuntimeError("falkordb engine: call connect(endpoint) first")
        with self._lock:
            client = self._clients.get(read_timeout)
            if client is None:
                e = self._endpoint
                try:
                    client = _falkordb.FalkorDB(host=e.host, port=e.port, password=e.password,
                                                socket_timeout=read_timeout,
                                                socket_connect_timeout=10)
                except _redis.exceptions.ConnectionError as exc:
                    raise self._crashed(exc) from exc
                self._clients[read_timeout] = client
            return client

    def _graph(self, read_timeout: float | None = None):
        return self._client(read_timeout).select_graph(GRAPH)

    def _crashed(self, exc: Exception) -> EngineCrashed:
        e = self._endpoint
        where = f"{e.host}:{e.port}" if e else "?"
        return EngineCrashed(f"falkordb at {where}: connection lost "
                             f"({type(exc).__name__}: {exc})")

    def _redis(self):
        return self._client().connection

    # -- dialect and driver ---------------------------------------------------------------------
    def index_statements(self) -> list[str]:
        return [f"CREATE INDEX FOR (n:{X.identifier(label)}) ON (n.id)"
                for label in cypher.index_labels()]

    def _clear(self) -> None:
        try:
            self._redis().execute_command("GRAPH.DELETE", GRAPH)
        except _redis.exceptions.ConnectionError as exc:
            raise self._crashed(exc) from exc
        except _redis.exceptions.ResponseError as exc:
            if "empty key" not in str(exc):  # no graph yet: nothing to delete
                raise FalkorDBError(f"falkordb: GRAPH.DELETE failed: {exc}") from exc

    def archive_payload(self, a: X.ArchiveDays, start: int, end: int) -> Header:
        return archive_header(a, start, end)

    def _send(self, statement: str, rows: list[dict] | Header) -> int:
        try:
            if isinstance(rows, Header):  # already encoded: the same command the client sends
                graph = self._graph()
                reply = self._redis().execute_command("GRAPH.QUERY", GRAPH, rows + statement,
                                                      "--compact")
                res = _QueryResult(graph, reply)
            else:
                res = self._graph().query(statement, {"rows": rows})
        except _redis.exceptions.ConnectionError as exc:
            raise self._crashed(exc) from exc
        except _redis.exceptions.ResponseError as exc:
            raise FalkorDBError(f"falkordb: load statement failed: {exc}; "
                                f"statement: {statement[:300]}") from exc
        return int(res.nodes_created) + int(res.relationships_created)

    def execute(self, query: str, params: dict[str, Any] | None = None,
                timeout_s: float | None = None) -> list[tuple]:
        """Run one query with bound parameters; every row fetched and converted."""
        bound = cypher.bind_params(params) or None
        kwargs, sock = {}, None
        if timeout_s is not None:
            kwargs["timeout"] = max(1, math.ceil(timeout_s * 1000))
            sock = socket_timeout(timeout_s)
        try:
            res = self._graph(sock).query(query, bound, **kwargs)
        except _redis.exceptions.TimeoutError as exc:  # client-side: no answer in time
            raise QueryTimeout(f"falkordb: no answer within {sock:.1f} s "
                               f"(query timeout {timeout_s} s)") from exc
        except _redis.exceptions.ConnectionError as exc:
            raise self._crashed(exc) from exc
        except _redis.exceptions.ResponseError as exc:
            if _timed_out(exc):
                raise QueryTimeout(f"falkordb: query timed out server-side after "
                                   f"{timeout_s} s") from exc
            raise FalkorDBError(f"falkordb: {exc}") from exc
        return [tuple(_convert(v) for v in row) for row in res.result_set]

    # -- sizes ----------------------------------------------------------------------------------
    def memory_info(self) -> dict[str, int]:
        try:
            return self._redis().info("memory")
        except _redis.exceptions.ConnectionError as exc:
            raise self._crashed(exc) from exc

    def graph_memory(self) -> dict[str, Any] | None:
        """GRAPH.MEMORY USAGE as a dict (MB figures), None when the server lacks it."""
        try:
            raw = self._redis().execute_command("GRAPH.MEMORY", "USAGE", GRAPH)
        except _redis.exceptions.ConnectionError as exc:
            raise self._crashed(exc) from exc
        except _redis.exceptions.ResponseError:
            return None
        return {k: v for k, v in zip(raw[::2], raw[1::2]) if not isinstance(v, list)}

    def data_size(self) -> int:
        """Bytes of data the server holds (used_memory_dataset; see the module docstring)."""
        return int(self.memory_info()["used_memory_dataset"])

    def load(self, dataset, scenario: str, progress=None):
        result = super().load(dataset, scenario, progress)
        mem = self.memory_info()
        result.details.update(used_memory=int(mem["used_memory"]),
                              graph_memory_mb=self.graph_memory())
        return result

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                try:
                    client.connection.close()
                except Exception:  # noqa: BLE001 - closing a dead connection must not fail
                    pass
            self._clients.clear()
