// Q13 (F2/M2, graph part): every Electric_Power_Sensor point of every Building_Electrical_Meter;
// ts.sql averages their rows per (ISO weekday, hour) over the whole period.
MATCH (:Building_Electrical_Meter)<-[:isPointOf]-(p:Electric_Power_Sensor)
RETURN p.id AS point_id
