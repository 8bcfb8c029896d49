"""DDL for the postgres engine: P1 relational, P2 JSONB documents, and the shared `timeseries`.

Layouts (queries/README.md is the logical model; query files rely on these names):

P1, relational, one typed table per kind of thing plus one edge table:
    node(id, class, name, building_id, area_m2, level)      Site/Building/Floor/Room/Zone/Equipment
    point(id, class, name, building_id, parent_id, type, unit, interval_s)
    edge(src, rel, dst)                                      every relation of edges.parquet
  `point.parent_id` is the point's `isPointOf` target, kept denormalised (it is also in `edge`)
  because 1-hop point lookups (Q1, Q9) are the commonest structure access. One edge table with
  `rel` as the leading key column of both directions' indexes behaves like one table per relation
  (an index range per (rel, src) or (rel, dst)) while keeping recursive CTEs (Q3 feeds+, Q6
  hasSubMeter*) to one self-join shape.

P2, document model: one row per node *and* point, the class hierarchy as in P1:
    nodes(id, building_id, class, props jsonb)
  props = the entity's own attributes (name, area_m2, level | type, unit, interval_s; NULLs left
  out) and its *outgoing* relations as id arrays under the Brick relation names, e.g.
  {"name": "B01.VAV001", "feeds": [1000003], "hasLocation": [1000011]}, a point
  {"name": ..., "unit": "degC", "interval_s": 300, "isPointOf": [1000029]}. Relations stay inside
  the documents (no edges table) so P2 measures the document model itself: forward hops read the
  array (`jsonb_array_elements(props->'feeds')`), reverse hops use containment
  (`props @> '{"isPointOf": [id]}'`) served by the GIN jsonb_path_ops index.
  Points are the rows whose class is-a Point (class_ancestor), as everywhere else.

Both: brick_class(class, parent, category) = classes.parquet, and the closure
    class_ancestor(class, ancestor, depth)     one row per (class, each ancestor incl. itself)
  so "is-a C" is `JOIN class_ancestor ca ON ca.class = x.class AND ca.ancestor = 'C'`.

timeseries(point_id int, time timestamp, value double precision), naive UTC: a TimescaleDB
hypertable with 1-day chunks when the extension can be created, else native range partitioning
with one partition `timeseries_YYYYMMDD` per dataset date (created at load from the dataset's
date=... directories). Its unique index (point_id, time) is built after the COPY (one sorted
build instead of per-row maintenance); it serves every per-point time-window query (Q7-Q13) and
rejects duplicate readings.
"""

from __future__ import annotations

import datetime as dt

from psycopg import sql

DROP = """
DROP TABLE IF EXISTS timeseries, edge, point, node, nodes, class_ancestor, brick_class CASCADE;
"""

CLASSES = """
CREATE TABLE brick_class (class text PRIMARY KEY, parent text, category text);
CREATE TABLE class_ancestor (
    class text NOT NULL, ancestor text NOT NULL, depth int NOT NULL,
    PRIMARY KEY (ancestor, class));               -- "every class that is-a C"
CREATE UNIQUE INDEX class_ancestor_class ON class_ancestor (class, ancestor);  -- "is x a C?"
"""

P1 = CLASSES + """
CREATE TABLE node (
    id int PRIMARY KEY, class text NOT NULL, name text NOT NULL, building_id int,
    area_m2 double precision, level int);
CREATE TABLE point (
    id int PRIMARY KEY, class text NOT NULL, name text NOT NULL, building_id int NOT NULL,
    parent_id int NOT NULL, type text, unit text, interval_s int);
CREATE TABLE edge (src int NOT NULL, rel text NOT NULL, dst int NOT NULL,
                   PRIMARY KEY (rel, src, dst));  -- forward hops: src -rel-> ?
"""
P1_INDEXES = """
CREATE INDEX edge_reverse ON edge (rel, dst, src);           -- reverse hops: ? -rel-> dst
CREATE INDEX node_class ON node (class, building_id);        -- is-a lookups, Q5 inventory
CREATE INDEX node_building ON node (building_id, class);
CREATE INDEX point_parent ON point (parent_id, class);       -- points of an entity (Q1, Q9)
CREATE INDEX point_class ON point (class, building_id);
"""

P2 = CLASSES + """
CREATE TABLE nodes (id int PRIMARY KEY, building_id int, class text NOT NULL,
                    props jsonb NOT NULL);
"""
P2_INDEXES = """
CREATE INDEX nodes_props ON nodes USING gin (props jsonb_path_ops);  -- @> reverse relations
CREATE INDEX nodes_class ON nodes (class, building_id);
CREATE INDEX nodes_building ON nodes (building_id, class);
"""

# P2 documents are built server-side from staging copies of the three Parquet tables.
P2_STAGE = """
CREATE TEMP TABLE stage_node (id int, class text, name text, building_id int,
    area_m2 double precision, level int) ON COMMIT DROP;
CREATE TEMP TABLE stage_point (id int, class text, name text, building_id int, parent_id int,
    type text, unit text, interval_s int) ON COMMIT DROP;
CREATE TEMP TABLE stage_edge (src int, rel text, dst int) ON COMMIT DROP;
"""
P2_BUILD = """
WITH rels AS (
    SELECT src, jsonb_object_agg(rel, dsts) AS rels
    FROM (SELECT src, rel, jsonb_agg(dst ORDER BY dst) AS dsts
          FROM stage_edge GROUP BY src, rel) g
    GROUP BY src)
INSERT INTO nodes (id, building_id, class, props)
SELECT n.id, n.building_id, n.class,
       jsonb_strip_nulls(jsonb_build_object('name', n.name, 'area_m2', n.area_m2,
                                            'level', n.level)) || coalesce(r.rels, '{}')
FROM stage_node n LEFT JOIN rels r ON r.src = n.id
UNION ALL
SELECT p.id, p.building_id, p.class,
       jsonb_strip_nulls(jsonb_build_object('name', p.name, 'type', p.type, 'unit', p.unit,
                                            'interval_s', p.interval_s)) || coalesce(r.rels, '{}')
FROM stage_point p LEFT JOIN rels r ON r.src = p.id;
"""

# Column lists of the COPY targets, in Parquet column order.
NODE_COLS = ("id", "class", "name", "building_id", "area_m2", "level")
POINT_COLS = ("id", "class", "name", "building_id", "parent_id", "type", "unit", "interval_s")
EDGE_COLS = ("src", "rel", "dst")
TARGETS = {"P1": {"nodes": "node", "points": "point", "edges": "edge"},
           "P2": {"nodes": "stage_node", "points": "stage_point", "edges": "stage_edge"}}
COLUMNS = {"nodes": NODE_COLS, "points": POINT_COLS, "edges": EDGE_COLS}

TS_COLUMNS = "point_id int NOT NULL, time timestamp NOT NULL, value double precision NOT NULL"
TS_HYPERTABLE = f"""
CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE TABLE timeseries ({TS_COLUMNS});
SELECT create_hypertable('timeseries', 'time', chunk_time_interval => interval '1 day',
                         create_default_indexes => false);
"""
TS_PARTITIONED = f"CREATE TABLE timeseries ({TS_COLUMNS}) PARTITION BY RANGE (time);"
TS_INDEX = "CREATE UNIQUE INDEX timeseries_point_time ON timeseries (point_id, time);"

# Counts compared with fingerprint.json row_counts after a load.
COUNTS = {
    "P1": {"nodes": "SELECT count(*) FROM node", "points": "SELECT count(*) FROM point",
           "edges": "SELECT count(*) FROM edge", "classes": "SELECT count(*) FROM brick_class",
           "timeseries": "SELECT count(*) FROM timeseries"},
    "P2": {"nodes": "SELECT count(*) FROM nodes n WHERE NOT EXISTS (SELECT 1 FROM class_ancestor"
                    " ca WHERE ca.class = n.class AND ca.ancestor = 'Point')",
           "points": "SELECT count(*) FROM nodes n JOIN class_ancestor ca ON ca.class = n.class"
                     " AND ca.ancestor = 'Point'",
           "edges": "SELECT coalesce(sum(jsonb_array_length(n.props -> r.rel)), 0)::bigint"
                    " FROM nodes n CROSS JOIN unnest(%(rels)s::text[]) AS r(rel)"
                    " WHERE n.props ? r.rel",
           "classes": "SELECT count(*) FROM brick_class",
           "timeseries": "SELECT count(*) FROM timeseries"},
    "TS": {"timeseries": "SELECT count(*) FROM timeseries"},
}


def partition_ddl(day: dt.date) -> tuple[str, sql.Composed]:
    """(partition name, CREATE TABLE ... PARTITION OF) for one dataset date."""
    name = f"timeseries_{day:%Y%m%d}"
    ddl = sql.SQL("CREATE TABLE {} PARTITION OF timeseries FOR VALUES FROM ({}) TO ({})").format(
        sql.Identifier(name), sql.Literal(day.isoformat()),
        sql.Literal((day + dt.timedelta(days=1)).isoformat()))
    return name, ddl


def ancestor_rows(classes: list[dict]) -> list[tuple[str, str, int]]:
    """(class, ancestor, depth) for every class and each of its ancestors, itself at depth 0."""
    parent = {r["class"]: r["parent"] for r in classes}
    rows = []
    for cls in parent:
        c, depth = cls, 0
        while c is not None:
            if c not in parent or depth > len(parent):
                raise ValueError(f"classes.parquet: broken class tree at {cls!r} -> {c!r}")
            rows.append((cls, c, depth))
            c, depth = parent[c], depth + 1
    return rows
