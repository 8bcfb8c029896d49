"""Results: the result schema, atomic per-cell JSON files, validation (later: aggregation)."""
