// Q4: VAVs of the building with at least one Air_Flow_Sensor point and one Air_Flow_Setpoint.
MATCH (v:VAV {building_id: $building})
MATCH (:Air_Flow_Sensor)-[:isPointOf]->(v)
WITH DISTINCT v
MATCH (:Air_Flow_Setpoint)-[:isPointOf]->(v)
RETURN DISTINCT v.id AS vav_id
