SELECT DISTINCT p.id
FROM nodes fl
CROSS JOIN LATERAL jsonb_array_elements_text(fl.props -> 'hasPart') AS part(id)
JOIN nodes r ON r.id = part.id::int
JOIN class_ancestor rc ON rc.class = r.class AND rc.ancestor = 'Room'
JOIN nodes z ON z.props @> jsonb_build_object('hasPart', jsonb_build_array(r.id))
JOIN class_ancestor zc ON zc.class = z.class AND zc.ancestor = 'HVAC_Zone'
JOIN nodes v ON v.props @> jsonb_build_object('feeds', jsonb_build_array(z.id))
JOIN class_ancestor vc ON vc.class = v.class AND vc.ancestor = 'VAV'
JOIN nodes p ON p.props @> jsonb_build_object('isPointOf', jsonb_build_array(v.id))
JOIN class_ancestor pc ON pc.class = p.class AND pc.ancestor = 'Zone_Air_Temperature_Sensor'
WHERE fl.id = %(floor)s
