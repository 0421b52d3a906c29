-- The ingest worker's reads and bulk writes.

-- name: ingest_matters
SELECT code, family, priority, deadline_hours, merge_radius_m, merge_window_min
FROM matter WHERE active;

-- name: ingest_cameras
SELECT code, ST_X(geom) AS lon, ST_Y(geom) AS lat, config FROM camera;

-- name: grid_revision
SELECT rev FROM grid_revision;

-- name: ingest_probe_table
-- One row per message of the batch, copied in once: the replay check and the duplicate search join
-- it (set-based, instead of one array parameter per column built in Python for every batch).
-- radius_deg is NULL for messages that cannot merge by place (later phases of a situation).
CREATE TEMP TABLE IF NOT EXISTS ingest_probe (
    event_id   uuid NOT NULL,
    matter     text,
    lon        float8,
    lat        float8,
    radius_deg float8,
    observed   timestamptz NOT NULL,
    window_min float8
) ON COMMIT DELETE ROWS;

-- name: ingest_probe_copy
COPY ingest_probe (event_id, matter, lon, lat, radius_deg, observed, window_min) FROM STDIN (FORMAT BINARY);

-- name: known_event_ids
-- Messages of the batch that were already accepted (replays).
SELECT p.event_id FROM ingest_probe p JOIN incident_report r ON r.event_id = p.event_id;

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
-- Open incidents of the same matter near any probed message in space (bounding box of the radius,
-- refined in Python) and time (the merge window around the report's observation). LATERAL: one
-- index probe per message, whatever the planner guesses of a staging table it has no statistics for
-- or of open cases a busy hour has just multiplied.
SELECT DISTINCT i.id, i.matter_code, i.status, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat, i.last_report_at
FROM ingest_probe m
CROSS JOIN LATERAL (
    SELECT c.id, c.matter_code, c.status, c.geom, c.last_report_at
    FROM incident c
    WHERE c.geom && ST_Expand(ST_SetSRID(ST_MakePoint(m.lon, m.lat), 4326), m.radius_deg)
      AND c.status IN ('reported', 'dispatched', 'accepted', 'in_progress', 'returned')
      AND c.matter_code = m.matter
      AND c.last_report_at BETWEEN m.observed - make_interval(secs => m.window_min * 60)
                               AND m.observed + make_interval(secs => m.window_min * 60)
    OFFSET 0  -- keeps the subquery from being flattened into a join over every open case
) i
WHERE m.radius_deg IS NOT NULL;

-- name: lock_incidents_for_reports
-- Cases that reports of this batch may join, locked in id order so concurrent batches cannot deadlock;
-- with when the source saw the situation of the case's last `situation_update` history row (its
-- attributes keep the phase and time of the last situation row), which paces the next one.
SELECT id, status,
       CASE WHEN attributes ->> 'situation_phase' = 'update' THEN attributes ->> 'situation_at' END AS update_at
FROM incident WHERE id = ANY(%(ids)s::uuid[]) ORDER BY id FOR UPDATE;

-- name: ingest_new_table
-- The batch's new cases, one row each as the worker decided them; the statements below fan each
-- row out into the incident, its first report and its first history rows.
CREATE TEMP TABLE IF NOT EXISTS ingest_new (
    id                uuid NOT NULL,
    matter_code       text NOT NULL,
    source            text NOT NULL,
    status            text NOT NULL,
    priority          smallint NOT NULL,
    queue             text,
    lon               float8 NOT NULL,
    lat               float8 NOT NULL,
    outside           boolean NOT NULL,
    base_grid_code    text,
    sub_grid_code     text,
    community_code    text,
    street_code       text,
    worker_code       text,
    camera_code       text,
    situation_id      text,
    description       text NOT NULL,
    observed_at       timestamptz NOT NULL,
    dispatched_at     timestamptz,
    due_at            timestamptz,
    -- JSON text, parsed into jsonb by the statements below.
    attributes        text NOT NULL,
    report_attributes text NOT NULL,
    media             text NOT NULL,
    reporter          text,
    dispatch_reason   text
) ON COMMIT DELETE ROWS;

-- name: ingest_new_copy
COPY ingest_new (id, matter_code, source, status, priority, queue, lon, lat, outside, base_grid_code,
                 sub_grid_code, community_code, street_code, worker_code, camera_code, situation_id,
                 description, observed_at, dispatched_at, due_at, attributes, report_attributes, media,
                 reporter, dispatch_reason) FROM STDIN (FORMAT BINARY);

-- name: ingest_new_write
-- Fans each row of ingest_new out into the incident, its first report (the case's id is this
-- report's event_id) and its first history rows: every case was reported, and those dispatched at
-- once were also dispatched, by ingest. One statement, one round trip; the reference checks of the
-- three tables run at its end, when all three are written. The report rows come first in the
-- history, so each case's report has the lower event id of the two.
WITH new_incidents AS (
    INSERT INTO incident (id, matter_code, source, status, level, priority, queue, geom, outside, base_grid_code,
                          sub_grid_code, community_code, street_code, worker_code, camera_code, situation_id,
                          description, report_count, observed_at, last_report_at, dispatched_at, due_at, attributes)
    SELECT id, matter_code, source, status, 'grid', priority, queue, ST_SetSRID(ST_MakePoint(lon, lat), 4326),
           outside, base_grid_code, sub_grid_code, community_code, street_code, worker_code, camera_code,
           situation_id, description, 1, observed_at, observed_at, dispatched_at, due_at, attributes::jsonb
    FROM ingest_new
), new_reports AS (
    INSERT INTO incident_report (event_id, incident_id, source, matter_code, reporter, observed_at, geom,
                                 description, media, attributes)
    SELECT id, id, source, matter_code, reporter, observed_at, ST_SetSRID(ST_MakePoint(lon, lat), 4326),
           description, media::jsonb, report_attributes::jsonb
    FROM ingest_new
)
INSERT INTO incident_event (incident_id, at, actor, action, from_status, to_status, note, media, data)
SELECT id, %(at)s, coalesce(reporter, source), 'report', NULL, 'reported', nullif(description, ''), media::jsonb,
       jsonb_build_object('event_id', id, 'source', source, 'outside', outside, 'queue', queue)
FROM ingest_new
UNION ALL
SELECT id, %(at)s, %(actor)s, 'dispatch', 'reported', 'dispatched', dispatch_reason, '[]'::jsonb,
       jsonb_build_object('worker_code', worker_code, 'queue', queue)
FROM ingest_new WHERE status = 'dispatched';
