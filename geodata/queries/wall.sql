-- The wall's charts and alarm strip. Scope parameters: %(scope_street)s / %(scope_community)s, NULL = all.

-- name: wall_hourly
-- Incidents per CST hour of the day and family: today, and the mean of the same hour over the 7 days before.
SELECT m.family,
       extract(hour FROM i.created_at AT TIME ZONE 'Asia/Shanghai')::int AS hour,
       count(*) FILTER (WHERE i.created_at >= %(day_start)s) AS today,
       (count(*) FILTER (WHERE i.created_at < %(day_start)s))::float8 / 7 AS usual
FROM incident i JOIN matter m ON m.code = i.matter_code
WHERE i.created_at >= %(day_start)s::timestamptz - interval '7 days'
  AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
  AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: wall_on_time_daily
-- Cases closed per CST day since %(since)s and how many of them on time.
SELECT (i.closed_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*) AS closed,
       count(*) FILTER (WHERE i.on_time) AS on_time
FROM incident i
WHERE i.status = 'closed' AND i.closed_at >= %(since)s
  AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
  AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)
GROUP BY 1
ORDER BY 1;

-- name: wall_alarms
-- The newest unacknowledged high-priority camera alarms, with how many there are in all (`total`).
SELECT i.id::text AS id, i.matter_code, m.name AS matter, m.name_en AS matter_en, i.camera_code, i.created_at,
       i.street_code, i.community_code, count(*) OVER () AS total
FROM incident i JOIN matter m ON m.code = i.matter_code
WHERE i.priority = 1 AND m.family = 'crime' AND i.status NOT IN ('closed', 'cancelled')
  AND i.created_at > now() - interval '1 day'
  AND NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'alarm_ack' AND a.target = i.id::text)
  AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
  AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)
ORDER BY i.created_at DESC, i.id
LIMIT %(limit)s;

-- name: wall_ack_lock
-- Two consoles acknowledging the same alarm at once: one waits, then finds the other's row.
SELECT pg_advisory_xact_lock(hashtext('gridwatch.alarm_ack'));

-- name: wall_ack_alarms
-- Acknowledge alarms (an audit row each, the record wall_alarms reads); already
-- acknowledged ones are left alone, so a double click or two consoles write one row.
INSERT INTO audit_log (actor, action, target, data)
SELECT %(actor)s, 'alarm_ack', t.id, %(data)s
FROM (SELECT DISTINCT unnest(%(ids)s::text[]) AS id) t
WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'alarm_ack' AND a.target = t.id)
RETURNING target;

-- name: wall_clusters
-- Open incidents per cell (%(cell)s degrees, chosen so a storm still gives few, separate circles), with
-- how many of them are overdue; a cell with one incident keeps its id.
SELECT count(*) AS n, min(i.priority) AS priority,
       mode() WITHIN GROUP (ORDER BY m.family) AS family,
       avg(ST_X(i.geom)) AS lon, avg(ST_Y(i.geom)) AS lat,
       (array_agg(i.id::text ORDER BY i.created_at DESC))[1] AS id,
       count(*) FILTER (WHERE i.status NOT IN ('resolved') AND (i.overdue_at IS NOT NULL OR i.due_at < now()))
           AS overdue
FROM incident i JOIN matter m ON m.code = i.matter_code
WHERE i.status NOT IN ('closed', 'cancelled') AND i.geom IS NOT NULL
  AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
  AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)
GROUP BY ST_SnapToGrid(i.geom, %(cell)s)
ORDER BY count(*) DESC
LIMIT %(limit)s;
