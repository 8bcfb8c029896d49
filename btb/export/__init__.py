"""Per-format writers and streams from the Parquet pivot: PostgreSQL CSV, Cypher batches/CSV,
N-Triples (Brick), ArchiveDay chunks. Used by engine loaders and by `btb export`."""
