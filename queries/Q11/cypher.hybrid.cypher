// Q11 (F2/M2, graph part): every Alarm point with its floor; ts.sql keeps those with a value 1 in
// the window and counts them per floor. The floor: the equipment the point is a point of
// hasLocation a Floor (exact class, as in the reference), or a Room that a Floor hasPart; NULL
// when its location is neither.
MATCH (p:Alarm)-[:isPointOf]->()-[:hasLocation]->(l)
OPTIONAL MATCH (f:Floor)-[:hasPart]->(l)
WHERE f.class = 'Floor' AND l.class <> 'Floor'
RETURN p.id AS point_id, CASE WHEN l.class = 'Floor' THEN l.id ELSE f.id END AS floor_id
