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

-- name: wall_open_count
-- Open cases of the area (an index-only count): it sets the cluster cell of wall_open_rollup.
SELECT count(*) AS n FROM incident i
WHERE i.status NOT IN ('closed', 'cancelled')
  AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
  AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s);

-- name: wall_open_rollup
-- Every figure the wall draws from open cases, in one pass over them (a storm has tens of thousands,
-- read about once a second): per sub-grid, per street, per cell (%(cell)s degrees, the nearest grid
-- point as ST_SnapToGrid) and family, and in all; `kind` says which. geodata.wall_repo merges a
-- cell's families into one cluster. The open cases are first folded by hashing into one row per
-- sub-grid, street, cell and family (a few thousand at most); the grouping sets then run over those:
-- over the cases themselves, one set sorted all of them, on disk at 40,000 open (about 270 ms against
-- 175 ms run back to back on the loaded 2-core VM, same rows).
SELECT CASE WHEN GROUPING(o.sub_grid_code) = 0 THEN 'sub_grid' WHEN GROUPING(o.street_code) = 0 THEN 'street'
            WHEN GROUPING(o.cx) = 0 THEN 'cell' ELSE 'all' END AS kind,
       o.sub_grid_code, o.street_code, o.cx, o.cy, o.family,
       -- coalesce: with no open case in the area the grand-total row still comes, with sums of nothing
       coalesce(sum(o.n), 0)::bigint AS n, coalesce(sum(o.overdue), 0)::bigint AS overdue, min(o.priority) AS priority,
       sum(o.sx) AS sx, sum(o.sy) AS sy
FROM (SELECT i.sub_grid_code, i.street_code, m.family,
             round(ST_X(i.geom) / %(cell)s)::int AS cx, round(ST_Y(i.geom) / %(cell)s)::int AS cy,
             count(*) AS n,
             count(*) FILTER (WHERE i.status <> 'resolved' AND (i.overdue_at IS NOT NULL OR i.due_at < now()))
                 AS overdue,
             min(i.priority) AS priority, sum(ST_X(i.geom)) AS sx, sum(ST_Y(i.geom)) AS sy
      FROM incident i JOIN matter m ON m.code = i.matter_code
      WHERE i.status NOT IN ('closed', 'cancelled')
        AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
        AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)
      GROUP BY 1, 2, 3, 4, 5) o
GROUP BY GROUPING SETS ((o.sub_grid_code), (o.street_code), (o.cx, o.cy, o.family), ());

-- name: wall_kpis_closed
-- The KPIs not drawn from open cases: cases today, closures (on time) over 30 days, cameras online.
SELECT
    (SELECT count(*) FROM incident i WHERE i.created_at >= %(day_start)s
        AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
        AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)) AS today,
    c.closed_on_time, c.closed,
    (SELECT count(*) FILTER (WHERE health = 'online') FROM camera) AS cameras_online,
    (SELECT count(*) FROM camera) AS cameras
FROM (SELECT count(*) FILTER (WHERE i.on_time) AS closed_on_time, count(*) AS closed FROM incident i
      WHERE i.status = 'closed' AND i.closed_at >= now() - interval '30 days'
        AND (%(scope_street)s::text IS NULL OR i.street_code = %(scope_street)s)
        AND (%(scope_community)s::text IS NULL OR i.community_code = %(scope_community)s)) c;

-- name: wall_streets
-- The streets of the area, for the ranking (a street with no open case is listed with 0).
SELECT code, name, name_en FROM street
WHERE (%(scope_street)s::text IS NULL OR code = %(scope_street)s) ORDER BY code;
