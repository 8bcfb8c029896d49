WITH alarm_loc AS (
    SELECT p.id AS point_id, (e.props -> 'hasLocation' ->> 0)::int AS loc
    FROM nodes p
    JOIN class_ancestor pc ON pc.class = p.class AND pc.ancestor = 'Alarm'
    JOIN nodes e ON e.id = (p.props -> 'isPointOf' ->> 0)::int
), alarm_floor AS (
    SELECT a.point_id, coalesce(fl.id, up.id) AS floor_id
    FROM alarm_loc a
    LEFT JOIN nodes fl ON fl.id = a.loc AND fl.class = 'Floor'
    LEFT JOIN nodes up ON fl.id IS NULL AND up.class = 'Floor'
         AND up.props @> jsonb_build_object('hasPart', jsonb_build_array(a.loc))
)
SELECT a.floor_id, count(DISTINCT a.point_id)
FROM alarm_floor a
WHERE EXISTS (SELECT 1 FROM timeseries t
              WHERE t.point_id = a.point_id AND t.value = 1
                AND t.time >= %(start)s AND t.time < %(end)s)
GROUP BY a.floor_id
