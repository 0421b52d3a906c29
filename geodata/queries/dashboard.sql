-- Read models of the dashboard. Scope parameters: %(scope_street)s / %(scope_community)s, NULL = all.

-- name: dash_kpis
SELECT
    (SELECT count(*) FROM incident i WHERE i.created_at >= %(day_start)s
        AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
        AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)) AS today,
    (SELECT count(*) FROM incident i WHERE i.status NOT IN ('closed', 'cancelled')
        AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
        AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)) AS open,
    (SELECT count(*) FROM incident i WHERE i.status NOT IN ('closed', 'cancelled', 'resolved')
        AND (i.overdue_at IS NOT NULL OR i.due_at < now())
        AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
        AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)) AS overdue,
    (SELECT count(*) FILTER (WHERE i.on_time) FROM incident i WHERE i.status = 'closed'
        AND i.closed_at >= now() - interval '30 days'
        AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
        AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)) AS closed_on_time,
    (SELECT count(*) FROM incident i WHERE i.status = 'closed'
        AND i.closed_at >= now() - interval '30 days'
        AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
        AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)) AS closed,
    (SELECT count(*) FILTER (WHERE health = 'online') FROM camera) AS cameras_online,
    (SELECT count(*) FROM camera) AS cameras;

-- name: dash_outlines
-- The dark basemap: street and community outlines, simplified for the browser (about 20 m).
SELECT 'street' AS level, code, name, name_en, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.0002), 5) AS geojson
FROM street
UNION ALL
SELECT 'community', code, name, name_en, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.0002), 5)
FROM community
UNION ALL
SELECT 'district', code, name, name_en, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, 0.0002), 5)
FROM district;

-- name: dash_sub_grids
SELECT s.code, s.name, s.community_code, c.street_code,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(s.geom, 0.0001), 5) AS geojson,
       (SELECT string_agg(w.name, '/' ORDER BY a.role DESC) FROM sub_grid_assignment a
          JOIN grid_worker w ON w.code = a.worker_code
         WHERE a.sub_grid_code = s.code AND a.valid_to IS NULL) AS workers
FROM sub_grid s JOIN community c ON c.code = s.community_code
WHERE s.geom IS NOT NULL
  AND (%(scope_street)s::text IS NULL OR c.street_code = %(scope_street)s)
  AND (%(scope_community)s::text IS NULL OR s.community_code = %(scope_community)s);

-- name: dash_open_by_sub_grid
SELECT sub_grid_code AS code, count(*) AS open, min(priority) AS top_priority
FROM incident WHERE status NOT IN ('closed', 'cancelled') AND sub_grid_code IS NOT NULL
GROUP BY sub_grid_code;

-- name: dash_incident_clusters
-- Server-side aggregation: open incidents snapped to a cell; a cell with one incident keeps its details.
SELECT count(*) AS n, min(i.priority) AS priority,
       mode() WITHIN GROUP (ORDER BY m.family) AS family,
       mode() WITHIN GROUP (ORDER BY i.status) AS status,
       avg(ST_X(i.geom)) AS lon, avg(ST_Y(i.geom)) AS lat,
       (array_agg(i.id::text ORDER BY i.created_at DESC))[1] AS id,
       (array_agg(i.matter_code ORDER BY i.created_at DESC))[1] AS matter_code,
       bool_or(i.overdue_at IS NOT NULL) AS overdue
FROM incident i JOIN matter m ON m.code = i.matter_code
WHERE i.status NOT IN ('closed', 'cancelled')
  AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
  AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)
GROUP BY ST_SnapToGrid(i.geom, %(cell)s)
ORDER BY min(i.priority), count(*) DESC
LIMIT %(limit)s;

-- name: dash_cameras
SELECT c.code, c.name, c.health, c.health_at, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat, c.config
FROM camera c ORDER BY c.code;

-- name: dash_workers
SELECT w.code, w.name, w.on_duty, w.last_seen_at, ST_X(w.last_geom) AS lon, ST_Y(w.last_geom) AS lat,
       w.community_code
FROM grid_worker w
WHERE w.active AND w.last_geom IS NOT NULL
  AND (%(scope_community)s::text IS NULL OR w.community_code = %(scope_community)s)
  AND (%(scope_street)s::text IS NULL OR left(w.community_code, 9) = %(scope_street)s);

-- name: dash_latest
SELECT i.id::text AS id, i.matter_code, m.name AS matter, m.name_en AS matter_en, m.family, i.priority,
       i.status, i.created_at, c.name AS community, c.name_en AS community_en
FROM incident i JOIN matter m ON m.code = i.matter_code LEFT JOIN community c ON c.code = i.community_code
WHERE (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
  AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)
ORDER BY i.created_at DESC LIMIT %(limit)s;

-- name: dash_street_ranking
SELECT s.code, s.name, s.name_en,
       count(i.id) FILTER (WHERE i.status NOT IN ('closed', 'cancelled')) AS open,
       count(i.id) FILTER (WHERE i.status NOT IN ('closed', 'cancelled', 'resolved')
                           AND (i.overdue_at IS NOT NULL OR i.due_at < now())) AS overdue
FROM street s LEFT JOIN incident i ON i.street_code = s.code
WHERE %(scope_street)s::text IS NULL OR s.code = %(scope_street)s
GROUP BY s.code, s.name, s.name_en
ORDER BY open DESC, s.code;

-- name: dash_matters
SELECT code, name, name_en, family, priority, deadline_hours FROM matter WHERE active ORDER BY code;

-- name: dash_queue
SELECT i.id::text AS id, i.matter_code, m.name AS matter, m.name_en AS matter_en, m.family, i.priority,
       i.status, i.level, i.queue, i.worker_code, w.name AS worker, i.sub_grid_code, i.community_code,
       i.street_code, i.camera_code, i.created_at, i.due_at, i.overdue_at IS NOT NULL OR i.due_at < now() AS overdue,
       i.description, i.report_count, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
       -- all matching rows, before LIMIT: the console lists the first rows and says "+N" for the rest
       count(*) OVER () AS total
FROM incident i JOIN matter m ON m.code = i.matter_code LEFT JOIN grid_worker w ON w.code = i.worker_code
WHERE (%(verification)s::boolean IS NULL
       OR (%(verification)s AND i.status = 'reported' AND i.queue = 'verification')
       OR (NOT %(verification)s AND NOT (i.status = 'reported' AND i.queue = 'verification')))
  AND (%(status)s::text IS NULL OR i.status = %(status)s)
  AND (%(status)s::text IS NOT NULL OR i.status NOT IN ('closed', 'cancelled'))
  AND (%(family)s::text IS NULL OR m.family = %(family)s)
  AND (%(priority)s::smallint IS NULL OR i.priority = %(priority)s)
  AND (NOT %(overdue_only)s OR i.overdue_at IS NOT NULL OR i.due_at < now())
  AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
  AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)
ORDER BY i.priority, i.due_at NULLS LAST, i.created_at DESC
LIMIT %(limit)s;

-- name: dash_incident
SELECT i.id::text AS id, i.matter_code, m.name AS matter, m.name_en AS matter_en, m.family, i.priority,
       i.status, i.level, i.queue, i.worker_code, i.sub_grid_code, i.community_code, i.street_code,
       i.camera_code, i.description, i.created_at, i.due_at, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
       (SELECT r.media FROM incident_report r WHERE r.incident_id = i.id ORDER BY r.id LIMIT 1) AS media
FROM incident i JOIN matter m ON m.code = i.matter_code
WHERE i.id = %(id)s::uuid;

-- name: dash_incident_events
SELECT at, actor, action, from_status, to_status, note, media
FROM incident_event WHERE incident_id = %(id)s::uuid ORDER BY at, id;

-- name: dash_workload
SELECT w.code, w.name, w.on_duty,
       count(i.id) FILTER (WHERE i.status NOT IN ('closed', 'cancelled')) AS open,
       count(i.id) FILTER (WHERE i.status NOT IN ('closed', 'cancelled', 'resolved')
                           AND (i.overdue_at IS NOT NULL OR i.due_at < now())) AS overdue,
       count(i.id) FILTER (WHERE i.status = 'closed' AND i.on_time AND i.closed_at >= %(week_start)s) AS on_time_week
FROM grid_worker w LEFT JOIN incident i ON i.worker_code = w.code
WHERE w.active
  AND (%(scope_community)s::text IS NULL OR w.community_code = %(scope_community)s)
  AND (%(scope_street)s::text IS NULL OR left(w.community_code, 9) = %(scope_street)s)
GROUP BY w.code, w.name, w.on_duty
ORDER BY open DESC, w.code
LIMIT 300;

-- name: dash_base_grids_of_community
SELECT b.code, b.name, b.sub_grid_code, ST_AsGeoJSON(b.geom, 6) AS geojson
FROM base_grid b WHERE b.community_code = %(community)s ORDER BY b.code;

-- name: dash_base_grid_at
SELECT b.code, b.name, b.sub_grid_code, b.community_code, c.street_code
FROM base_grid b JOIN community c ON c.code = b.community_code
WHERE ST_Intersects(b.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)) LIMIT 1;

-- name: dash_sub_grids_of_community
SELECT s.code, s.name FROM sub_grid s WHERE s.community_code = %(community)s ORDER BY s.code;

-- name: dash_audit
INSERT INTO audit_log (actor, action, target, reason, data)
VALUES (%(actor)s, %(action)s, %(target)s, %(reason)s, %(data)s);

-- name: dash_worker_tasks
SELECT i.id::text AS id, i.matter_code, m.name AS matter, m.name_en AS matter_en, m.family, i.priority,
       i.status, i.due_at, i.created_at, i.description, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat
FROM incident i JOIN matter m ON m.code = i.matter_code
WHERE i.worker_code = %(worker)s AND i.status IN ('dispatched', 'accepted', 'in_progress')
ORDER BY i.due_at NULLS LAST, i.created_at;

-- name: dash_worker_get
SELECT code, name, on_duty, ST_X(last_geom) AS lon, ST_Y(last_geom) AS lat
FROM grid_worker WHERE code = %(worker)s;

-- name: dash_inside_district
SELECT EXISTS (SELECT 1 FROM district WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))) AS inside;

-- name: dash_event_seen
SELECT EXISTS (SELECT 1 FROM incident_event WHERE data->>'client_event_id' = %(event_id)s) AS seen;

-- name: dash_camera_situations
SELECT i.id::text AS id, i.matter_code, m.name AS matter, m.name_en AS matter_en, i.status, i.created_at
FROM incident i JOIN matter m ON m.code = i.matter_code
WHERE i.camera_code = %(camera)s ORDER BY i.created_at DESC LIMIT 20;

-- name: dash_maintenance_cases
SELECT i.id::text AS id, i.matter_code, m.name AS matter, m.name_en AS matter_en, i.status, i.created_at,
       i.camera_code
FROM incident i JOIN matter m ON m.code = i.matter_code
WHERE m.family = 'maintenance' AND i.status NOT IN ('closed', 'cancelled')
ORDER BY i.created_at DESC LIMIT 50;

-- name: dash_camera_set_zones
UPDATE camera SET config = jsonb_set(config, '{zones}', %(zones)s) WHERE code = %(code)s RETURNING code;

-- name: dash_hotspots
-- Significant Gi* cells of the latest analysis run for one lattice and window, one family (NULL: every
-- family), inside the user's area: sub-grid cells by code, squares whose interior meets the area.
SELECT h.cell, h.family, h.class, h.z, h.q, h.value, ST_AsGeoJSON(h.geom, 6) AS geojson, r.computed_at
FROM hotspot_cell h
JOIN (SELECT id, computed_at FROM analysis_run ORDER BY computed_at DESC, id DESC LIMIT 1) r ON r.id = h.run_id
WHERE h.lattice = %(lattice)s AND h.window_days = %(window_days)s AND h.class <> 'not_significant'
  AND (%(family)s::text IS NULL OR h.family = %(family)s)
  AND (%(scope_street)s::text IS NULL OR (h.lattice = 'sub_grid' AND left(h.cell, 9) = %(scope_street)s)
       OR (h.lattice <> 'sub_grid' AND EXISTS (SELECT 1 FROM street s WHERE s.code = %(scope_street)s
           AND ST_Intersects(s.geom, h.geom) AND NOT ST_Touches(s.geom, h.geom))))
  AND (%(scope_community)s::text IS NULL OR (h.lattice = 'sub_grid' AND left(h.cell, 12) = %(scope_community)s)
       OR (h.lattice <> 'sub_grid' AND EXISTS (SELECT 1 FROM community c WHERE c.code = %(scope_community)s
           AND ST_Intersects(c.geom, h.geom) AND NOT ST_Touches(c.geom, h.geom))))
ORDER BY abs(h.z) DESC
LIMIT %(limit)s;

-- name: dash_emerging
-- Emerging-hot-spot cells of the latest run (one family, NULL: every family) inside the user's area.
SELECT e.cell, e.family, e.pattern, e.trend_z, e.final_z, ST_AsGeoJSON(e.geom, 6) AS geojson, r.computed_at
FROM emerging_cell e
JOIN (SELECT id, computed_at FROM analysis_run ORDER BY computed_at DESC, id DESC LIMIT 1) r ON r.id = e.run_id
WHERE e.lattice = %(lattice)s AND e.pattern <> 'no_pattern'
  AND (%(family)s::text IS NULL OR e.family = %(family)s)
  AND (%(scope_street)s::text IS NULL OR (e.lattice = 'sub_grid' AND left(e.cell, 9) = %(scope_street)s)
       OR (e.lattice <> 'sub_grid' AND EXISTS (SELECT 1 FROM street s WHERE s.code = %(scope_street)s
           AND ST_Intersects(s.geom, e.geom) AND NOT ST_Touches(s.geom, e.geom))))
  AND (%(scope_community)s::text IS NULL OR (e.lattice = 'sub_grid' AND left(e.cell, 12) = %(scope_community)s)
       OR (e.lattice <> 'sub_grid' AND EXISTS (SELECT 1 FROM community c WHERE c.code = %(scope_community)s
           AND ST_Intersects(c.geom, e.geom) AND NOT ST_Touches(c.geom, e.geom))))
ORDER BY abs(e.final_z) DESC
LIMIT %(limit)s;

-- name: dash_worker_communities
SELECT code, community_code FROM grid_worker;
