// Q13: over the whole period, mean reading per (ISO weekday, hour of day) of every
// Electric_Power_Sensor of every Building_Electrical_Meter.
MATCH (:Building_Electrical_Meter)<-[:isPointOf]-(:Electric_Power_Sensor)
      -[:hasTimeseries]->(a:ArchiveDay)
UNWIND range(0, size(a.minutes) - 1) AS i
RETURN a.weekday AS weekday, a.minutes[i] / 60 AS hour, avg(a.`values`[i]) AS mean_kw
