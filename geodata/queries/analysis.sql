-- Analysis and early warning (geodata/analysis_repo.py, the dashboard's layers and lists).

-- name: analysis_incidents
-- One row per incident created in [start, end), with its history folded in. Times are epoch seconds
-- so pandas converts them in one vectorised step; cancelled cases are kept (callers decide).
WITH win AS (
    SELECT i.id FROM incident i WHERE i.created_at >= %(start)s AND i.created_at < %(end)s
), ev AS (
    SELECT e.incident_id,
           min(e.at) FILTER (WHERE e.action = 'accept') AS accepted_at,
           max(e.at) FILTER (WHERE e.action = 'resolve') AS resolved_at,
           count(*) FILTER (WHERE e.action = 'return') AS returned,
           bool_or(e.action = 'escalate') AS escalated
    FROM incident_event e JOIN win ON win.id = e.incident_id
    GROUP BY e.incident_id
)
SELECT i.id::text AS id, i.matter_code, m.family, i.status, i.level, i.source,
       ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
       i.sub_grid_code, i.community_code, i.street_code, i.worker_code,
       extract(epoch FROM i.created_at)::float8 AS created_at,
       extract(epoch FROM i.dispatched_at)::float8 AS dispatched_at,
       extract(epoch FROM ev.accepted_at)::float8 AS accepted_at,
       extract(epoch FROM ev.resolved_at)::float8 AS resolved_at,
       extract(epoch FROM i.closed_at)::float8 AS closed_at,
       extract(epoch FROM i.due_at)::float8 AS due_at,
       i.on_time,
       coalesce(ev.returned, 0)::int AS returned,
       coalesce(ev.escalated, false) AS escalated
FROM incident i
JOIN win ON win.id = i.id
JOIN matter m ON m.code = i.matter_code
LEFT JOIN ev ON ev.incident_id = i.id;

-- name: analysis_first_incident
SELECT min(created_at) AS first_at FROM incident;

-- name: analysis_district
SELECT ST_AsBinary(ST_Union(geom)) AS wkb FROM district;

-- name: analysis_sub_grids
SELECT s.code, s.name, s.community_code, c.street_code, ST_AsBinary(s.geom) AS wkb,
       ST_X(ST_PointOnSurface(s.geom)) AS lon, ST_Y(ST_PointOnSurface(s.geom)) AS lat
FROM sub_grid s JOIN community c ON c.code = s.community_code
WHERE s.geom IS NOT NULL
ORDER BY s.code;

-- name: analysis_communities
SELECT c.code, c.name, c.name_en, c.street_code, st.name AS street_name, ST_AsBinary(c.geom) AS wkb,
       ST_X(ST_PointOnSurface(c.geom)) AS lon, ST_Y(ST_PointOnSurface(c.geom)) AS lat
FROM community c JOIN street st ON st.code = c.street_code
ORDER BY c.code;

-- name: analysis_area_names
SELECT 'street' AS level, code, name FROM street
UNION ALL SELECT 'community', code, name FROM community
UNION ALL SELECT 'sub_grid', code, name FROM sub_grid
UNION ALL SELECT 'worker', code, name FROM grid_worker;

-- name: analysis_cameras
-- Each camera with its health and the sub-grid it stands in (NULL outside every sub-grid).
SELECT cm.code, cm.health, s.code AS sub_grid_code
FROM camera cm
LEFT JOIN LATERAL (
    SELECT s.code FROM sub_grid s WHERE ST_Covers(s.geom, cm.geom) ORDER BY s.code LIMIT 1
) s ON true
ORDER BY cm.code;

-- name: analysis_insert_run
INSERT INTO analysis_run (computed_at, window_start, window_end, params)
VALUES (%(computed_at)s, %(window_start)s, %(window_end)s, %(params)s)
RETURNING id;

-- name: analysis_finish_run
UPDATE analysis_run SET seconds = %(seconds)s, summary = %(summary)s WHERE id = %(id)s;

-- name: analysis_prune_runs
-- Keep the newest `keep` runs; their cells, indicators and rankings go with the others (cascade).
DELETE FROM analysis_run
WHERE id NOT IN (SELECT id FROM analysis_run ORDER BY computed_at DESC, id DESC LIMIT %(keep)s);

-- name: analysis_no_jit
-- For the rest of the transaction. The planner cannot know how many days a health span covers
-- (generate_series is guessed at 1000 rows), so the availability query's estimated cost passes
-- jit_above_cost, and compiling it takes several times the ~100 ms the query needs.
SET LOCAL jit = off;

-- name: analysis_camera_availability
-- Seconds each registered camera spent online, degraded and offline per CST day of [start, end),
-- from camera_health_log. Each log row's state lasts until the camera's next row (lead), clipped to
-- the day; the state at `start` is the camera's last row before it. Time in 'unknown', before a
-- camera's first row, and after `now` (a period that runs into the future) is unknown_s, which
-- availability leaves out of its denominator. The camera's area is the base grid it stands in.
WITH b AS (
    SELECT %(start)s::timestamptz AS t0, least(%(end)s::timestamptz, %(now)s::timestamptz) AS t1
), days AS (
    SELECT d::date AS day,
           greatest(d::timestamp AT TIME ZONE 'Asia/Shanghai', b.t0) AS s,
           least((d::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai', b.t1) AS e
    FROM b, generate_series((b.t0 AT TIME ZONE 'Asia/Shanghai')::date,
                            ((%(end)s::timestamptz AT TIME ZONE 'Asia/Shanghai') - interval '1 microsecond')::date,
                            interval '1 day') AS d
), opening AS (
    -- One index probe per camera rather than a scan of all the history before the period.
    SELECT c.code AS camera_code, b.t0 AS at, 0::bigint AS seq, last.health_to AS health
    FROM camera c CROSS JOIN b
    JOIN LATERAL (
        SELECT l.health_to FROM camera_health_log l
        WHERE l.camera_code = c.code AND l.at < b.t0
        ORDER BY l.at DESC, l.id DESC LIMIT 1
    ) last ON true
), changes AS (
    SELECT camera_code, at, seq, health FROM opening
    UNION ALL
    SELECT l.camera_code, l.at, l.id, l.health_to
    FROM camera_health_log l JOIN camera c ON c.code = l.camera_code CROSS JOIN b
    WHERE l.at >= b.t0 AND l.at < b.t1
), spans AS (
    -- Rows at the same instant keep their logged order (the opening row first), so the last one wins.
    SELECT ch.camera_code, ch.health, ch.at AS s,
           coalesce(lead(ch.at) OVER (PARTITION BY ch.camera_code ORDER BY ch.at, ch.seq), b.t1) AS e
    FROM changes ch CROSS JOIN b
), per_day AS (
    SELECT sp.camera_code, d.day,
           sum(extract(epoch FROM least(sp.e, d.e) - greatest(sp.s, d.s)))
               FILTER (WHERE sp.health = 'online') AS online_s,
           sum(extract(epoch FROM least(sp.e, d.e) - greatest(sp.s, d.s)))
               FILTER (WHERE sp.health = 'degraded') AS degraded_s,
           sum(extract(epoch FROM least(sp.e, d.e) - greatest(sp.s, d.s)))
               FILTER (WHERE sp.health = 'offline') AS offline_s
    -- Each span meets only the CST days it covers (not every day of the period): linear in the log.
    FROM spans sp
    CROSS JOIN LATERAL generate_series((sp.s AT TIME ZONE 'Asia/Shanghai')::date,
                                       ((sp.e AT TIME ZONE 'Asia/Shanghai') - interval '1 microsecond')::date,
                                       interval '1 day') AS g(day)
    JOIN days d ON d.day = g.day::date
    WHERE sp.e > sp.s
    GROUP BY sp.camera_code, d.day
), placed AS MATERIALIZED (
    -- Once per camera, not per camera and day.
    SELECT c.code, c.name, g.sub_grid_code, g.community_code, cm.street_code
    FROM camera c
    LEFT JOIN LATERAL (
        SELECT bg.sub_grid_code, bg.community_code FROM base_grid bg
        WHERE ST_Covers(bg.geom, c.geom) ORDER BY bg.code LIMIT 1
    ) g ON true
    LEFT JOIN community cm ON cm.code = g.community_code
)
SELECT c.code AS camera_code, c.name AS camera_name, d.day, c.sub_grid_code, c.community_code, c.street_code,
       coalesce(p.online_s, 0)::float8 AS online_s,
       coalesce(p.degraded_s, 0)::float8 AS degraded_s,
       coalesce(p.offline_s, 0)::float8 AS offline_s,
       (extract(epoch FROM d.e - d.s) - coalesce(p.online_s, 0) - coalesce(p.degraded_s, 0)
        - coalesce(p.offline_s, 0))::float8 AS unknown_s
FROM placed c
CROSS JOIN days d
LEFT JOIN per_day p ON p.camera_code = c.code AND p.day = d.day
WHERE d.e > d.s
ORDER BY d.day, c.code;

-- name: analysis_recent_repeats
-- Repeat warnings of the last days, so a place that keeps recurring stays one warning.
SELECT id, dedup_key, matter_code, lon, lat
FROM early_warning
WHERE kind = 'repeat' AND last_seen_at >= %(since)s;

-- name: analysis_upsert_warnings
-- One statement for all warnings of a run; `inserted` tells which ones are new.
INSERT INTO early_warning (kind, dedup_key, matter_code, area_level, area_code, sub_grid_code,
                           community_code, street_code, lon, lat, geom, details, score,
                           created_at, last_seen_at, run_id)
SELECT w.kind, w.dedup_key, w.matter_code, w.area_level, w.area_code, w.sub_grid_code,
       w.community_code, w.street_code, w.lon, w.lat, ST_SetSRID(ST_MakePoint(w.lon, w.lat), 4326),
       w.details, w.score, %(at)s, %(at)s, %(run_id)s
FROM unnest(%(kind)s::text[], %(dedup_key)s::text[], %(matter_code)s::text[], %(area_level)s::text[],
            %(area_code)s::text[], %(sub_grid_code)s::text[], %(community_code)s::text[],
            %(street_code)s::text[], %(lon)s::float8[], %(lat)s::float8[], %(details)s::jsonb[],
            %(score)s::float8[])
     AS w(kind, dedup_key, matter_code, area_level, area_code, sub_grid_code, community_code,
          street_code, lon, lat, details, score)
ON CONFLICT (dedup_key) DO UPDATE
SET details = EXCLUDED.details, score = EXCLUDED.score, last_seen_at = EXCLUDED.last_seen_at,
    lon = EXCLUDED.lon, lat = EXCLUDED.lat, geom = EXCLUDED.geom, run_id = EXCLUDED.run_id
RETURNING id, kind, dedup_key, matter_code, area_level, area_code, sub_grid_code, community_code,
          street_code, lon, lat, details, score, created_at, status, (xmax = 0) AS inserted;

-- name: analysis_warning_for_update
SELECT id, kind, status, matter_code, area_level, area_code, sub_grid_code, community_code,
       street_code, lon, lat, details, created_at, incident_id
FROM early_warning WHERE id = %(id)s
FOR UPDATE;

-- name: analysis_mark_case_made
UPDATE early_warning
SET status = 'case_made', incident_id = %(incident_id)s, status_at = %(at)s, status_by = %(by)s
WHERE id = %(id)s AND status = 'open';

-- name: analysis_dismiss_warning
UPDATE early_warning
SET status = 'dismissed', status_at = %(at)s, status_by = %(by)s
WHERE id = %(id)s AND status = 'open';

-- name: analysis_matter_exists
SELECT code FROM matter WHERE code = %(code)s AND active;

-- ---- for the dashboard and the CLI: the latest results ----------------------------------------

-- name: analysis_latest_run
SELECT id, computed_at, window_start, window_end, params, seconds, summary
FROM analysis_run ORDER BY computed_at DESC, id DESC LIMIT 1;

-- name: analysis_hotspot_layer
-- Significant cells of the latest run for one lattice, family and window, hottest first, as GeoJSON.
SELECT h.cell, h.family, h.window_days, h.value, h.z, h.p, h.q, h.class,
       ST_AsGeoJSON(h.geom, 6) AS geojson, r.computed_at
FROM hotspot_cell h
JOIN (SELECT id, computed_at FROM analysis_run ORDER BY computed_at DESC, id DESC LIMIT 1) r
  ON r.id = h.run_id
WHERE h.lattice = %(lattice)s AND h.family = %(family)s AND h.window_days = %(window_days)s
  AND h.class <> 'not_significant'
ORDER BY h.z DESC;

-- name: analysis_emerging_layer
-- Cells of the latest run that follow an emerging-hot-spot pattern, as GeoJSON.
SELECT e.cell, e.family, e.pattern, e.trend_z, e.trend_p, e.final_z, e.hot_bins, e.cold_bins,
       ST_AsGeoJSON(e.geom, 6) AS geojson, r.computed_at
FROM emerging_cell e
JOIN (SELECT id, computed_at FROM analysis_run ORDER BY computed_at DESC, id DESC LIMIT 1) r
  ON r.id = e.run_id
WHERE e.lattice = %(lattice)s AND e.family = %(family)s AND e.pattern <> 'no_pattern'
ORDER BY e.pattern, e.final_z DESC;

-- name: analysis_warnings
-- Warnings by status (NULL: all), newest first; rising and repeat before camera-blind ones.
SELECT w.id, w.kind, w.status, w.matter_code, m.name AS matter_name, m.name_en AS matter_name_en,
       w.area_level, w.area_code, w.sub_grid_code, w.community_code, w.street_code,
       c.name AS community_name, w.lon, w.lat, w.details, w.score, w.created_at, w.last_seen_at,
       w.status_at, w.status_by, w.incident_id
FROM early_warning w
LEFT JOIN matter m ON m.code = w.matter_code
LEFT JOIN community c ON c.code = w.community_code
WHERE (%(status)s::text IS NULL OR w.status = %(status)s::text)
ORDER BY (w.kind = 'camera_blind'), w.created_at DESC, w.id DESC
LIMIT %(limit)s;

-- name: analysis_ranking
-- Red/black lists of the latest run for one level, best and worst first.
SELECT k.level, k.within_code, k.code, n.name, k.list, k.rank, k.on_time_rate, k.due, k.incidents,
       r.computed_at
FROM ranking k
JOIN (SELECT id, computed_at FROM analysis_run ORDER BY computed_at DESC, id DESC LIMIT 1) r
  ON r.id = k.run_id
LEFT JOIN (SELECT 'street' AS level, code, name FROM street
           UNION ALL SELECT 'community', code, name FROM community
           UNION ALL SELECT 'sub_grid', code, name FROM sub_grid
           UNION ALL SELECT 'worker', code, name FROM grid_worker) n
  ON n.level = k.level AND n.code = k.code
WHERE k.level = %(level)s
ORDER BY k.within_code, k.list DESC, k.rank;
