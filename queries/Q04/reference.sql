SELECT v.id AS vav_id
FROM nodes v JOIN class_anc vc ON vc.class = v.class AND vc.ancestor = 'VAV'
WHERE v.building_id = $building
  AND EXISTS (SELECT 1 FROM points p JOIN class_anc c ON c.class = p.class
              WHERE p.parent_id = v.id AND c.ancestor = 'Air_Flow_Sensor')
  AND EXISTS (SELECT 1 FROM points p JOIN class_anc c ON c.class = p.class
              WHERE p.parent_id = v.id AND c.ancestor = 'Air_Flow_Setpoint')
