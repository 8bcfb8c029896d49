SELECT m.building_id, date_trunc('day', t.time) AS day, sum(t.value * 0.25) AS kwh
FROM nodes m
JOIN class_ancestor mc ON mc.class = m.class AND mc.ancestor = 'Building_Electrical_Meter'
JOIN nodes p ON p.props @> jsonb_build_object('isPointOf', jsonb_build_array(m.id))
JOIN class_ancestor pc ON pc.class = p.class AND pc.ancestor = 'Electric_Power_Sensor'
JOIN timeseries t ON t.point_id = p.id
WHERE t.time >= %(start)s AND t.time < %(end)s
GROUP BY m.building_id, date_trunc('day', t.time)
