// Q10: per building and day in [start, end): kWh = sum of value * 0.25 over the readings of the
// Electric_Power_Sensor points of every Building_Electrical_Meter.
WITH substring($start, 0, 10) AS d0, substring($end, 0, 10) AS d1,
     toInteger(substring($start, 11, 2)) * 3600 + toInteger(substring($start, 14, 2)) * 60
       + toInteger(substring($start, 17, 2)) AS s0,
     toInteger(substring($end, 11, 2)) * 3600 + toInteger(substring($end, 14, 2)) * 60
       + toInteger(substring($end, 17, 2)) AS s1
MATCH (m:Building_Electrical_Meter)<-[:isPointOf]-(:Electric_Power_Sensor)
      -[:hasTimeseries]->(a:ArchiveDay)
WHERE a.date >= d0 AND a.date <= d1
WITH m, a, CASE WHEN a.date = d0 THEN s0 ELSE 0 END AS lo,
     CASE WHEN a.date = d1 THEN s1 ELSE 86400 END AS hi
UNWIND range(0, size(a.minutes) - 1) AS i
WITH m, a, i, lo, hi
WHERE a.minutes[i] * 60 >= lo AND a.minutes[i] * 60 < hi
RETURN m.building_id AS building_id, a.date + 'T00:00:00' AS day,
       sum(a.`values`[i] * 0.25) AS kwh
