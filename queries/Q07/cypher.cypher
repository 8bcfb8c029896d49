// Q7: readings of one point in [start, end). ArchiveDays are chosen by date first (d0..d1),
// then the readings kept by second of day (s0 on the first day, s1 on the last).
WITH substring($start, 0, 10) AS d0, substring($end, 0, 10) AS d1,
     toInteger(substring($start, 11, 2)) * 3600 + toInteger(substring($start, 14, 2)) * 60
       + toInteger(substring($start, 17, 2)) AS s0,
     toInteger(substring($end, 11, 2)) * 3600 + toInteger(substring($end, 14, 2)) * 60
       + toInteger(substring($end, 17, 2)) AS s1
MATCH (:Point {id: $point})-[:hasTimeseries]->(a:ArchiveDay)
WHERE a.date >= d0 AND a.date <= d1
WITH a, CASE WHEN a.date = d0 THEN s0 ELSE 0 END AS lo,
     CASE WHEN a.date = d1 THEN s1 ELSE 86400 END AS hi
UNWIND range(0, size(a.minutes) - 1) AS i
WITH a, i, a.minutes[i] AS m, lo, hi
WHERE m * 60 >= lo AND m * 60 < hi
RETURN a.date + 'T' + substring(toString(100 + m / 60), 1, 2) + ':'
         + substring(toString(100 + m % 60), 1, 2) + ':00' AS time,
       a.`values`[i] AS value
