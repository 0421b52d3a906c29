-- Cameras: registration (gridwatch camera add/import/list) and the camera worker's reads and health writes.

-- name: camera_codes_present
SELECT code FROM camera WHERE code = ANY(%(codes)s::text[]);

-- name: camera_upsert
INSERT INTO camera (code, name, url, geom, heading, config)
VALUES (%(code)s, %(name)s, %(url)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326), %(heading)s, %(config)s)
ON CONFLICT (code) DO UPDATE
SET name = EXCLUDED.name, url = EXCLUDED.url, geom = EXCLUDED.geom, heading = EXCLUDED.heading,
    config = EXCLUDED.config;

-- name: camera_list
SELECT code, name, url, ST_X(geom) AS lon, ST_Y(geom) AS lat, heading, config, health, health_at
FROM camera ORDER BY code;

-- name: camera_set_health
-- Only a change is written, so health_at says since when the camera is in this state.
UPDATE camera SET health = %(health)s, health_at = %(at)s
WHERE code = %(code)s AND health IS DISTINCT FROM %(health)s;

-- name: camera_matters_active
SELECT code, family FROM matter WHERE active;

-- name: camera_positions_first
SELECT code, name, ST_X(geom) AS lon, ST_Y(geom) AS lat, heading FROM camera ORDER BY code LIMIT %(n)s;
