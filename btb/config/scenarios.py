"""Scenarios (DESIGN.md §5): which engine holds the structure, where the timeseries live.

`engine` loads the scenario's structure (and, for pure scenarios, its timeseries); hybrids also
load the timeseries into PostgreSQL (`ts_engine`) and federate (queries/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from btb.errors import unknown_name


@dataclass(frozen=True)
class Scenario:
    name: str
    engine: str
    ts_engine: str | None  # None: timeseries live in `engine` itself
    description: str

    @property
    def hybrid(self) -> bool:
        return self.ts_engine is not None


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("P1", "postgres", None, "relational tables + timeseries table"),
    Scenario("P2", "postgres", None, "JSONB documents + timeseries table"),
    Scenario("M1", "memgraph", None, "property graph + ArchiveDay nodes"),
    Scenario("M2", "memgraph", "postgres", "property graph + TimescaleDB (federated)"),
    Scenario("O1", "oxigraph", None, "Brick RDF + ArchiveDay chunks and daily aggregates"),
    Scenario("O2", "oxigraph", "postgres", "Brick RDF + TimescaleDB (federated)"),
    Scenario("F1", "falkordb", None, "property graph + ArchiveDay nodes"),
    Scenario("F2", "falkordb", "postgres", "property graph + TimescaleDB (federated)"),
)}

# The on-demand export order of seed 000: scenarios sharing the timeseries first.
ORDER = ("P1", "P2", "M2", "O2", "F2", "M1", "O1", "F1")


def get_scenarios(names: list[str]) -> list[Scenario]:
    for n in names:
        if n not in SCENARIOS:
            raise unknown_name("scenario", n, SCENARIOS)
    return [SCENARIOS[n] for n in ORDER if n in names]
