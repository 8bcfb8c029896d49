WITH alarm_floor AS (
    SELECT p.id AS point_id, coalesce(fl.id, up.src) AS floor_id
    FROM point p
    JOIN class_ancestor pc ON pc.class = p.class AND pc.ancestor = 'Alarm'
    JOIN edge loc ON loc.rel = 'hasLocation' AND loc.src = p.parent_id
    LEFT JOIN node fl ON fl.id = loc.dst AND fl.class = 'Floor'
    LEFT JOIN edge up ON fl.id IS NULL AND up.rel = 'hasPart' AND up.dst = loc.dst
         AND EXISTS (SELECT 1 FROM node f WHERE f.id = up.src AND f.class = 'Floor')
)
SELECT a.floor_id, count(DISTINCT a.point_id)
FROM alarm_floor a
WHERE EXISTS (SELECT 1 FROM timeseries t
              WHERE t.point_id = a.point_id AND t.value = 1
                AND t.time >= %(start)s AND t.time < %(end)s)
GROUP BY a.floor_id
