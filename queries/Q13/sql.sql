SELECT extract(isodow FROM t.time)::int AS weekday, extract(hour FROM t.time)::int AS hour,
       avg(t.value) AS mean_kw
FROM node m
JOIN class_ancestor mc ON mc.class = m.class AND mc.ancestor = 'Building_Electrical_Meter'
JOIN point p ON p.parent_id = m.id
JOIN class_ancestor pc ON pc.class = p.class AND pc.ancestor = 'Electric_Power_Sensor'
JOIN timeseries t ON t.point_id = p.id
GROUP BY 1, 2
