// Q11: per floor, the distinct Alarm points with a reading of value 1 in [start, end). Days
// whose min/max exclude 1 are skipped before their lists are read. A point's floor: the
// equipment it is a point of hasLocation a Floor (exact class, as in the reference), or a
// Room that a Floor hasPart; NULL when its location is neither.
WITH substring($start, 0, 10) AS d0, substring($end, 0, 10) AS d1,
     toInteger(substring($start, 11, 2)) * 3600 + toInteger(substring($start, 14, 2)) * 60
       + toInteger(substring($start, 17, 2)) AS s0,
     toInteger(substring($end, 11, 2)) * 3600 + toInteger(substring($end, 14, 2)) * 60
       + toInteger(substring($end, 17, 2)) AS s1
MATCH (p:Alarm)-[:hasTimeseries]->(a:ArchiveDay)
WHERE a.date >= d0 AND a.date <= d1 AND a.min <= 1 AND a.max >= 1
WITH p, a, CASE WHEN a.date = d0 THEN s0 ELSE 0 END AS lo,
     CASE WHEN a.date = d1 THEN s1 ELSE 86400 END AS hi
UNWIND range(0, size(a.minutes) - 1) AS i
WITH p, a, i, lo, hi
WHERE a.`values`[i] = 1 AND a.minutes[i] * 60 >= lo AND a.minutes[i] * 60 < hi
WITH DISTINCT p
MATCH (p)-[:isPointOf]->()-[:hasLocation]->(l)
OPTIONAL MATCH (f:Floor)-[:hasPart]->(l)
WHERE f.class = 'Floor' AND l.class <> 'Floor'
WITH p, CASE WHEN l.class = 'Floor' THEN l.id ELSE f.id END AS floor_id
RETURN floor_id, count(DISTINCT p) AS n_alarms
