SELECT point_id, date_trunc('hour', time) AS hour, min(value), avg(value), max(value)
FROM timeseries
WHERE point_id = ANY(%(points)s) AND time >= %(start)s AND time < %(end)s
GROUP BY point_id, date_trunc('hour', time)
