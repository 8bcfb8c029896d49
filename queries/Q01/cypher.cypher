// Q1: the points of one equipment (isPointOf), with their most specific class.
MATCH (p:Point)-[:isPointOf]->(:Node {id: $equipment})
RETURN p.id AS point_id, p.class AS class
