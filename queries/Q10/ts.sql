SELECT fed.building_id, date_trunc('day', t.time) AS day, sum(t.value * 0.25) AS kwh
FROM fed JOIN timeseries t ON t.point_id = fed.point_id
WHERE t.time >= %(start)s AND t.time < %(end)s
GROUP BY fed.building_id, date_trunc('day', t.time)
