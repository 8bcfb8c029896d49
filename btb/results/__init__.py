"""Results: the result schema and atomic per-cell JSON files (store), RAM gradient analysis, and
the report built from them: load (read + validate), sections (tables as data), figures
(matplotlib), tidy (CSV/Parquet), html (+ templates/), assemble (puts them together)."""
