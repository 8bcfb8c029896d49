WITH fed AS (
    SELECT p.id AS point_id, z.id AS zone_id, v.id AS vav_id,
           CASE pc.ancestor WHEN 'Zone_Air_Temperature_Sensor' THEN 'temp'
                            WHEN 'Zone_Air_Heating_Temperature_Setpoint' THEN 'heat_sp'
                            ELSE 'cool_sp' END AS role
    FROM nodes v
    CROSS JOIN LATERAL jsonb_array_elements_text(v.props -> 'feeds') AS fz(id)
    JOIN nodes z ON z.id = fz.id::int AND z.class = 'HVAC_Zone'
    JOIN nodes p ON p.props @> jsonb_build_object('isPointOf', jsonb_build_array(v.id))
    JOIN class_ancestor pc ON pc.class = p.class AND pc.ancestor IN (
        'Zone_Air_Temperature_Sensor', 'Zone_Air_Heating_Temperature_Setpoint',
        'Zone_Air_Cooling_Temperature_Setpoint')
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
