// Q9: the points of the room (isPointOf the room, or isPointOf equipment that hasLocation it),
// each with its latest reading before $end. Days before the end's date hold only earlier
// readings; on that date only those before the end's second of day count. The latest day with
// such readings is found first, then its last one taken (minutes ascend). The points: those
// isPointOf the room itself or anything that hasLocation the room, each once.
MATCH (r:Node {id: $room})
OPTIONAL MATCH (e)-[:hasLocation]->(r)
WITH r, collect(e) AS located
UNWIND located + [r] AS x
MATCH (p:Point)-[:isPointOf]->(x)
WITH DISTINCT p, substring($end, 0, 10) AS d1,
     toInteger(substring($end, 11, 2)) * 3600 + toInteger(substring($end, 14, 2)) * 60
       + toInteger(substring($end, 17, 2)) AS s1
MATCH (p)-[:hasTimeseries]->(a:ArchiveDay)
WHERE a.date <= d1
WITH p, d1, s1, a,
     CASE WHEN a.date = d1 THEN size([m IN a.minutes WHERE m * 60 < s1]) ELSE size(a.minutes) END
       AS k
WHERE k > 0
WITH p, d1, s1, max(a.date) AS last_day
MATCH (p)-[:hasTimeseries]->(a:ArchiveDay)
WHERE a.date = last_day
WITH p, a,
     CASE WHEN a.date = d1 THEN size([m IN a.minutes WHERE m * 60 < s1]) ELSE size(a.minutes) END
       AS k
WITH p, a, a.minutes[k - 1] AS m, a.`values`[k - 1] AS value
RETURN p.id AS point_id,
       a.date + 'T' + substring(toString(100 + m / 60), 1, 2) + ':'
         + substring(toString(100 + m % 60), 1, 2) + ':00' AS time,
       value
