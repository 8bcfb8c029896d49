"""Reference answers computed straight from the Parquet pivot with DuckDB.

`queries/Qnn/reference.sql` is written against the views below, independently of any engine's
schema, so an engine's answer is checked against the data itself, not against another engine.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from btb.workload import catalog
from btb.workload.answers import canonical

VIEWS = """
CREATE VIEW nodes AS SELECT * FROM read_parquet('{ds}/nodes.parquet');
CREATE VIEW points AS SELECT * FROM read_parquet('{ds}/points.parquet');
CREATE VIEW edges AS SELECT * FROM read_parquet('{ds}/edges.parquet');
CREATE VIEW classes AS SELECT * FROM read_parquet('{ds}/classes.parquet');
CREATE VIEW ts AS SELECT point_id, time, value
    FROM read_parquet('{ds}/timeseries/*/*.parquet', hive_partitioning = false);
CREATE TABLE class_anc AS
    WITH RECURSIVE a(class, ancestor) AS (
        SELECT class, class FROM classes
        UNION ALL
        SELECT a.class, c.parent FROM a JOIN classes c ON c.class = a.ancestor
        WHERE c.parent IS NOT NULL)
    SELECT * FROM a;
"""


class Reference:
    """One DuckDB connection over a dataset; answers are canonical row lists."""

    def __init__(self, dataset: Path):
        self.dataset = Path(dataset).resolve()
        self.con = duckdb.connect(":memory:")
        # the dataset path is ours (a directory we generated), not user query input; DuckDB
        # cannot bind a parameter in read_parquet's file argument inside a view definition
        for stmt in VIEWS.format(ds=str(self.dataset).replace("'", "''")).split(";"):
            if stmt.strip():
                self.con.execute(stmt)

    def rows(self, qid: str, params: dict) -> list[tuple]:
        q = catalog.get(qid)
        _, sql = q.text(("reference",))
        return self.con.execute(sql, params).fetchall()

    def answer(self, qid: str, params: dict) -> list[tuple]:
        return canonical(self.rows(qid, params))

    def close(self) -> None:
        self.con.close()
