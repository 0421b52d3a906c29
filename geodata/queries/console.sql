-- Queries of the dispatcher's console (dashboard/pages/console/).

-- name: console_first_media
-- The media of each listed incident's first report (the camera's snapshot and clip), for queue thumbnails.
SELECT i.id::text AS id,
       (SELECT r.media FROM incident_report r WHERE r.incident_id = i.id ORDER BY r.id LIMIT 1) AS media
FROM incident i
WHERE i.id = ANY(%(ids)s::uuid[]);
