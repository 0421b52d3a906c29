-- Incident transitions: the one writer of incident status after creation (geodata/transitions.py).

-- name: incident_lock_for_transition
-- The row lock serialises concurrent transitions on one incident; the matter rides along.
SELECT i.id, i.status, i.level, i.queue, i.worker_code, i.matter_code, i.priority, i.source,
       i.base_grid_code, i.sub_grid_code, i.community_code, i.street_code, i.outside,
       i.dispatched_at, i.due_at, i.warned_at, i.overdue_at, i.closed_at, i.on_time, i.report_count,
       i.last_report_at, i.attributes, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat,
       m.family, m.deadline_hours, m.escalation,
       clock_timestamp() AS db_now
FROM incident i
JOIN matter m ON m.code = i.matter_code
WHERE i.id = %(id)s
FOR UPDATE OF i;

-- name: incident_apply_transition
UPDATE incident
SET status = %(status)s,
    level = %(level)s,
    queue = %(queue)s,
    worker_code = %(worker_code)s,
    dispatched_at = %(dispatched_at)s,
    due_at = %(due_at)s,
    warned_at = %(warned_at)s,
    overdue_at = %(overdue_at)s,
    closed_at = %(closed_at)s,
    on_time = %(on_time)s,
    report_count = %(report_count)s,
    last_report_at = %(last_report_at)s,
    attributes = %(attributes)s,
    updated_at = %(at)s
WHERE id = %(id)s;

-- name: incident_event_insert
INSERT INTO incident_event (incident_id, at, actor, action, from_status, to_status, note, media, data)
VALUES (%(incident_id)s, %(at)s, %(actor)s, %(action)s, %(from_status)s, %(to_status)s, %(note)s,
        %(media)s, %(data)s)
RETURNING id;

-- name: grid_worker_for_dispatch
SELECT code, active, on_duty, community_code FROM grid_worker WHERE code = %(code)s;

-- name: sub_grid_current_workers
-- The sub-grid's current primary and backup (at most one each, by sub_grid_assignment_current_idx).
SELECT a.role, w.code, w.on_duty, w.active
FROM sub_grid_assignment a
JOIN grid_worker w ON w.code = a.worker_code
WHERE a.sub_grid_code = %(sub_grid_code)s AND a.valid_to IS NULL;

-- name: incident_events_of
SELECT id, incident_id, at, actor, action, from_status, to_status, note, media, data
FROM incident_event
WHERE incident_id = %(incident_id)s
ORDER BY at, id;
