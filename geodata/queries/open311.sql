-- Open311 GeoReport v2 read models.

-- name: open311_services
SELECT code, name, name_en, family, priority, deadline_hours
FROM matter WHERE active AND family <> 'maintenance' ORDER BY code;

-- name: open311_service_exists
SELECT 1 FROM matter WHERE code = %(code)s AND active AND family <> 'maintenance';

-- name: open311_requests
-- Requests are the incidents first reported through Open311; other sources stay private.
SELECT i.id, i.status, i.matter_code, m.name AS matter_name, m.name_en AS matter_name_en, i.description,
       i.created_at, i.updated_at, i.due_at, i.closed_at, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
       i.outside, s.name AS sub_grid_name, w.name AS worker_name, i.sub_grid_code, i.worker_code,
       r.media, r.attributes,
       (SELECT e.note FROM incident_event e WHERE e.incident_id = i.id AND e.note IS NOT NULL
        ORDER BY e.id DESC LIMIT 1) AS last_note
FROM incident i
JOIN matter m ON m.code = i.matter_code
JOIN incident_report r ON r.event_id = i.id
LEFT JOIN sub_grid s ON s.code = i.sub_grid_code
LEFT JOIN grid_worker w ON w.code = i.worker_code
WHERE i.source = 'open311'
  AND (%(ids)s::uuid[] IS NULL OR i.id = ANY(%(ids)s::uuid[]))
  AND (%(service_code)s::text IS NULL OR i.matter_code = %(service_code)s)
  AND (%(closed)s::boolean IS NULL OR (i.status IN ('closed', 'cancelled')) = %(closed)s)
  AND (%(start)s::timestamptz IS NULL OR i.created_at >= %(start)s)
  AND (%(end)s::timestamptz IS NULL OR i.created_at <= %(end)s)
ORDER BY i.created_at DESC
LIMIT %(limit)s;
