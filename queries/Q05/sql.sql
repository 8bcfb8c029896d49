SELECT building_id, class, count(*)
FROM (SELECT n.building_id, n.class FROM node n
      JOIN class_ancestor c ON c.class = n.class AND c.ancestor = 'Equipment'
      UNION ALL
      SELECT p.building_id, p.class FROM point p) x
GROUP BY building_id, class
