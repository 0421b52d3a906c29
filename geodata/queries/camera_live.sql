-- The live view's camera lookups (dashboard/camera_live.py). Never the stream URL: it stays with the
-- camera workers. A camera's area is the community its point lies in (none outside every community).

-- name: camera_live_place
SELECT c.code, c.name, cm.code AS community_code, cm.street_code
FROM camera c
LEFT JOIN LATERAL (SELECT code, street_code FROM community WHERE ST_Intersects(geom, c.geom)
                   ORDER BY code LIMIT 1) cm ON true
WHERE c.code = %(code)s;

-- name: camera_live_in_scope
SELECT c.code, c.name, c.health, ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat, cm.code AS community_code,
       cm.street_code
FROM camera c
LEFT JOIN LATERAL (SELECT code, street_code FROM community WHERE ST_Intersects(geom, c.geom)
                   ORDER BY code LIMIT 1) cm ON true
WHERE (%(scope_street)s::text IS NULL OR cm.street_code = %(scope_street)s)
  AND (%(scope_community)s::text IS NULL OR cm.code = %(scope_community)s)
ORDER BY c.code;
