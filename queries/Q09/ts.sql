-- latest reading of each point before the end of the period; LATERAL so each point uses the
-- (point_id, time) index instead of scanning its whole history
SELECT fed.point_id, last.time, last.value
FROM fed
CROSS JOIN LATERAL (
    SELECT t.time, t.value FROM timeseries t
    WHERE t.point_id = fed.point_id AND t.time < %(end)s
    ORDER BY t.time DESC LIMIT 1
) AS last
