-- Open311 GeoReport v2 read models.

-- name: open311_services
SELECT code, name, name_en, family, priority, deadline_hours
FROM matter WHERE active AND family <> 'maintenance' ORDER BY code;

-- name: open311_service_exists
SELECT 1 FROM matter WHERE code = %(code)s AND active AND family <> 'maintenance';

-- name: open311_requests
-- A request is an Open311 report; its state is the state of the incident it was written to (its own,
-- or the open incident it merged into as a duplicate). Other sources stay private.
SELECT r.event_id AS id, i.status, r.matter_code, m.name AS matter_name, m.name_en AS matter_name_en,
       r.description, r.received_at AS created_at, i.updated_at, i.due_at, i.closed_at,
       ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat, i.outside, s.name AS sub_grid_name, w.name AS worker_name,
       i.sub_grid_code, i.worker_code, r.media, r.attributes, i.id AS incident_id,
       -- Public text only: the closing note of the case's current close or cancel; never the note of
       -- another history row (a merged report's text, a field note, a return reason).
       CASE WHEN i.status IN ('closed', 'cancelled') THEN
         (SELECT e.note FROM incident_event e WHERE e.incident_id = i.id AND e.note IS NOT NULL
            AND e.action IN ('close', 'cancel') ORDER BY e.id DESC LIMIT 1) END AS public_note
FROM incident_report r
JOIN incident i ON i.id = r.incident_id
JOIN matter m ON m.code = r.matter_code
LEFT JOIN sub_grid s ON s.code = i.sub_grid_code
LEFT JOIN grid_worker w ON w.code = i.worker_code
WHERE r.source = 'open311'
  AND (%(ids)s::uuid[] IS NULL OR r.event_id = ANY(%(ids)s::uuid[]))
  AND (%(service_code)s::text IS NULL OR r.matter_code = %(service_code)s)
  AND (%(closed)s::boolean IS NULL OR (i.status IN ('closed', 'cancelled')) = %(closed)s)
  AND (%(start)s::timestamptz IS NULL OR r.received_at >= %(start)s)
  AND (%(end)s::timestamptz IS NULL OR r.received_at <= %(end)s)
ORDER BY r.received_at DESC
LIMIT %(limit)s;
