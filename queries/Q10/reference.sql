SELECT m.building_id, date_trunc('day', t.time) AS day, sum(t.value * 0.25) AS kwh
FROM nodes m
JOIN class_anc mc ON mc.class = m.class AND mc.ancestor = 'Building_Electrical_Meter'
JOIN points p ON p.parent_id = m.id
JOIN class_anc pc ON pc.class = p.class AND pc.ancestor = 'Electric_Power_Sensor'
JOIN ts t ON t.point_id = p.id
WHERE t.time >= $start AND t.time < $end
GROUP BY m.building_id, date_trunc('day', t.time)
