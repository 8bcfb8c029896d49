WITH vav_points AS (
    SELECT f.dst AS zone_id, p.parent_id AS vav_id, p.id AS point_id, pc.ancestor AS role
    FROM edges f
    JOIN nodes z ON z.id = f.dst AND z.class = 'HVAC_Zone'
    JOIN points p ON p.parent_id = f.src
    JOIN class_anc pc ON pc.class = p.class AND pc.ancestor IN (
        'Zone_Air_Temperature_Sensor', 'Zone_Air_Heating_Temperature_Setpoint',
        'Zone_Air_Cooling_Temperature_Setpoint')
    WHERE f.rel = 'feeds'
), bands AS (
    SELECT v.vav_id, CAST(t.time AS DATE) AS day,
           max(t.value) FILTER (WHERE v.role = 'Zone_Air_Heating_Temperature_Setpoint') AS lo,
           min(t.value) FILTER (WHERE v.role = 'Zone_Air_Cooling_Temperature_Setpoint') AS hi
    FROM vav_points v JOIN ts t ON t.point_id = v.point_id
    WHERE v.role <> 'Zone_Air_Temperature_Sensor'
    GROUP BY v.vav_id, CAST(t.time AS DATE)
)
SELECT v.zone_id, 5 * count(*) AS minutes
FROM vav_points v
JOIN ts t ON t.point_id = v.point_id
JOIN bands b ON b.vav_id = v.vav_id AND b.day = CAST(t.time AS DATE)
WHERE v.role = 'Zone_Air_Temperature_Sensor'
  AND t.time >= $start AND t.time < $end
  AND isodow(t.time) <= 5
  AND hour(t.time) >= 6 AND hour(t.time) < 19
  AND (t.value < b.lo OR t.value > b.hi)
GROUP BY v.zone_id
