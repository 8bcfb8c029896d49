// Q8: per point and hour in [start, end): min, mean, max of the readings (ArchiveDays chosen by
// date, readings by second of day, as in Q7); the hour's timestamp is built once per group.
WITH substring($start, 0, 10) AS d0, substring($end, 0, 10) AS d1,
     toInteger(substring($start, 11, 2)) * 3600 + toInteger(substring($start, 14, 2)) * 60
       + toInteger(substring($start, 17, 2)) AS s0,
     toInteger(substring($end, 11, 2)) * 3600 + toInteger(substring($end, 14, 2)) * 60
       + toInteger(substring($end, 17, 2)) AS s1
UNWIND $points AS pid
WITH DISTINCT pid, d0, d1, s0, s1
MATCH (p:Point {id: pid})-[:hasTimeseries]->(a:ArchiveDay)
WHERE a.date >= d0 AND a.date <= d1
WITH p, a, CASE WHEN a.date = d0 THEN s0 ELSE 0 END AS lo,
     CASE WHEN a.date = d1 THEN s1 ELSE 86400 END AS hi
UNWIND range(0, size(a.minutes) - 1) AS i
WITH p, a, i, a.minutes[i] AS m, lo, hi
WHERE m * 60 >= lo AND m * 60 < hi
WITH p.id AS point_id, a.date AS day, m / 60 AS h, a.`values`[i] AS v
WITH point_id, day, h, min(v) AS lo_v, avg(v) AS mean_v, max(v) AS hi_v
RETURN point_id, day + 'T' + substring(toString(100 + h), 1, 2) + ':00:00' AS hour,
       lo_v AS min, mean_v AS mean, hi_v AS max
