"""Datasets: the Brick-aligned building model, the generator and simulation, the Parquet store
(atomic writes, fingerprints, catalog, push/pull, subset extraction) and query parameters."""
