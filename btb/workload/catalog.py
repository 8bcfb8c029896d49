"""The query catalogue: `queries/Qnn/{meta.yml, <language files>}` read as plain files.

Query ids are `Q1`..`Q13` everywhere (CLI, results); directories are zero-padded (`Q01`) so they
sort. `text(qid, languages)` returns the first file that exists among the engine's languages,
most specific first (e.g. ("falkordb", "cypher") → falkordb.cypher, else cypher.cypher).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from btb.errors import BtbError, unknown_name

EXTENSIONS = {"sql": ".sql", "jsonb": ".sql", "ts": ".sql", "reference": ".sql",
              "cypher": ".cypher", "falkordb": ".cypher", "memgraph": ".cypher",
              "sparql": ".rq"}


def queries_dir() -> Path:
    """$BTB_QUERIES, else the repository's queries/ next to the package."""
    env = os.environ.get("BTB_QUERIES")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "queries"


@dataclass(frozen=True)
class Query:
    id: str
    kind: str  # structure | timeseries | hybrid
    title: str
    params: dict[str, str]  # parameter name -> path in params.json ("window.start", ...)
    columns: tuple[str, ...]
    directory: Path
    fed_columns: tuple[str, ...] = ()  # hybrid graph part: point_id + keys (queries/README.md)
    dechunk_keys: tuple[str, ...] = ()  # O1 dechunk rows: key columns after the chunk columns

    def path(self, language: str, suffix: str = "") -> Path:
        return self.directory / f"{language}{suffix}{EXTENSIONS[language]}"

    def has(self, language: str, suffix: str = "") -> bool:
        return self.path(language, suffix).is_file()

    def text(self, languages: tuple[str, ...], suffix: str = "") -> tuple[str, str]:
        """(language, text) of the first existing file; BtbError naming what is missing."""
        for lang in languages:
            p = self.path(lang, suffix)
            if p.is_file():
                return lang, p.read_text()
        tried = ", ".join(self.path(lang, suffix).name for lang in languages)
        raise BtbError(f"{self.id}: no query file for languages {languages} in "
                       f"{self.directory} (looked for {tried})")


@cache
def all_ids() -> tuple[str, ...]:
    ids = [f"Q{int(p.name[1:])}" for p in queries_dir().glob("Q[0-9][0-9]") if p.is_dir()]
    return tuple(sorted(ids, key=lambda q: int(q[1:])))


def get(qid: str) -> Query:
    if qid not in all_ids():
        raise unknown_name("query", qid, all_ids())
    d = queries_dir() / f"Q{int(qid[1:]):02d}"
    meta = yaml.safe_load((d / "meta.yml").read_text())
    return Query(qid, meta["kind"], meta["title"], dict(meta.get("params") or {}),
                 tuple(meta["columns"]), d, tuple(meta.get("fed_columns") or ()),
                 tuple(meta.get("dechunk_keys") or ()))


def parse_selection(spec: list[str]) -> list[str]:
    """`Q1-Q13`, `Q2 Q7`, `Q1,Q3` → ids in catalogue order; unknown ids name the valid ones."""
    chosen: set[str] = set()
    valid = all_ids()
    for item in (s for part in spec for s in part.split(",") if s):
        m = re.fullmatch(r"Q(\d+)-Q(\d+)", item)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            rng = [f"Q{i}" for i in range(lo, hi + 1)]
            bad = [q for q in rng if q not in valid]
            if lo > hi or bad:
                raise BtbError(f"bad query range {item!r}; valid queries: {', '.join(valid)}")
            chosen.update(rng)
        elif item in valid:
            chosen.add(item)
        else:
            raise unknown_name("query", item, valid)
    return [q for q in valid if q in chosen]


def bind(query: Query, params: dict, variant: str) -> dict:
    """Typed parameter values for `query` from a dataset's params.json and a variant.

    Timestamps become naive datetimes (UTC), ids ints, id lists lists of ints.
    """
    scope = dict(params["variants"][variant], period=params["period"])
    out = {}
    for name, path in query.params.items():
        value = scope
        for key in path.split("."):
            value = value[key]
        out[name] = _typed(value)
    return out


def _typed(value):
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", value):
        return dt.datetime.fromisoformat(value)
    if isinstance(value, list):
        return [int(v) for v in value]
    return value
