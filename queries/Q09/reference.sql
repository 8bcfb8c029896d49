WITH room_points AS (
    SELECT ip.src AS point_id FROM edges ip WHERE ip.rel = 'isPointOf' AND ip.dst = $room
    UNION
    SELECT ip.src FROM edges loc
    JOIN edges ip ON ip.rel = 'isPointOf' AND ip.dst = loc.src
    WHERE loc.rel = 'hasLocation' AND loc.dst = $room
)
SELECT t.point_id, max(t.time) AS time, arg_max(t.value, t.time) AS value
FROM ts t JOIN room_points r ON r.point_id = t.point_id
WHERE t.time < $end
GROUP BY t.point_id
