SELECT DISTINCT p.id AS point_id
FROM points p
JOIN class_anc pc ON pc.class = p.class AND pc.ancestor = 'Zone_Air_Temperature_Sensor'
JOIN edges ip ON ip.rel = 'isPointOf' AND ip.src = p.id
JOIN nodes v ON v.id = ip.dst
JOIN class_anc vc ON vc.class = v.class AND vc.ancestor = 'VAV'
JOIN edges f ON f.rel = 'feeds' AND f.src = v.id
JOIN nodes z ON z.id = f.dst
JOIN class_anc zc ON zc.class = z.class AND zc.ancestor = 'HVAC_Zone'
JOIN edges zr ON zr.rel = 'hasPart' AND zr.src = z.id
JOIN nodes r ON r.id = zr.dst
JOIN class_anc rc ON rc.class = r.class AND rc.ancestor = 'Room'
JOIN edges fr ON fr.rel = 'hasPart' AND fr.dst = r.id AND fr.src = $floor
