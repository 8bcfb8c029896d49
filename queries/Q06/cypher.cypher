// Q6: top-level meters of the building (no incoming hasSubMeter) and every meter reachable by
// hasSubMeter* from each, the root included. Portable forms on purpose: a count instead of a
// pattern predicate in WHERE (bare patterns there need a recent Memgraph), and the root added
// to its hasSubMeter+ tree instead of a zero-length `*0..` expansion.
MATCH (r:Meter {building_id: $building})
OPTIONAL MATCH (up)-[:hasSubMeter]->(r)
WITH r, count(up) AS parents
WHERE parents = 0
OPTIONAL MATCH (r)-[:hasSubMeter*1..]->(s)
WITH r, collect(s) AS subs
UNWIND subs + [r] AS m
RETURN DISTINCT r.id AS root_id, m.id AS meter_id
