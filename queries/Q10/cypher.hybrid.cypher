// Q10 (F2/M2, graph part): the Electric_Power_Sensor points of every Building_Electrical_Meter,
// each with the meter's building; ts.sql sums their rows per building and day.
MATCH (m:Building_Electrical_Meter)<-[:isPointOf]-(p:Electric_Power_Sensor)
RETURN p.id AS point_id, m.building_id AS building_id
