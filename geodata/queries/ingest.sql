-- The ingest worker's reads and bulk writes.

-- name: ingest_matters
SELECT code, family, priority, deadline_hours, merge_radius_m, merge_window_min
FROM matter WHERE active;

-- name: ingest_cameras
SELECT code, ST_X(geom) AS lon, ST_Y(geom) AS lat, config FROM camera;

-- name: grid_revision
SELECT rev FROM grid_revision;

-- name: known_event_ids
SELECT event_id FROM incident_report WHERE event_id = ANY(%(ids)s::uuid[]);

-- name: ingest_assignments
SELECT a.sub_grid_code, a.role, w.code, w.on_duty, w.active
FROM sub_grid_assignment a JOIN grid_worker w ON w.code = a.worker_code
WHERE a.valid_to IS NULL AND a.sub_grid_code = ANY(%(codes)s::text[]);

-- name: situation_incidents
-- The incident a situation's start was written to (created or merged into).
SELECT DISTINCT ON (s.camera_code, s.situation_id) r.incident_id AS id, s.camera_code, s.situation_id
FROM unnest(%(cameras)s::text[], %(situations)s::text[]) AS s(camera_code, situation_id)
JOIN incident_report r
  ON (r.attributes -> 'situation' ->> 'id') = s.situation_id
 AND r.attributes ? 'situation'
 AND (r.attributes ->> 'camera') = s.camera_code
ORDER BY s.camera_code, s.situation_id, r.id;

-- name: merge_candidates
-- Open incidents of the same matter near any new report in space (bounding box of the radius,
-- refined in Python) and time (the merge window around the report's observation).
SELECT DISTINCT i.id, i.matter_code, i.status, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat, i.last_report_at
FROM unnest(%(matters)s::text[], %(lons)s::float8[], %(lats)s::float8[], %(radius_deg)s::float8[],
            %(observed)s::timestamptz[], %(window_min)s::float8[]) AS m(matter, lon, lat, radius_deg, observed, window_min)
JOIN incident i
  ON i.geom && ST_Expand(ST_SetSRID(ST_MakePoint(m.lon, m.lat), 4326), m.radius_deg)
 AND i.status IN ('reported', 'dispatched', 'accepted', 'in_progress', 'returned')
 AND i.matter_code = m.matter
 AND i.last_report_at BETWEEN m.observed - make_interval(secs => m.window_min * 60)
                          AND m.observed + make_interval(secs => m.window_min * 60);

-- name: lock_incidents_for_reports
-- Cases that reports of this batch may join, locked in id order so concurrent batches cannot deadlock.
SELECT id, status FROM incident WHERE id = ANY(%(ids)s::uuid[]) ORDER BY id FOR UPDATE;
