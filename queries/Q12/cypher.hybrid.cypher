// Q12 (F2/M2, graph part): the zone temperature sensors and zone heating/cooling setpoints of
// every VAV (any node, as in the reference) that feeds an HVAC_Zone (exact class, as in the
// reference), each with its zone, VAV and role (the names ts.sql uses); ts.sql computes the
// bands and the violations.
MATCH (z:HVAC_Zone)<-[:feeds]-(v)<-[:isPointOf]-(p:Zone_Air_Temperature_Sensor)
WHERE z.class = 'HVAC_Zone'
RETURN p.id AS point_id, z.id AS zone_id, v.id AS vav_id, 'temp' AS role
UNION ALL
MATCH (z:HVAC_Zone)<-[:feeds]-(v)<-[:isPointOf]-(p:Zone_Air_Heating_Temperature_Setpoint)
WHERE z.class = 'HVAC_Zone'
RETURN p.id AS point_id, z.id AS zone_id, v.id AS vav_id, 'heat_sp' AS role
UNION ALL
MATCH (z:HVAC_Zone)<-[:feeds]-(v)<-[:isPointOf]-(p:Zone_Air_Cooling_Temperature_Setpoint)
WHERE z.class = 'HVAC_Zone'
RETURN p.id AS point_id, z.id AS zone_id, v.id AS vav_id, 'cool_sp' AS role
