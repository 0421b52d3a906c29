-- Supervisor and dispatcher operations (geodata/operations.py) and the incident CLI's reads.
-- Incident status changes are NOT written here: they go through geodata/transitions.py.

-- name: op_lock_sub_grids
-- Serialises operations on the same sub-grids (two moves could otherwise empty one between them).
SELECT code FROM sub_grid WHERE code = ANY(%(codes)s) ORDER BY code FOR UPDATE;

-- name: op_base_grid
SELECT code, community_code, sub_grid_code FROM base_grid WHERE code = %(code)s;

-- name: op_sub_grid
SELECT s.code, s.community_code,
       (SELECT count(*) FROM base_grid b WHERE b.sub_grid_code = s.code) AS base_grid_count
FROM sub_grid s WHERE s.code = %(code)s;

-- name: op_worker
SELECT code, community_code, active, on_duty FROM grid_worker WHERE code = %(code)s;

-- name: op_open_incidents_of_base_grid
SELECT id::text AS id, status, queue, worker_code, sub_grid_code
FROM incident
WHERE base_grid_code = %(code)s AND status NOT IN ('closed', 'cancelled')
ORDER BY created_at, id;

-- name: op_open_incidents_of_worker_in_sub_grid
SELECT id::text AS id, status, queue, worker_code, sub_grid_code
FROM incident
WHERE sub_grid_code = %(sub_grid)s AND worker_code = %(worker)s AND status NOT IN ('closed', 'cancelled')
ORDER BY created_at, id;

-- name: op_workload
-- Tasks a worker owes now (the statuses grid.reassign.WORKING counts).
SELECT worker_code, count(*) AS open
FROM incident
WHERE worker_code = ANY(%(codes)s) AND status IN ('dispatched', 'accepted', 'in_progress')
GROUP BY worker_code;

-- name: op_move_base_grid
UPDATE base_grid SET sub_grid_code = %(sub_grid)s WHERE code = %(code)s;

-- name: op_relabel_open_incidents
-- Where an open case lies follows the grid; closed cases keep the sub-grid they were handled in.
UPDATE incident SET sub_grid_code = %(sub_grid)s, updated_at = now()
WHERE base_grid_code = %(code)s AND status NOT IN ('closed', 'cancelled');

-- name: op_end_assignment
UPDATE sub_grid_assignment SET valid_to = now()
WHERE sub_grid_code = %(sub_grid)s AND role = %(role)s AND valid_to IS NULL
RETURNING id, worker_code;

-- name: op_add_assignment
INSERT INTO sub_grid_assignment (sub_grid_code, worker_code, role, assigned_by, reason)
VALUES (%(sub_grid)s, %(worker)s, %(role)s, %(by)s, %(reason)s)
RETURNING id, valid_from;

-- name: op_audit_insert
INSERT INTO audit_log (actor, action, target, reason, data)
VALUES (%(actor)s, %(action)s, %(target)s, %(reason)s, %(data)s)
RETURNING id, at;

-- name: op_incident_brief
SELECT i.id::text AS id, i.status, i.queue, i.worker_code, i.sub_grid_code, i.base_grid_code,
       i.community_code, i.street_code, i.outside, m.family
FROM incident i JOIN matter m ON m.code = i.matter_code
WHERE i.id = %(id)s;

-- name: op_incident_list
SELECT i.id::text AS id, i.status, i.level, i.matter_code, i.priority, i.queue, i.worker_code,
       i.sub_grid_code, i.created_at, i.due_at, i.report_count
FROM incident i
WHERE (%(status)s::text IS NULL OR i.status = %(status)s)
ORDER BY i.created_at DESC, i.id
LIMIT %(limit)s;

-- name: op_incident_detail
SELECT i.id::text AS id, i.status, i.level, i.matter_code, m.name AS matter_name, m.name_en AS matter_name_en,
       m.family, m.deadline_hours, i.source, i.priority, i.queue, i.worker_code, i.base_grid_code,
       i.sub_grid_code, i.community_code, i.street_code, i.outside, i.camera_code, i.description,
       i.report_count, ST_X(i.geom) AS lon, ST_Y(i.geom) AS lat, i.observed_at, i.created_at,
       i.dispatched_at, i.due_at, i.warned_at, i.overdue_at, i.closed_at, i.on_time
FROM incident i JOIN matter m ON m.code = i.matter_code
WHERE i.id = %(id)s;

-- name: op_incident_reports
SELECT event_id::text AS event_id, source, reporter, observed_at, received_at, description, media,
       ST_X(geom) AS lon, ST_Y(geom) AS lat
FROM incident_report WHERE incident_id = %(id)s ORDER BY observed_at, id;
