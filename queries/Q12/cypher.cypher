// Q12: per HVAC_Zone (exact class, as in the reference) fed by a VAV (any node): 5 x the readings
// of the VAV's Zone_Air_Temperature_Sensor points in [start, end), on weekdays (ISO 1..5),
// 06:00 <= time < 19:00 (hour = minute / 60 in 6..18), below that date's heating band or above
// its cooling band. The bands of a (VAV, date): the max of its heating setpoints' readings and
// the min of its cooling setpoints' readings on that date, i.e. the ArchiveDays' max and min.
// A date without any setpoint reading has no band: its readings do not count.
WITH substring($start, 0, 10) AS d0, substring($end, 0, 10) AS d1,
     toInteger(substring($start, 11, 2)) * 3600 + toInteger(substring($start, 14, 2)) * 60
       + toInteger(substring($start, 17, 2)) AS s0,
     toInteger(substring($end, 11, 2)) * 3600 + toInteger(substring($end, 14, 2)) * 60
       + toInteger(substring($end, 17, 2)) AS s1
MATCH (z:HVAC_Zone)<-[:feeds]-(v)<-[:isPointOf]-(:Zone_Air_Temperature_Sensor)
      -[:hasTimeseries]->(a:ArchiveDay)
WHERE z.class = 'HVAC_Zone' AND a.date >= d0 AND a.date <= d1 AND a.weekday <= 5
OPTIONAL MATCH (v)<-[:isPointOf]-(:Zone_Air_Heating_Temperature_Setpoint)
               -[:hasTimeseries]->(ha:ArchiveDay)
WHERE ha.date = a.date
WITH z, v, a, d0, d1, s0, s1, max(ha.max) AS band_lo
OPTIONAL MATCH (v)<-[:isPointOf]-(:Zone_Air_Cooling_Temperature_Setpoint)
               -[:hasTimeseries]->(ca:ArchiveDay)
WHERE ca.date = a.date
WITH z, a, d0, d1, s0, s1, band_lo, min(ca.min) AS band_hi
WHERE band_lo IS NOT NULL OR band_hi IS NOT NULL
WITH z, a, band_lo, band_hi, CASE WHEN a.date = d0 THEN s0 ELSE 0 END AS lo,
     CASE WHEN a.date = d1 THEN s1 ELSE 86400 END AS hi
UNWIND range(0, size(a.minutes) - 1) AS i
WITH z, a, i, a.minutes[i] AS m, a.`values`[i] AS x, band_lo, band_hi, lo, hi
WHERE m * 60 >= lo AND m * 60 < hi AND m / 60 >= 6 AND m / 60 < 19
  AND (x < band_lo OR x > band_hi)
RETURN z.id AS zone_id, 5 * count(*) AS minutes
