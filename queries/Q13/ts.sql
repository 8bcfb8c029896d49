SELECT extract(isodow FROM t.time)::int AS weekday, extract(hour FROM t.time)::int AS hour,
       avg(t.value) AS mean_kw
FROM fed JOIN timeseries t ON t.point_id = fed.point_id
GROUP BY 1, 2
