SELECT fed.floor_id, count(DISTINCT fed.point_id) AS n_alarms
FROM fed
WHERE EXISTS (SELECT 1 FROM timeseries t
              WHERE t.point_id = fed.point_id AND t.value = 1
                AND t.time >= %(start)s AND t.time < %(end)s)
GROUP BY fed.floor_id
