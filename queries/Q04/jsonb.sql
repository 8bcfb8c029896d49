SELECT v.id
FROM nodes v JOIN class_ancestor vc ON vc.class = v.class AND vc.ancestor = 'VAV'
WHERE v.building_id = %(building)s
  AND EXISTS (SELECT 1 FROM nodes p
              JOIN class_ancestor c ON c.class = p.class AND c.ancestor = 'Air_Flow_Sensor'
              WHERE p.props @> jsonb_build_object('isPointOf', jsonb_build_array(v.id)))
  AND EXISTS (SELECT 1 FROM nodes p
              JOIN class_ancestor c ON c.class = p.class AND c.ancestor = 'Air_Flow_Setpoint'
              WHERE p.props @> jsonb_build_object('isPointOf', jsonb_build_array(v.id)))
