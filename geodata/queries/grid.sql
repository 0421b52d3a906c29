-- Reading the grid hierarchy.

-- name: base_grids_for_index
SELECT b.code AS base_grid, b.sub_grid_code AS sub_grid, b.community_code AS community,
       c.street_code AS street, ST_AsBinary(b.geom) AS wkb
FROM base_grid b JOIN community c ON c.code = b.community_code
ORDER BY b.code;

-- name: grid_names
SELECT 'street' AS level, code, name FROM street
UNION ALL SELECT 'community', code, name FROM community
UNION ALL SELECT 'sub_grid', code, name FROM sub_grid
UNION ALL SELECT 'base_grid', code, name FROM base_grid;

-- name: current_workers_of_sub_grids
SELECT a.sub_grid_code, a.role, w.code, w.name, w.on_duty, w.phone
FROM sub_grid_assignment a JOIN grid_worker w ON w.code = a.worker_code
WHERE a.valid_to IS NULL AND a.sub_grid_code = ANY(%(codes)s)
ORDER BY a.sub_grid_code, a.role DESC;

-- name: nearest_community
SELECT c.code, c.name, ST_Distance(c.geom::geography, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography) AS distance_m
FROM community c
ORDER BY c.geom <-> ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)
LIMIT 1;

-- name: locate_point
SELECT b.code AS base_grid, b.name AS base_grid_name, s.code AS sub_grid, s.name AS sub_grid_name,
       c.code AS community, c.name AS community_name, t.code AS street, t.name AS street_name
FROM base_grid b
JOIN sub_grid s ON s.code = b.sub_grid_code
JOIN community c ON c.code = b.community_code
JOIN street t ON t.code = c.street_code
WHERE ST_Intersects(b.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
ORDER BY b.code
LIMIT 1;
