-- The demo simulator's reads and writes.

-- name: sim_matters
SELECT code, family FROM matter WHERE active AND family IN ('crime', 'dispute', 'hazard') ORDER BY code;

-- name: sim_workers
-- Each worker starts at their own position, or at the middle of their primary sub-grid.
SELECT w.code,
       ST_X(coalesce(w.last_geom, ST_PointOnSurface(s.geom))) AS lon,
       ST_Y(coalesce(w.last_geom, ST_PointOnSurface(s.geom))) AS lat
FROM grid_worker w
JOIN sub_grid_assignment a ON a.worker_code = w.code AND a.valid_to IS NULL AND a.role = 'primary'
JOIN sub_grid s ON s.code = a.sub_grid_code
WHERE w.active AND w.on_duty
ORDER BY w.code;

-- name: sim_open_tasks
SELECT id, status, worker_code FROM incident
WHERE (status IN ('dispatched', 'accepted', 'in_progress') AND worker_code IS NOT NULL
       AND created_at > now() - interval '2 hours')
   OR (status = 'resolved' AND updated_at < now() - %(close_after)s AND created_at > now() - interval '2 hours')
ORDER BY created_at DESC
LIMIT 50;
