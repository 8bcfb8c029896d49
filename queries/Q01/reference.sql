-- DuckDB over the Parquet pivot (views: nodes, points, edges, classes, class_anc, ts)
SELECT p.id AS point_id, p.class
FROM edges e JOIN points p ON p.id = e.src
WHERE e.rel = 'isPointOf' AND e.dst = $equipment
