SELECT n.building_id, n.class, count(*)
FROM nodes n
WHERE EXISTS (SELECT 1 FROM class_ancestor c
              WHERE c.class = n.class AND c.ancestor IN ('Equipment', 'Point'))
GROUP BY n.building_id, n.class
