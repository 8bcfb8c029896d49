WITH RECURSIVE down(id) AS (
    SELECT e.id::int FROM nodes a
    CROSS JOIN LATERAL jsonb_array_elements_text(a.props -> 'feeds') AS e(id)
    WHERE a.id = %(ahu)s
    UNION
    SELECT e.id::int FROM down d JOIN nodes n ON n.id = d.id
    CROSS JOIN LATERAL jsonb_array_elements_text(n.props -> 'feeds') AS e(id)
)
SELECT d.id, p.id
FROM down d
LEFT JOIN nodes p ON p.props @> jsonb_build_object('isPointOf', jsonb_build_array(d.id))
