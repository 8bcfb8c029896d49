WITH room_points AS (
    SELECT p.id FROM point p WHERE p.parent_id = %(room)s
    UNION
    SELECT p.id FROM edge l JOIN point p ON p.parent_id = l.src
    WHERE l.rel = 'hasLocation' AND l.dst = %(room)s
)
SELECT rp.id, last.time, last.value
FROM room_points rp
CROSS JOIN LATERAL (
    SELECT t.time, t.value FROM timeseries t
    WHERE t.point_id = rp.id AND t.time < %(end)s
    ORDER BY t.time DESC LIMIT 1
) AS last
