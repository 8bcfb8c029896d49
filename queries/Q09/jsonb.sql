WITH room_points AS (
    SELECT p.id FROM nodes p
    WHERE p.props @> jsonb_build_object('isPointOf', jsonb_build_array(%(room)s::int))
    UNION
    SELECT p.id FROM nodes e
    JOIN nodes p ON p.props @> jsonb_build_object('isPointOf', jsonb_build_array(e.id))
    WHERE e.props @> jsonb_build_object('hasLocation', jsonb_build_array(%(room)s::int))
)
SELECT rp.id, last.time, last.value
FROM room_points rp
CROSS JOIN LATERAL (
    SELECT t.time, t.value FROM timeseries t
    WHERE t.point_id = rp.id AND t.time < %(end)s
    ORDER BY t.time DESC LIMIT 1
) AS last
