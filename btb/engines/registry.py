"""Every engine, listed once: registry name -> "module:Class". The name is also the module name,
the results folder name and the query-file stem of engine-specific overrides."""

from __future__ import annotations

import importlib

from btb.errors import unknown_name

ENGINES = {
    "postgres": "btb.engines.postgres:Postgres",
    "oxigraph": "btb.engines.oxigraph:Oxigraph",
    "falkordb": "btb.engines.falkordb:FalkorDB",
    "memgraph": "btb.engines.memgraph:Memgraph",
}


def engine_class(name: str):
    if name not in ENGINES:
        raise unknown_name("engine", name, ENGINES)
    module, cls = ENGINES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def create(name: str):
    return engine_class(name)()
