WITH fed AS (
    SELECT p.id AS point_id, f.dst AS zone_id, f.src AS vav_id,
           CASE pc.ancestor WHEN 'Zone_Air_Temperature_Sensor' THEN 'temp'
                            WHEN 'Zone_Air_Heating_Temperature_Setpoint' THEN 'heat_sp'
                            ELSE 'cool_sp' END AS role
    FROM edge f
    JOIN node z ON z.id = f.dst AND z.class = 'HVAC_Zone'
    JOIN point p ON p.parent_id = f.src
    JOIN class_ancestor pc ON pc.class = p.class AND pc.ancestor IN (
        'Zone_Air_Temperature_Sensor', 'Zone_Air_Heating_Temperature_Setpoint',
        'Zone_Air_Cooling_Temperature_Setpoint')
    WHERE f.rel = 'feeds'
), bands AS (
    SELECT fed.vav_id, t.time::date AS day,
           max(t.value) FILTER (WHERE fed.role = 'heat_sp') AS lo,
           min(t.value) FILTER (WHERE fed.role = 'cool_sp') AS hi
    FROM fed JOIN timeseries t ON t.point_id = fed.point_id
    WHERE fed.role <> 'temp'
      AND t.time >= date_trunc('day', %(start)s::timestamp) AND t.time < %(end)s
    GROUP BY fed.vav_id, t.time::date
)
SELECT fed.zone_id, 5 * count(*) AS minutes
FROM fed
JOIN timeseries t ON t.point_id = fed.point_id
JOIN bands b ON b.vav_id = fed.vav_id AND b.day = t.time::date
WHERE fed.role = 'temp'
  AND t.time >= %(start)s AND t.time < %(end)s
  AND extract(isodow FROM t.time) <= 5
  AND extract(hour FROM t.time) >= 6 AND extract(hour FROM t.time) < 19
  AND (t.value < b.lo OR t.value > b.hi)
GROUP BY fed.zone_id
