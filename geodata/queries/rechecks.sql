-- The camera's recheck (复核) of resolved camera cases: geodata/rechecks.py.

-- name: recheck_due
-- Resolved camera-rule cases whose latest resolution has no recheck row yet (oldest first), with the
-- resolution's age by the database's clock: what camera workers still owe. With each, the case's
-- evidence: when it was raised, and the box and first snapshot (.jpg) of its latest camera report that
-- has both (a joined visit's update brings its own), for a look whose background model has taken the
-- thing in (workers/camera_recheck.py).
SELECT i.id AS incident_id, i.camera_code AS camera, i.attributes->>'rule' AS rule,
       i.attributes->>'zone' AS zone, r.id AS resolution, r.at AS resolved_at,
       extract(epoch FROM now() - r.at)::float8 AS age_s,
       i.observed_at AS raised_at, ev.box, ev.evidence
FROM incident i
CROSS JOIN LATERAL (
    SELECT e.id, e.at FROM incident_event e
    WHERE e.incident_id = i.id AND e.action = 'resolve'
    ORDER BY e.at DESC, e.id DESC LIMIT 1
) r
LEFT JOIN LATERAL (
    SELECT p.attributes->'box' AS box, snap.ref AS evidence
    FROM incident_report p
    CROSS JOIN LATERAL (
        SELECT m.ref FROM jsonb_array_elements_text(p.media) WITH ORDINALITY AS m(ref, n)
        WHERE m.ref LIKE '%%.jpg' ORDER BY m.n LIMIT 1
    ) snap
    WHERE p.incident_id = i.id AND p.source = 'camera' AND jsonb_typeof(p.attributes->'box') = 'array'
    ORDER BY p.observed_at DESC, p.id DESC LIMIT 1
) ev ON true
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
-- The row a recheck of this resolution already wrote, if any; or the row this very message wrote (a
-- signed message replayed after a later resolution, when it names none, is still applied only once).
SELECT id, action FROM incident_event
WHERE incident_id = %(id)s AND action IN ('recheck', 'reopen')
  AND (data->>'recheck_of' = %(resolution)s::text OR data->>'event_id' = %(event_id)s::text)
LIMIT 1;

-- name: recheck_signing_key
-- The key camera workers sign rechecks with and ingest checks them with (migration 0018).
SELECT key FROM bus_signing_key WHERE purpose = 'recheck';
