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

-- name: camera_health_reason
-- Why the next health change of this transaction happens (the worker's quality problem, '' for none);
-- the trigger of migration 0011 copies it into camera_health_log.reason.
SELECT set_config('gridwatch.health_reason', coalesce(%(reason)s, ''), true);

-- name: camera_set_health
-- Only a change is written, so health_at says since when the camera is in this state; the change is
-- logged in camera_health_log by a trigger.
UPDATE camera SET health = %(health)s, health_at = %(at)s
WHERE code = %(code)s AND health IS DISTINCT FROM %(health)s;

-- name: camera_set_health_many
-- Health changes of many cameras at once (the demo seeder replays its history through the log trigger
-- with it); same rule: only a change is written.
UPDATE camera c SET health = v.health, health_at = v.at
FROM unnest(%(codes)s::text[], %(healths)s::text[], %(ats)s::timestamptz[]) AS v(code, health, at)
WHERE c.code = v.code AND c.health IS DISTINCT FROM v.health;

-- name: camera_matters_active
SELECT code, family FROM matter WHERE active;

-- name: camera_positions_first
SELECT code, name, ST_X(geom) AS lon, ST_Y(geom) AS lat, heading FROM camera ORDER BY code LIMIT %(n)s;
