SELECT DISTINCT p.id
FROM edge fr
JOIN node r ON r.id = fr.dst
JOIN class_ancestor rc ON rc.class = r.class AND rc.ancestor = 'Room'
JOIN edge zr ON zr.rel = 'hasPart' AND zr.dst = r.id
JOIN node z ON z.id = zr.src
JOIN class_ancestor zc ON zc.class = z.class AND zc.ancestor = 'HVAC_Zone'
JOIN edge f ON f.rel = 'feeds' AND f.dst = z.id
JOIN node v ON v.id = f.src
JOIN class_ancestor vc ON vc.class = v.class AND vc.ancestor = 'VAV'
JOIN point p ON p.parent_id = v.id
JOIN class_ancestor pc ON pc.class = p.class AND pc.ancestor = 'Zone_Air_Temperature_Sensor'
WHERE fr.rel = 'hasPart' AND fr.src = %(floor)s
