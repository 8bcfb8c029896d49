SELECT v.id
FROM node v JOIN class_ancestor vc ON vc.class = v.class AND vc.ancestor = 'VAV'
WHERE v.building_id = %(building)s
  AND EXISTS (SELECT 1 FROM point p
              JOIN class_ancestor c ON c.class = p.class AND c.ancestor = 'Air_Flow_Sensor'
              WHERE p.parent_id = v.id)
  AND EXISTS (SELECT 1 FROM point p
              JOIN class_ancestor c ON c.class = p.class AND c.ancestor = 'Air_Flow_Setpoint'
              WHERE p.parent_id = v.id)
