// Q9 (F2/M2, graph part): the points of the room: isPointOf the room, or isPointOf equipment
// that hasLocation the room; each once (ts.sql returns one row per fed row).
MATCH (r:Node {id: $room})
OPTIONAL MATCH (e)-[:hasLocation]->(r)
WITH r, collect(e) AS located
UNWIND located + [r] AS x
MATCH (p:Point)-[:isPointOf]->(x)
RETURN DISTINCT p.id AS point_id
