// Q3: every node reachable from the AHU by feeds+ (each once), with each of its points, or one
// row with a NULL point when it has none.
MATCH (:Node {id: $ahu})-[:feeds*1..]->(d)
WITH DISTINCT d
OPTIONAL MATCH (p)-[:isPointOf]->(d)
RETURN d.id AS node_id, p.id AS point_id
