SELECT point_id, date_trunc('hour', time) AS hour, min(value) AS min, avg(value) AS mean,
       max(value) AS max
FROM ts
WHERE point_id IN (SELECT unnest($points)) AND time >= $start AND time < $end
GROUP BY point_id, date_trunc('hour', time)
