-- The camera's recheck (复核) of resolved camera cases: geodata/rechecks.py.

-- name: recheck_due
-- Resolved camera-rule cases whose latest resolution has no recheck row yet (oldest first), with the
-- resolution's age by the database's clock: what camera workers still owe.
SELECT i.id AS incident_id, i.camera_code AS camera, i.attributes->>'rule' AS rule,
       i.attributes->>'zone' AS zone, r.id AS resolution, r.at AS resolved_at,
       extract(epoch FROM now() - r.at)::float8 AS age_s
FROM incident i
CROSS JOIN LATERAL (
    SELECT e.id, e.at FROM incident_event e
    WHERE e.incident_id = i.id AND e.action = 'resolve'
    ORDER BY e.at DESC, e.id DESC LIMIT 1
) r
WHERE i.status = 'resolved' AND i.source = 'camera' AND i.camera_code IS NOT NULL
  AND jsonb_typeof(i.attributes->'rule') = 'string' AND jsonb_typeof(i.attributes->'zone') = 'string'
  AND NOT EXISTS (
      SELECT 1 FROM incident_event x
      WHERE x.incident_id = i.id AND x.action IN ('recheck', 'reopen') AND x.data->>'recheck_of' = r.id::text
  )
ORDER BY r.at, i.id
LIMIT %(limit)s;

-- name: recheck_lock_incident
SELECT id, status, source, camera_code, attributes FROM incident WHERE id = %(id)s FOR UPDATE;

-- name: recheck_last_resolution
SELECT id, at FROM incident_event
WHERE incident_id = %(id)s AND action = 'resolve'
ORDER BY at DESC, id DESC LIMIT 1;

-- name: recheck_done_for
-- The row a recheck of this resolution already wrote, if any.
SELECT id, action FROM incident_event
WHERE incident_id = %(id)s AND action IN ('recheck', 'reopen') AND data->>'recheck_of' = %(resolution)s::text
LIMIT 1;
