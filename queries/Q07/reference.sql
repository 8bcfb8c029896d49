SELECT time, value FROM ts
WHERE point_id = $point AND time >= $start AND time < $end
