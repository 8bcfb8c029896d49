"""Oxigraph engine (O1: Brick RDF + ArchiveDay chunks; O2: Brick RDF, timeseries in PostgreSQL).

Everything goes through Oxigraph's HTTP API with the standard library (http.client):

- load: the N-Triples streams of `btb.export.rdf` are POSTed as chunked request bodies to
  `/store?default&no_transaction` (Graph Store protocol; `no_transaction` makes the server use
  its bulk loader, the same code as the offline `oxigraph load`), nothing written to disk on
  the way: the structure in one request and the ArchiveDays (O1) in up to `load_workers` more
  at once, partition files dealt round-robin (the server parses each request in its own
  thread). Then `SELECT (COUNT(*) AS ?n) {?s ?p ?o}` must equal `export.rdf.count_triples`.
  Method `http-transaction` (one plain POST: one transaction, buffered in the server's memory
  until commit, and a store 2-3x larger right after) is kept for comparison.
  Measured on this dev box (2 cores, oxigraph 0.5.13; median of 3 runs, small-1w 2 runs):

  seconds (k triples/s)  http, 2 workers  http-transaction  offline stdin  offline file*
  small-2d O1 151,489 t  0.79 (192)       1.37 (111)        1.11 (136)     0.73 (208) 1.16
  small-2d O2  40,697 t  0.16 (254)       0.24 (170)        0.19 (214)     0.17 (239) 0.19
  small-1w O1 428,469 t  2.2  (190)       5.0  (85)         3.6  (119)     2.3  (183) 3.9
  (*`oxigraph load --file`: the load alone, then with writing the file first.)

  The offline loader (server stopped) is no faster than the parallel HTTP streams, so loads
  stay on HTTP and the server is never stopped between start and queries.

- execute: POST `/query` (`application/sparql-query`, results as SPARQL JSON). Parameters are
  bound with a VALUES block of typed RDF terms built by pyoxigraph (which escapes), never by
  substituting values into the query text (see `bind_values` for the exact convention). Result
  terms become Python values: xsd integer types -> int, xsd:double/float/decimal -> float,
  xsd:dateTime -> naive UTC datetime, xsd:date -> date, xsd:boolean -> bool, IRIs -> str
  (the full IRI), other literals -> their lexical str, unbound -> None.

- timeouts: a client-side deadline over the whole request (socket timeout recomputed before
  every read) raises QueryTimeout; the server's own `--timeout-s` (launcher option
  `query_timeout_s`) cancels the evaluation server-side, reported as QueryTimeout as well.
  Without it a query abandoned by the client keeps a server thread busy until it ends, and
  even with it Oxigraph checks its cancellation token only between solutions of some operators
  (a 3-way cross join stopped after 1 s here, a 4-way one ran on past 30 s): a cell after a
  timeout may share the CPU with the abandoned query; a restart is the only sure stop.
  A refused or reset connection (server gone) raises EngineCrashed; a kept-alive connection
  the server closed while idle is retried once on a new one first.

- data_size: bytes of the RocksDB store directory (files' sizes), from the endpoint's
  `extra["store_dir"]` set by the launcher; -1 when the endpoint does not say where it is.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from btb.engines.base import EngineCrashed, LoadResult, QueryTimeout
from btb.export import rdf
from btb.runtime.base import Endpoint

SCENARIOS = ("O1", "O2")
LOAD_METHODS = {"http": "/store?default&no_transaction", "http-transaction": "/store?default"}
XSD = rdf.XSD
PARAMS_MARK = "# btb:params"
_JSON = "application/sparql-results+json"
_CRASH = (ConnectionError, http.client.RemoteDisconnected, http.client.IncompleteRead)
_INT_TYPES = {XSD + t for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger",
                                "positiveInteger", "negativeInteger", "nonPositiveInteger",
                                "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte")}
_FLOAT_TYPES = {XSD + t for t in ("double", "float", "decimal")}


class OxigraphError(RuntimeError):
    """The server refused a request (bad query, bad data): HTTP status and its message."""


# -- parameter binding --------------------------------------------------------------------------
def term(value: Any) -> str:
    """One parameter value as a SPARQL term (pyoxigraph serialises and escapes)."""
    if value is None:
        return "UNDEF"
    if isinstance(value, (ox.NamedNode, ox.Literal)):
        return str(value)
    if isinstance(value, bool):
        return str(ox.Literal(value))
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        value = value.item()
    if isinstance(value, int):
        return str(ox.Literal(value))  # xsd:integer
    if isinstance(value, float):
        return str(ox.Literal(value))  # xsd:double
    if isinstance(value, Decimal):
        return str(ox.Literal(str(value), datatype=ox.NamedNode(XSD + "decimal")))
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return str(ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "dateTime")))
    if isinstance(value, dt.date):
        return str(ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "date")))
    if isinstance(value, str):
        return str(ox.Literal(value))
    raise TypeError(f"cannot bind a {type(value).__name__} as a SPARQL parameter: {value!r}")


def _flatten(params: dict[str, Any] | None) -> dict[str, Any]:
    """Nested dicts (time windows) become `<name>_<key>` variables, e.g. ?day_start."""
    out: dict[str, Any] = {}
    for k, v in (params or {}).items():
        if isinstance(v, dict):
            out.update({f"{k}_{sub}": x for sub, x in v.items()})
        else:
            out[k] = v
    return out


_IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
_VAR = re.compile(r"[?$]([A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)")
_WORD = re.compile(r"[A-Za-z]+")


def _scan(query: str) -> Iterator[tuple[str, int, int]]:
    """Significant tokens of a SPARQL text, skipping comments, strings and IRIs:
    ("{", i, i+1), ("}", ...), ("var", start, end), ("word", start, end)."""
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c == "#":
            j = query.find("\n", i)
            i = n if j < 0 else j + 1
        elif c in "\"'":
            quote = c * 3 if query.startswith(c * 3, i) else c
            j = i + len(quote)
            while j < n and not query.startswith(quote, j):
                j += 2 if query[j] == "\\" else 1
            i = j + len(quote)
        elif c == "<" and (m := _IRIREF.match(query, i)):
            i = m.end()
        elif c in "?$" and (m := _VAR.match(query, i)):
            yield "var", m.start(), m.end()
            i = m.end()
        elif c in "{}":
            yield c, i, i + 1
            i += 1
        elif (m := _WORD.match(query, i)) and (i == 0 or query[i - 1] not in ":_"):
            yield "word", m.start(), m.end()
            i = m.end()
        else:
            i += 1


def _where_brace(query: str, tokens: list[tuple[str, int, int]]) -> int:
    """Index just after the `{` opening the outermost query's WHERE clause."""
    form = next((query[s:e].upper() for k, s, e in tokens if k == "word" and query[s:e].upper()
                 in ("SELECT", "ASK", "DESCRIBE", "CONSTRUCT")), None)
    braces = [(k, s) for k, s, _ in tokens if k in "{}"]
    if not braces or braces[0][0] != "{":
        raise ValueError("cannot bind parameters: the query has no WHERE group { ... }")
    if form == "CONSTRUCT":  # skip the template `CONSTRUCT { ... }` unless `CONSTRUCT WHERE`
        where = next((s for k, s, e in tokens if k == "word" and query[s:e].upper() == "WHERE"),
                     None)
        if where is not None:
            return next(s for k, s in braces if k == "{" and s > where) + 1
    return braces[0][1] + 1


def bind_values(query: str, params: dict[str, Any] | None) -> str:
    """The query with its parameters bound by VALUES blocks of typed terms.

    Convention: a parameter `name` binds the SPARQL variable `?name` (or `$name`); a nested
    dict binds `?name_key` (e.g. {"day": {"start": ...}} -> ?day_start). Only variables the
    query uses are bound. Each becomes its own block, `VALUES ?name { term }`; a list binds
    one row per element (`VALUES ?points { t1 t2 ... }`, an empty list matches nothing).
    The blocks go at every line that is exactly `# btb:params` (a comment, so the file stays
    valid SPARQL; put it inside the group, e.g. a subquery, where the binding must apply),
    otherwise right after the `{` opening the outermost WHERE clause, so they join with the
    whole top-level group pattern, before any GROUP BY, ORDER BY or LIMIT.
    """
    tokens = list(_scan(query))
    used = {query[s + 1:e] for k, s, e in tokens if k == "var"}
    blocks = []
    for name, value in _flatten(params).items():
        if name not in used:
            continue
        rows = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
        blocks.append(f"VALUES ?{name} {{ {' '.join(term(v) for v in rows)} }}")
    if not blocks:
        return query
    text = "\n".join(blocks)
    lines = query.splitlines(keepends=True)
    if any(line.strip() == PARAMS_MARK for line in lines):
        return "".join(f"{line}{text}\n" if line.strip() == PARAMS_MARK else line
                       for line in lines)
    at = _where_brace(query, tokens)
    return f"{query[:at]}\n{text}\n{query[at:]}"


# -- result conversion --------------------------------------------------------------------------
_FRACTION = re.compile(r"\.(\d+)")


def _datetime(s: str) -> dt.datetime:
    """xsd:dateTime lexical -> naive UTC datetime (Python 3.10's fromisoformat is strict)."""
    s = s.replace("Z", "+00:00") if s.endswith("Z") else s
    s = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], s, count=1)
    v = dt.datetime.fromisoformat(s)
    if v.tzinfo is not None:
        v = v.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return v


def value(binding: dict | None) -> Any:
    """One SPARQL JSON result term as a Python value."""
    if binding is None:
        return None
    kind, lex = binding["type"], binding["value"]
    if kind == "uri":
        return lex
    if kind == "bnode":
        return f"_:{lex}"
    datatype = binding.get("datatype")
    if datatype is None:
        return lex
    if datatype in _INT_TYPES:
        return int(lex)
    if datatype in _FLOAT_TYPES:
        return float(lex)
    if datatype == XSD + "dateTime":
        return _datetime(lex)
    if datatype == XSD + "date":
        return dt.date.fromisoformat(lex[:10] if lex[0] != "-" else lex)
    if datatype == XSD + "boolean":
        return lex in ("true", "1")
    return lex


def rows(results: dict) -> list[tuple]:
    if "boolean" in results:
        return [(bool(results["boolean"]),)]
    names = results["head"]["vars"]
    return [tuple(value(b.get(v)) for v in names) for b in results["results"]["bindings"]]


# -- the engine ---------------------------------------------------------------------------------
class Oxigraph:
    name = "oxigraph"
    languages = ("sparql",)

    def __init__(self, endpoint: Endpoint | None = None, load_method: str = "http",
                 load_workers: int | None = None):
        if load_method not in LOAD_METHODS:
            raise ValueError(f"oxigraph: unknown load method {load_method!r}; "
                             f"valid: {', '.join(LOAD_METHODS)}")
        self.load_method = load_method
        self.load_workers = load_workers or max(1, min(4, os.cpu_count() or 1))
        self.scenario: str | None = None
        self._endpoint: Endpoint | None = None
        self._conn: http.client.HTTPConnection | None = None
        if endpoint is not None:
            self.connect(endpoint)

    # -- HTTP ----------------------------------------------------------------------------------
    def connect(self, endpoint: Endpoint) -> None:
        self.close()
        self._endpoint = endpoint

    @property
    def endpoint(self) -> Endpoint:
        if self._endpoint is None:
            raise RuntimeError("oxigraph engine: call connect(endpoint) first")
        return self._endpoint

    def _new_conn(self, timeout: float | None = None) -> http.client.HTTPConnection:
        e = self.endpoint
        return http.client.HTTPConnection(e.host, e.port, timeout=timeout)

    def _request(self, method: str, path: str, body: Any = None, headers: dict | None = None,
                 timeout_s: float | None = None, reuse: bool = True) -> tuple[int, bytes]:
        """(status, body) of one request, read before the deadline `timeout_s` from now.

        A kept-alive connection the server closed meanwhile is retried once on a new one
        (only for repeatable bodies); a refused or reset connection raises EngineCrashed.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        for attempt in (0, 1):
            fresh = not reuse or self._conn is None
            conn = self._new_conn() if fresh else self._conn
            try:
                conn.timeout = timeout_s
                if conn.sock is not None:
                    conn.sock.settimeout(timeout_s)
                conn.request(method, path, body=body, headers=headers or {},
                             encode_chunked=isinstance(body, Iterator))
                if deadline is not None and conn.sock is not None:
                    conn.sock.settimeout(max(1e-3, deadline - time.monotonic()))
                resp = conn.getresponse()
                data = _read(resp, conn, deadline)
                if reuse:
                    self._conn = conn if not resp.will_close else None
                else:
                    conn.close()
                return resp.status, data
            except BaseException as exc:
                conn.close()  # never reuse a connection left mid-request
                if reuse:
                    self._conn = None
                if isinstance(exc, TimeoutError):  # the server may still be evaluating
                    raise QueryTimeout(f"oxigraph: no answer within {timeout_s} s") from exc
                if not isinstance(exc, _CRASH):
                    raise
                stale = not fresh and attempt == 0 and not isinstance(body, Iterator)
                if stale and not isinstance(exc, ConnectionRefusedError):
                    continue  # the kept-alive connection was closed by the server: retry
                raise EngineCrashed(f"oxigraph at {self.endpoint.host}:{self.endpoint.port}: "
                                    f"connection lost ({type(exc).__name__}: {exc})") from exc
        raise AssertionError("unreachable")

    def _check(self, status: int, data: bytes, what: str) -> bytes:
        if status >= 400:
            msg = data.decode("utf-8", "replace").strip()
            if status == 500 and re.search(r"cancel|timeout|timed out", msg, re.IGNORECASE):
                raise QueryTimeout(f"oxigraph: {what} cancelled by the server: {msg[:200]}")
            raise OxigraphError(f"oxigraph: {what} failed with HTTP {status}: {msg[:2000]}")
        return data

    # -- schema and load -----------------------------------------------------------------------
    def create_schema(self, scenario: str) -> None:
        """Nothing to create (schemaless): clear the default graph."""
        if scenario not in SCENARIOS:
            raise ValueError(f"oxigraph engine: unknown scenario {scenario!r}; "
                             f"valid: {', '.join(SCENARIOS)}")
        self.scenario = scenario
        self._check(*self._request("DELETE", "/store?default"), "clearing the default graph")

    def load(self, dataset: Path, scenario: str, progress=None) -> LoadResult:
        """Stream the dataset's N-Triples (O2 structure, O1 + ArchiveDays) and verify the count.

        `progress(n)` is called with the number of triples of each chunk sent."""
        ds = Path(dataset)
        if scenario != self.scenario:
            self.create_schema(scenario)
        archive = scenario == "O1"
        parts = rdf.count_triples(ds, archive)
        streams = self._streams(ds, archive)
        size = [0]
        lock = threading.Lock()

        def tracked(counts: dict, chunks: Iterator[bytes]) -> Iterator[bytes]:
            done = 0
            for chunk in chunks:  # `counts` already includes this chunk when it is yielded
                now = sum(counts.values())
                with lock:
                    size[0] += len(chunk)
                    if progress is not None:
                        progress(now - done)
                done = now
                yield chunk

        t0 = time.perf_counter()
        self._post_all([tracked(c, s) for c, s in streams])
        seconds = time.perf_counter() - t0
        sent: dict[str, int] = {}
        for counts, _ in streams:
            for k, v in counts.items():
                sent[k] = sent.get(k, 0) + v
        n = self.triple_count()
        details = {"method": self.load_method, "streams": len(streams),
                   "triples_per_s": n / seconds if seconds else 0.0, "bytes": size[0],
                   "mb_per_s": size[0] / 1e6 / seconds if seconds else 0.0,
                   "parts": parts, "sent": sent, "data_size": self.data_size()}
        return LoadResult(seconds, {"triples": n}, {"triples": sum(parts.values())}, details)

    def _streams(self, ds: Path, archive: bool) -> list[tuple[dict, Iterator[bytes]]]:
        """(counts, chunks) per request: `http` sends the structure in one and the ArchiveDays
        in up to `load_workers` more (partition files dealt round-robin), all at once, since
        the server parses each request in its own thread; `http-transaction` one request."""
        if self.load_method == "http-transaction":
            c: dict = {}
            return [(c, rdf.stream(ds, archive, c))]
        c = {}
        out = [(c, rdf.structure_triples(ds, c))]
        files = rdf.partition_files(ds) if archive else []
        n = min(self.load_workers, len(files))
        for i in range(n):
            c = {}
            out.append((c, rdf.archive_triples(ds, c, files[i::n])))
        return out

    def _post_all(self, bodies: list[Iterator[bytes]]) -> None:
        def post(body: Iterator[bytes]) -> None:
            status, data = self._request(
                "POST", LOAD_METHODS[self.load_method], body=body, reuse=False,
                headers={"Content-Type": "application/n-triples"})
            self._check(status, data, "loading N-Triples")

        if len(bodies) == 1:
            post(bodies[0])
            return
        with ThreadPoolExecutor(len(bodies), thread_name_prefix="btb-oxigraph-load") as pool:
            futures = [pool.submit(post, b) for b in bodies]
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]

    def triple_count(self) -> int:
        return int(self.execute("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", None)[0][0])

    # -- queries -------------------------------------------------------------------------------
    def execute(self, query: str, params: dict[str, Any] | None = None,
                timeout_s: float | None = None) -> list[tuple]:
        """Run a SPARQL query with VALUES-bound params; every row fetched and converted."""
        text = bind_values(query, params)
        status, data = self._request(
            "POST", "/query", body=text.encode("utf-8"), timeout_s=timeout_s,
            headers={"Content-Type": "application/sparql-query", "Accept": _JSON})
        self._check(status, data, "query")
        try:
            results = json.loads(data)
        except ValueError as exc:  # the server appends its error to a cut stream
            tail = data[-300:].decode("utf-8", "replace")
            if re.search(r"cancel|timeout", tail, re.IGNORECASE):
                raise QueryTimeout(f"oxigraph: query cancelled by the server: {tail}") from exc
            raise OxigraphError(f"oxigraph: unreadable query results ({exc}): {tail}") from exc
        return rows(results)

    def data_size(self) -> int:
        """Bytes of the store directory; -1 when the endpoint does not name it."""
        store = self.endpoint.extra.get("store_dir")
        if not store or not Path(store).is_dir():
            return -1
        total = 0
        for root, _, files in os.walk(store):
            for f in files:
                try:
                    total += os.stat(os.path.join(root, f)).st_size
                except FileNotFoundError:  # RocksDB removed it meanwhile (compaction)
                    pass
        return total

    def reset_caches(self) -> None:
        """No-op: Oxigraph has no cache an HTTP client can drop (no result or plan cache);
        RocksDB's block cache and the OS page cache survive: a cold run needs a restart."""

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _read(resp: http.client.HTTPResponse, conn: http.client.HTTPConnection,
          deadline: float | None) -> bytes:
    """The whole response body, the socket timeout shrunk to the time left before each read."""
    if deadline is None:
        return resp.read()
    parts = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline reached while reading the response")
        if conn.sock is not None:
            conn.sock.settimeout(left)
        part = resp.read1(1 << 20)
        if not part:
            return b"".join(parts)
        parts.append(part)
