-- Grid workers and their assignments, cameras, the matters list, incidents with their reports and
-- append-only history, accounts and the audit log.

CREATE TABLE grid_worker (
    code           text PRIMARY KEY,
    name           text NOT NULL,
    phone          text,
    community_code text REFERENCES community (code),
    on_duty        boolean NOT NULL DEFAULT true,
    active         boolean NOT NULL DEFAULT true,
    last_geom      geometry(Point, 4326),
    last_seen_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sub_grid_assignment (
    id            bigserial PRIMARY KEY,
    sub_grid_code text NOT NULL REFERENCES sub_grid (code) ON UPDATE CASCADE,
    worker_code   text NOT NULL REFERENCES grid_worker (code),
    role          text NOT NULL CHECK (role IN ('primary', 'backup')),
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    assigned_by   text,
    reason        text,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
-- At any time a sub-grid has at most one primary and one backup worker.
CREATE UNIQUE INDEX sub_grid_assignment_current_idx
    ON sub_grid_assignment (sub_grid_code, role) WHERE valid_to IS NULL;
CREATE INDEX sub_grid_assignment_worker_idx ON sub_grid_assignment (worker_code) WHERE valid_to IS NULL;

CREATE TABLE camera (
    code       text PRIMARY KEY,
    name       text NOT NULL,
    url        text,
    geom       geometry(Point, 4326) NOT NULL,
    heading    double precision CHECK (heading IS NULL OR (heading >= 0 AND heading < 360)),
    config     jsonb NOT NULL DEFAULT '{}'::jsonb,
    health     text NOT NULL DEFAULT 'unknown' CHECK (health IN ('unknown', 'online', 'degraded', 'offline')),
    health_at  timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX camera_geom_idx ON camera USING gist (geom);

CREATE TABLE matter (
    code             text PRIMARY KEY,
    name             text NOT NULL,
    name_en          text NOT NULL,
    family           text NOT NULL CHECK (family IN ('crime', 'dispute', 'hazard', 'maintenance')),
    priority         smallint NOT NULL CHECK (priority BETWEEN 1 AND 3),
    deadline_hours   double precision NOT NULL CHECK (deadline_hours > 0),
    -- The rungs an unresolved case climbs, in order, from the grid upwards.
    escalation       text[] NOT NULL DEFAULT '{community,street,district}',
    merge_radius_m   double precision NOT NULL DEFAULT 50 CHECK (merge_radius_m >= 0),
    merge_window_min double precision NOT NULL DEFAULT 30 CHECK (merge_window_min >= 0),
    active           boolean NOT NULL DEFAULT true,
    CHECK (escalation <@ ARRAY['community', 'street', 'district']::text[])
);

CREATE TABLE incident (
    id             uuid PRIMARY KEY,
    matter_code    text NOT NULL REFERENCES matter (code),
    source         text NOT NULL CHECK (source IN ('camera', 'grid_worker', 'appeal', 'open311', 'analysis')),
    status         text NOT NULL CHECK (status IN ('reported', 'dispatched', 'accepted', 'in_progress',
                                                   'resolved', 'closed', 'returned', 'cancelled')),
    level          text NOT NULL DEFAULT 'grid' CHECK (level IN ('grid', 'community', 'street', 'district')),
    priority       smallint NOT NULL CHECK (priority BETWEEN 1 AND 3),
    -- Where the case waits for someone: a worker, a community's queue, the district's, or verification.
    queue          text CHECK (queue IN ('worker', 'community', 'district', 'verification')),
    geom           geometry(Point, 4326) NOT NULL,
    outside        boolean NOT NULL DEFAULT false,
    base_grid_code text REFERENCES base_grid (code) ON DELETE SET NULL,
    sub_grid_code  text REFERENCES sub_grid (code) ON DELETE SET NULL,
    community_code text REFERENCES community (code),
    street_code    text REFERENCES street (code),
    worker_code    text REFERENCES grid_worker (code),
    camera_code    text REFERENCES camera (code),
    situation_id   text,
    description    text NOT NULL DEFAULT '',
    report_count   integer NOT NULL DEFAULT 1 CHECK (report_count >= 1),
    observed_at    timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    dispatched_at  timestamptz,
    due_at         timestamptz,
    warned_at      timestamptz,
    overdue_at     timestamptz,
    closed_at      timestamptz,
    on_time        boolean,
    attributes     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX incident_geom_idx ON incident USING gist (geom);
CREATE INDEX incident_status_idx ON incident (status);
CREATE INDEX incident_sub_grid_idx ON incident (sub_grid_code, status);
CREATE INDEX incident_worker_idx ON incident (worker_code, status);
CREATE INDEX incident_created_idx ON incident (created_at);
CREATE INDEX incident_matter_created_idx ON incident (matter_code, created_at);
CREATE INDEX incident_due_idx ON incident (due_at) WHERE status IN ('dispatched', 'accepted', 'in_progress', 'returned');
CREATE UNIQUE INDEX incident_situation_idx ON incident (camera_code, situation_id) WHERE situation_id IS NOT NULL;

CREATE TABLE incident_report (
    id          bigserial PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    incident_id uuid NOT NULL REFERENCES incident (id),
    source      text NOT NULL,
    matter_code text NOT NULL REFERENCES matter (code),
    reporter    text,
    observed_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    geom        geometry(Point, 4326) NOT NULL,
    description text NOT NULL DEFAULT '',
    media       jsonb NOT NULL DEFAULT '[]'::jsonb,
    attributes  jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX incident_report_incident_idx ON incident_report (incident_id);
CREATE INDEX incident_report_geom_idx ON incident_report USING gist (geom);

CREATE TABLE incident_event (
    id          bigserial PRIMARY KEY,
    incident_id uuid NOT NULL REFERENCES incident (id),
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    from_status text,
    to_status   text,
    note        text,
    media       jsonb NOT NULL DEFAULT '[]'::jsonb,
    data        jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX incident_event_incident_idx ON incident_event (incident_id, at);

-- History is append-only: refuse edits and deletions.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER trg_incident_event_append_only BEFORE UPDATE OR DELETE ON incident_event
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

CREATE TABLE app_user (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('dispatcher', 'supervisor', 'grid_worker', 'maintenance', 'wall', 'admin')),
    -- A supervisor's street or community code; NULL means the whole district.
    scope_code    text,
    worker_code   text REFERENCES grid_worker (code),
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (role <> 'grid_worker' OR worker_code IS NOT NULL)
);

CREATE TABLE audit_log (
    id     bigserial PRIMARY KEY,
    at     timestamptz NOT NULL DEFAULT now(),
    actor  text NOT NULL,
    action text NOT NULL,
    target text,
    reason text,
    data   jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE TRIGGER trg_audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
