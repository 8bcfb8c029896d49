"""The Engine protocol: what the one run loop needs from every engine module.

connect → create_schema → load → execute(query, params) → rows → data_size → reset_caches →
close. The run loop never branches on an engine's name; differences live in the engine module
and in per-language query files (`queries/Qnn/<language>`). Parameters are always bound by the
driver (`%(name)s` / `$name` / SPARQL VALUES bindings), never formatted into query text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from btb.runtime.base import Endpoint


@dataclass
class LoadResult:
    seconds: float
    counts: dict[str, int]  # what was loaded, e.g. {"timeseries": n, "nodes": n, "triples": n}
    expected: dict[str, int]  # the same keys, from the dataset's fingerprint
    details: dict[str, Any] = field(default_factory=dict)  # e.g. {"ts_layout": "partitioned"}

    @property
    def verified(self) -> bool:
        return all(self.counts.get(k) == v for k, v in self.expected.items())


class Engine(Protocol):
    name: str  # registry key = module name = results folder name
    languages: tuple[str, ...]  # query file stems it reads, most specific first
    # optional: `languages_for(scenario)` when the stems depend on the scenario (postgres:
    # P1 -> sql, P2 -> jsonb, TS -> ts); the run loop prefers it to `languages`

    def connect(self, endpoint: Endpoint) -> None: ...

    def create_schema(self, scenario: str) -> None: ...

    def load(self, dataset: Path, scenario: str, progress=None) -> LoadResult: ...

    def execute(self, query: str, params: dict[str, Any], timeout_s: float | None = None
                ) -> list[tuple]: ...

    def data_size(self) -> int: ...

    def reset_caches(self) -> None: ...

    def close(self) -> None: ...


class QueryTimeout(Exception):
    """The query ran past its timeout (server-side where supported, else client-side)."""


class EngineCrashed(Exception):
    """The server died or the connection broke mid-query."""
