-- The grid worker's tablet (/field): my sub-grids, my tasks with their place, nearby open cases.

-- name: field_worker_sub_grids
-- The sub-grids a worker holds now, primary or backup; a sub-grid drawn without its own outline
-- is the union of its base grids.
SELECT s.code, s.name, a.role,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(
           coalesce(s.geom, (SELECT ST_Multi(ST_Union(b.geom)) FROM base_grid b WHERE b.sub_grid_code = s.code)),
           0.00005), 6) AS geojson
FROM sub_grid_assignment a JOIN sub_grid s ON s.code = a.sub_grid_code
WHERE a.worker_code = %(worker)s AND a.valid_to IS NULL
ORDER BY a.role DESC, s.code;

-- name: field_worker_tasks
-- A worker's open tasks by deadline, with the names of their street, community and base grid.
SELECT i.id::text AS id, i.matter_code, m.name AS matter, m.name_en AS matter_en, m.family, i.priority,
       i.status, i.due_at, i.created_at, i.description, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
       i.street_code, st.name AS street, st.name_en AS street_en,
       i.community_code, c.name AS community, c.name_en AS community_en,
       i.base_grid_code, b.name AS base_grid, i.report_count
FROM incident i JOIN matter m ON m.code = i.matter_code
LEFT JOIN street st ON st.code = i.street_code
LEFT JOIN community c ON c.code = i.community_code
LEFT JOIN base_grid b ON b.code = i.base_grid_code
WHERE i.worker_code = %(worker)s AND i.status IN ('dispatched', 'accepted', 'in_progress')
ORDER BY i.due_at NULLS LAST, i.created_at, i.id;

-- name: field_task_media
-- Every stored photo of a case, from its reports (merged ones included) and its history, oldest first.
SELECT DISTINCT ON (ref) ref, at FROM (
    SELECT jsonb_array_elements_text(r.media) AS ref, r.observed_at AS at
    FROM incident_report r WHERE r.incident_id = %(id)s::uuid AND jsonb_typeof(r.media) = 'array'
    UNION ALL
    SELECT jsonb_array_elements_text(e.media), e.at
    FROM incident_event e WHERE e.incident_id = %(id)s::uuid AND jsonb_typeof(e.media) = 'array'
) m ORDER BY ref, at;

-- name: field_nearby_cases
-- Open cases of one matter around a point that a report there might merge into: the bounding box of
-- the matter's merge radius and its window around now (refined by grid.merging), limited to what the
-- worker may see: their own tasks, their community, the sub-grids they hold.
WITH me AS (
    SELECT w.code, w.community_code,
           coalesce((SELECT array_agg(a.sub_grid_code) FROM sub_grid_assignment a
                     WHERE a.worker_code = w.code AND a.valid_to IS NULL), '{}') AS sub_grids
    FROM grid_worker w WHERE w.code = %(worker)s
), rule AS (
    SELECT code, name, name_en, merge_radius_m, merge_window_min FROM matter WHERE code = %(matter)s
)
SELECT i.id::text AS id, i.matter_code, rule.name AS matter, rule.name_en AS matter_en, i.status, i.description,
       ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat, i.last_report_at, i.report_count,
       st.name AS street, st.name_en AS street_en, c.name AS community, c.name_en AS community_en,
       b.name AS base_grid, rule.merge_radius_m, rule.merge_window_min,
       (SELECT r.media FROM incident_report r WHERE r.incident_id = i.id ORDER BY r.id LIMIT 1) AS media
FROM rule CROSS JOIN me
JOIN incident i ON i.matter_code = rule.code
LEFT JOIN street st ON st.code = i.street_code
LEFT JOIN community c ON c.code = i.community_code
LEFT JOIN base_grid b ON b.code = i.base_grid_code
WHERE i.geom && ST_Expand(ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326),
                          rule.merge_radius_m / (111320.0 * greatest(0.1, cos(radians(%(lat)s)))))
  AND i.status IN ('reported', 'dispatched', 'accepted', 'in_progress', 'returned')
  AND i.last_report_at BETWEEN %(now)s - make_interval(secs => rule.merge_window_min * 60)
                           AND %(now)s + make_interval(secs => rule.merge_window_min * 60)
  AND (i.worker_code = me.code OR i.community_code = me.community_code OR i.sub_grid_code = ANY(me.sub_grids))
LIMIT 200;
