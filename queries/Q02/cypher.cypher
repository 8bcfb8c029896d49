// Q2: zone air temperature sensors of the VAVs feeding a zone that hasPart a room of the floor.
MATCH (:Node {id: $floor})-[:hasPart]->(:Room)<-[:hasPart]-(:HVAC_Zone)<-[:feeds]-(:VAV)
      <-[:isPointOf]-(p:Zone_Air_Temperature_Sensor)
RETURN DISTINCT p.id AS point_id
