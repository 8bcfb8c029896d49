SELECT time, value
FROM timeseries
WHERE point_id = %(point)s AND time >= %(start)s AND time < %(end)s
