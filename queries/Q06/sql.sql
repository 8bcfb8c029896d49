WITH RECURSIVE roots AS (
    SELECT m.id FROM node m
    JOIN class_ancestor c ON c.class = m.class AND c.ancestor = 'Meter'
    WHERE m.building_id = %(building)s
      AND NOT EXISTS (SELECT 1 FROM edge s WHERE s.rel = 'hasSubMeter' AND s.dst = m.id)
), tree(root_id, meter_id) AS (
    SELECT id, id FROM roots
    UNION
    SELECT t.root_id, s.dst FROM tree t
    JOIN edge s ON s.rel = 'hasSubMeter' AND s.src = t.meter_id
)
SELECT root_id, meter_id FROM tree
