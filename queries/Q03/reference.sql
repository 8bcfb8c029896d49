WITH RECURSIVE down(id) AS (
    SELECT dst FROM edges WHERE rel = 'feeds' AND src = $ahu
    UNION
    SELECT e.dst FROM edges e JOIN down d ON e.src = d.id WHERE e.rel = 'feeds'
)
SELECT d.id AS node_id, ip.src AS point_id
FROM down d LEFT JOIN edges ip ON ip.rel = 'isPointOf' AND ip.dst = d.id
