SELECT x.building_id, x.class, count(*) AS n
FROM (SELECT id, class, building_id FROM nodes UNION ALL
      SELECT id, class, building_id FROM points) x
WHERE EXISTS (SELECT 1 FROM class_anc c
              WHERE c.class = x.class AND c.ancestor IN ('Equipment', 'Point'))
GROUP BY x.building_id, x.class
