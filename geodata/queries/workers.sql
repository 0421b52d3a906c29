-- Grid workers' duty and position, written by the tablet and by the demo simulator.

-- name: worker_duty_position
-- A NULL duty keeps the current one; a NULL position keeps the last known one.
UPDATE grid_worker SET on_duty = COALESCE(%(on_duty)s, on_duty),
       last_geom = COALESCE(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), last_geom),
       last_seen_at = now()
WHERE code = %(worker)s
RETURNING code, on_duty, ST_X(last_geom) AS lon, ST_Y(last_geom) AS lat;
