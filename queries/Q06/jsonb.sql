WITH RECURSIVE roots AS (
    SELECT m.id FROM nodes m
    JOIN class_ancestor c ON c.class = m.class AND c.ancestor = 'Meter'
    WHERE m.building_id = %(building)s
      AND NOT EXISTS (SELECT 1 FROM nodes s
                      WHERE s.props @> jsonb_build_object('hasSubMeter', jsonb_build_array(m.id)))
), tree(root_id, meter_id) AS (
    SELECT id, id FROM roots
    UNION
    SELECT t.root_id, sub.id::int FROM tree t JOIN nodes m ON m.id = t.meter_id
    CROSS JOIN LATERAL jsonb_array_elements_text(m.props -> 'hasSubMeter') AS sub(id)
)
SELECT root_id, meter_id FROM tree
