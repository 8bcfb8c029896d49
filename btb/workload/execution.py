"""How one query runs in one scenario: direct, dechunk (O1) or federate (hybrids).

The mode follows from the scenario and the query files (queries/README.md), never from an
engine's name. Engines are duck-typed here (`execute(text, params, timeout_s)`; the timeseries
side of a federation also `fill_temp_table(name, columns, rows)`), so the workload layer does
not import engine modules.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field

from btb.workload.catalog import Query
from btb.workload.finish import FINISH

# Above this many graph rows, ids go to PostgreSQL through a COPY-filled temp table instead of
# bound arrays. bench/federation.py on small-2d (2 cores): arrays faster up to 1,000 ids
# (24 vs 37 ms), the temp table from 3,000 (160 vs 170 ms) onwards.
FED_THRESHOLD = 2000
FED_TABLE = "_btb_fed"
_DECHUNK_MARK = "# btb: dechunk"


@dataclass
class Plan:
    """What to run for (query, scenario): the mode and the query texts."""

    query: Query
    mode: str  # direct | dechunk | federate
    text: str  # direct/dechunk: the engine's query; federate: ts.sql
    language: str
    graph_text: str | None = None  # federate: the graph part (None for Q7/Q8)


@dataclass
class Outcome:
    rows: list
    split_ms: dict[str, float] = field(default_factory=dict)  # federate: graph/transfer/ts/client


def plan(query: Query, languages: tuple[str, ...], hybrid: bool,
         graph_languages: tuple[str, ...] = ()) -> Plan:
    """Choose the mode; raises BtbError (from Query.text) when a needed file is missing."""
    if hybrid and query.kind != "structure":
        graph_text = None
        if query.fed_columns:
            _, graph_text = query.text(graph_languages, ".hybrid")
        _, ts_text = query.text(("ts",))
        return Plan(query, "federate", ts_text, "ts", graph_text)
    lang, text = query.text(languages)
    mode = "dechunk" if text.lstrip().startswith(_DECHUNK_MARK) else "direct"
    return Plan(query, mode, text, lang)


def run(p: Plan, engine, params: dict, timeout_s: float | None, ts_engine=None,
        fed_threshold: int = FED_THRESHOLD) -> Outcome:
    if p.mode == "direct":
        return Outcome(engine.execute(p.text, params, timeout_s))
    if p.mode == "dechunk":
        rows = engine.execute(p.text, params, timeout_s)
        return Outcome(FINISH[p.query.id](list(dechunk(rows, params)), params))
    return _federate(p, engine, ts_engine, params, timeout_s, fed_threshold)


def dechunk(rows, params: dict):
    """(point_id, date, minutes, values, *keys) chunk rows -> readings inside [start, end)."""
    start, end = params.get("start"), params.get("end")
    for pid, date, minutes, values, *keys in rows:
        day = dt.datetime.combine(date if isinstance(date, dt.date)
                                  else dt.date.fromisoformat(str(date)), dt.time())
        for m, v in zip(_numbers(minutes, int), _numbers(values, float)):
            t = day + dt.timedelta(minutes=m)
            if (start is None or t >= start) and (end is None or t < end):
                yield (pid, t, v, *keys)


def _numbers(value, kind):
    if isinstance(value, str):
        return [kind(x) for x in value.split()]
    return [kind(x) for x in value]


def _federate(p: Plan, graph, ts, params: dict, timeout_s: float | None,
              threshold: int) -> Outcome:
    split = {"graph": 0.0, "transfer": 0.0, "timeseries": 0.0, "client": 0.0}
    ts_params = dict(params)
    sql = p.text
    if p.graph_text is not None:
        t0 = time.perf_counter()
        fed_rows = graph.execute(p.graph_text, params, timeout_s)
        t1 = time.perf_counter()
        cols = p.query.fed_columns
        types = [_sql_type([r[i] for r in fed_rows]) for i in range(len(cols))]
        if len(fed_rows) <= threshold:
            for i, c in enumerate(cols):
                ts_params[f"fed_{c}"] = [r[i] for r in fed_rows]
            source = "SELECT * FROM unnest({})".format(", ".join(
                f"%(fed_{c})s::{t}[]" for c, t in zip(cols, types)))
        else:
            ts.fill_temp_table(FED_TABLE, list(zip(cols, types)), fed_rows)
            source = f"SELECT * FROM {FED_TABLE}"
        sql = _with_fed(p.text, f"fed({', '.join(cols)}) AS ({source})")
        t2 = time.perf_counter()
        split["graph"], split["transfer"] = (t1 - t0) * 1e3, (t2 - t1) * 1e3
    t2 = time.perf_counter()
    rows = ts.execute(sql, ts_params, timeout_s)
    split["timeseries"] = (time.perf_counter() - t2) * 1e3
    return Outcome(rows, split)


def _sql_type(values) -> str:
    return "bigint" if all(isinstance(v, int) for v in values) else "text"


def _with_fed(sql: str, cte: str) -> str:
    """Prepend the `fed` CTE (identifiers from meta.yml only; values stay bound parameters)."""
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    m = re.match(r"\s*WITH\s+(RECURSIVE\s+)?", body, re.IGNORECASE)
    if m:
        return f"WITH {m.group(1) or ''}{cte},\n{body[m.end():]}"
    return f"WITH {cte}\n{body}"
