// Q5: equipment and points counted by most specific class per building (no node is both, so
// the two groupings never share a row).
MATCH (n:Equipment)
RETURN n.building_id AS building_id, n.class AS class, count(*) AS n
UNION ALL
MATCH (n:Point)
RETURN n.building_id AS building_id, n.class AS class, count(*) AS n
