WITH alarm_floor AS (
    SELECT p.id AS point_id, COALESCE(fl.id, up.src) AS floor_id
    FROM points p
    JOIN class_anc pc ON pc.class = p.class AND pc.ancestor = 'Alarm'
    JOIN edges loc ON loc.rel = 'hasLocation' AND loc.src = p.parent_id
    LEFT JOIN nodes fl ON fl.id = loc.dst AND fl.class = 'Floor'
    LEFT JOIN (SELECT e.src, e.dst FROM edges e JOIN nodes f ON f.id = e.src
               WHERE e.rel = 'hasPart' AND f.class = 'Floor') up
           ON up.dst = loc.dst AND fl.id IS NULL
)
SELECT a.floor_id, count(DISTINCT a.point_id) AS n_alarms
FROM alarm_floor a JOIN ts t ON t.point_id = a.point_id
WHERE t.time >= $start AND t.time < $end AND t.value = 1
GROUP BY a.floor_id
