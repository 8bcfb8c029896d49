WITH RECURSIVE down(id) AS (
    SELECT dst FROM edge WHERE rel = 'feeds' AND src = %(ahu)s
    UNION
    SELECT e.dst FROM edge e JOIN down d ON e.src = d.id WHERE e.rel = 'feeds'
)
SELECT d.id, p.id FROM down d LEFT JOIN point p ON p.parent_id = d.id
