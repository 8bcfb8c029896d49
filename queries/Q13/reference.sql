SELECT isodow(t.time) AS weekday, hour(t.time) AS hour, avg(t.value) AS mean_kw
FROM nodes m
JOIN class_anc mc ON mc.class = m.class AND mc.ancestor = 'Building_Electrical_Meter'
JOIN points p ON p.parent_id = m.id
JOIN class_anc pc ON pc.class = p.class AND pc.ancestor = 'Electric_Power_Sensor'
JOIN ts t ON t.point_id = p.id
GROUP BY isodow(t.time), hour(t.time)
