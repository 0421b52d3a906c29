-- The schema that geodata/migrations/ produce, read from PostgreSQL's catalogue.
-- Written by `gridwatch db schema`; do not edit by hand. tests/geodata/test_schema.py fails while a
-- migration's effect is missing here: run the command and commit this file with the migration.
-- Left out: PostGIS's own objects, the bookkeeping table schema_migration, owners and privileges.

--
-- Extensions
--

CREATE EXTENSION pgcrypto;
CREATE EXTENSION postgis;

--
-- Functions
--

CREATE FUNCTION public.base_grid_check_rules() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $function$
DECLARE
    other text;
BEGIN
    -- The row may have been changed or deleted again later in the transaction: judge what is there now.
    PERFORM 1 FROM base_grid WHERE code = NEW.code;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM base_grid b JOIN community c ON c.code = b.community_code
        WHERE b.code = NEW.code
          AND ST_CoveredBy(b.geom, ST_Buffer(c.geom, gridwatch_tolerance_deg()))
    ) THEN
        RAISE EXCEPTION 'base grid % is not inside its community %', NEW.code, NEW.community_code
            USING ERRCODE = 'check_violation', CONSTRAINT = 'base_grid_inside_community';
    END IF;
    SELECT o.code INTO other
    FROM base_grid b JOIN base_grid o
      ON o.community_code = b.community_code AND o.code <> b.code AND ST_Intersects(o.geom, b.geom)
    WHERE b.code = NEW.code
      AND ST_Area(ST_Intersection(o.geom, b.geom)::geography) > 1.0
    LIMIT 1;
    IF other IS NOT NULL THEN
        RAISE EXCEPTION 'base grid % overlaps base grid % of the same community', NEW.code, other
            USING ERRCODE = 'check_violation', CONSTRAINT = 'base_grid_no_overlap';
    END IF;
    RETURN NULL;
END
$function$;

CREATE FUNCTION public.base_grid_touch_sub_grids() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $function$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE sub_grid s SET geom = NULL
        WHERE s.code IN (SELECT DISTINCT sub_grid_code FROM new_rows);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE sub_grid s SET geom = NULL
        WHERE s.code IN (SELECT DISTINCT sub_grid_code FROM old_rows);
    END IF;
    RETURN NULL;
END
$function$;

CREATE FUNCTION public.camera_health_log_write() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $function$
BEGIN
    INSERT INTO camera_health_log (camera_code, at, health_from, health_to, reason)
    VALUES (
        NEW.code,
        CASE
            WHEN TG_OP = 'INSERT' THEN coalesce(NEW.health_at, NEW.created_at)
            -- A writer that moves health_at says when the change happened; one that does not
            -- (a hand-made UPDATE of health alone) leaves the old health_at, so the log takes now().
            WHEN NEW.health_at IS DISTINCT FROM OLD.health_at AND NEW.health_at IS NOT NULL THEN NEW.health_at
            ELSE now()
        END,
        CASE WHEN TG_OP = 'UPDATE' THEN OLD.health END,
        NEW.health,
        nullif(current_setting('gridwatch.health_reason', true), ''));
    RETURN NULL;
END
$function$;

CREATE FUNCTION public.grid_live_references_hold() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $function$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM incident WHERE %I = $1 AND status NOT IN (''closed'', ''cancelled'')',
                   TG_ARGV[0]) INTO n USING OLD.code;
    IF n > 0 THEN
        RAISE EXCEPTION '% % cannot be removed or renamed: % open incident(s) point at it', TG_TABLE_NAME, OLD.code, n
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'incident_' || TG_ARGV[0] || '_live';
    END IF;
    IF TG_TABLE_NAME = 'sub_grid' THEN
        SELECT count(*) INTO n FROM sub_grid_assignment WHERE sub_grid_code = OLD.code AND valid_to IS NULL;
        IF n > 0 THEN
            RAISE EXCEPTION 'sub_grid % cannot be removed or renamed: % current worker assignment(s)', OLD.code, n
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'sub_grid_assignment_sub_grid_code_live';
        END IF;
    END IF;
    RETURN NULL;
END
$function$;

CREATE FUNCTION public.grid_revision_bump() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $function$
BEGIN
    UPDATE grid_revision SET rev = rev + 1, at = now();
    RETURN NULL;
END
$function$;

CREATE FUNCTION public.gridwatch_tolerance_deg() RETURNS double precision
    LANGUAGE sql IMMUTABLE
    AS $function$
 SELECT 0.00001::double precision
$function$;

CREATE FUNCTION public.incident_default_last_report() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $function$
BEGIN
    NEW.last_report_at := coalesce(NEW.last_report_at, NEW.observed_at);
    RETURN NEW;
END
$function$;

CREATE FUNCTION public.incident_grid_codes_exist() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $function$
DECLARE
    bad record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT n.id, n.base_grid_code, n.sub_grid_code, n.community_code, n.street_code INTO bad
        FROM new_rows n
        WHERE (n.base_grid_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM base_grid g WHERE g.code = n.base_grid_code))
           OR (n.sub_grid_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sub_grid g WHERE g.code = n.sub_grid_code))
           OR (n.community_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM community g WHERE g.code = n.community_code))
           OR (n.street_code IS NOT NULL AND NOT EXISTS (SELECT 1 FROM street g WHERE g.code = n.street_code))
        LIMIT 1;
    ELSE
        SELECT n.id, n.base_grid_code, n.sub_grid_code, n.community_code, n.street_code INTO bad
        FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.base_grid_code IS DISTINCT FROM o.base_grid_code AND n.base_grid_code IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM base_grid g WHERE g.code = n.base_grid_code))
           OR (n.sub_grid_code IS DISTINCT FROM o.sub_grid_code AND n.sub_grid_code IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM sub_grid g WHERE g.code = n.sub_grid_code))
           OR (n.community_code IS DISTINCT FROM o.community_code AND n.community_code IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM community g WHERE g.code = n.community_code))
           OR (n.street_code IS DISTINCT FROM o.street_code AND n.street_code IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM street g WHERE g.code = n.street_code))
        LIMIT 1;
    END IF;
    IF bad.id IS NOT NULL THEN
        RAISE EXCEPTION 'incident % points at a grid that is not stored (base grid %, sub-grid %, community %, street %)',
                        bad.id, bad.base_grid_code, bad.sub_grid_code, bad.community_code, bad.street_code
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'incident_grid_codes_exist';
    END IF;
    RETURN NULL;
END
$function$;

CREATE FUNCTION public.refs_absent() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $function$
DECLARE
    pcol text := TG_ARGV[0];
    pairs int := (TG_NARGS - 1) / 3;
    gone text;
    k int;
    used text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        gone := format('SELECT o.%1$I AS key FROM old_rows o', pcol);
    ELSE
        -- A key is gone when no new row carries it any more.
        gone := format('SELECT o.%1$I AS key FROM old_rows o WHERE NOT EXISTS '
                       '(SELECT 1 FROM new_rows n WHERE n.%1$I = o.%1$I)', pcol);
    END IF;
    FOR k IN 0 .. pairs - 1 LOOP
        EXECUTE format('SELECT g.key::text FROM (%s) g WHERE EXISTS (SELECT 1 FROM %I c WHERE c.%I = g.key) LIMIT 1',
                       gone, TG_ARGV[1 + 2 * k], TG_ARGV[2 + 2 * k]) INTO used;
        IF used IS NOT NULL THEN
            RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on table "%"',
                            TG_TABLE_NAME, TG_ARGV[1 + 2 * pairs + k], TG_ARGV[1 + 2 * k]
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[1 + 2 * pairs + k],
                      DETAIL = format('Key (%s)=(%s) is still referenced from table "%s".', pcol, used,
                                      TG_ARGV[1 + 2 * k]);
        END IF;
    END LOOP;
    RETURN NULL;
END
$function$;

CREATE FUNCTION public.refs_exist() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $function$
DECLARE
    k int;
    col text;
    changed text;
    missing text;
BEGIN
    FOR k IN 0 .. TG_NARGS / 4 - 1 LOOP
        col := TG_ARGV[4 * k];
        IF TG_OP = 'INSERT' THEN
            changed := format('SELECT DISTINCT n.%1$I AS ref FROM new_rows n WHERE n.%1$I IS NOT NULL', col);
        ELSE
            changed := format('SELECT DISTINCT n.%1$I AS ref FROM new_rows n JOIN old_rows o ON o.id = n.id '
                              'WHERE n.%1$I IS NOT NULL AND n.%1$I IS DISTINCT FROM o.%1$I', col);
        END IF;
        -- One index probe per distinct reference (a locking subquery is never flattened into a join,
        -- which for a transition table the planner has no statistics for could become a full scan).
        EXECUTE format('SELECT c.ref::text FROM (%1$s) c LEFT JOIN LATERAL ('
                       'SELECT p.%3$I FROM %2$I p WHERE p.%3$I = c.ref FOR KEY SHARE OF p) l ON true '
                       'WHERE l.%3$I IS NULL LIMIT 1',
                       changed, TG_ARGV[4 * k + 1], TG_ARGV[4 * k + 2]) INTO missing;
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"',
                            TG_TABLE_NAME, TG_ARGV[4 * k + 3]
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[4 * k + 3],
                      DETAIL = format('Key (%s)=(%s) is not present in table "%s".', col, missing, TG_ARGV[4 * k + 1]);
        END IF;
    END LOOP;
    RETURN NULL;
END
$function$;

CREATE FUNCTION public.refuse_change() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $function$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$function$;

CREATE FUNCTION public.sub_grid_assignment_grid_exists() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $function$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM sub_grid WHERE code = NEW.sub_grid_code) THEN
        RAISE EXCEPTION 'sub-grid % is not stored', NEW.sub_grid_code
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'sub_grid_assignment_grid_exists';
    END IF;
    RETURN NULL;
END
$function$;

CREATE FUNCTION public.sub_grid_check_not_empty() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $function$
DECLARE
    code_to_check text;
BEGIN
    IF TG_TABLE_NAME = 'sub_grid' THEN
        code_to_check := NEW.code;
    ELSE
        code_to_check := OLD.sub_grid_code;
    END IF;
    IF EXISTS (SELECT 1 FROM sub_grid WHERE code = code_to_check)
       AND NOT EXISTS (SELECT 1 FROM base_grid WHERE sub_grid_code = code_to_check) THEN
        RAISE EXCEPTION 'sub-grid % has no base grid', code_to_check
            USING ERRCODE = 'check_violation', CONSTRAINT = 'sub_grid_not_empty';
    END IF;
    RETURN NULL;
END
$function$;

CREATE FUNCTION public.sub_grid_derive() RETURNS trigger
    LANGUAGE plpgsql VOLATILE
    AS $function$
BEGIN
    NEW.geom := (
        SELECT ST_Multi(ST_CollectionExtract(ST_Union(b.geom, 1e-9), 3))
        FROM base_grid b WHERE b.sub_grid_code = NEW.code
    );
    RETURN NEW;
END
$function$;

--
-- Sequences
--

CREATE SEQUENCE public.analysis_run_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 OWNED BY public.analysis_run.id;
CREATE SEQUENCE public.api_key_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 OWNED BY public.api_key.id;
CREATE SEQUENCE public.app_user_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 OWNED BY public.app_user.id;
CREATE SEQUENCE public.audit_log_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 OWNED BY public.audit_log.id;
CREATE SEQUENCE public.camera_health_log_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 OWNED BY public.camera_health_log.id;
CREATE SEQUENCE public.early_warning_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 OWNED BY public.early_warning.id;
CREATE SEQUENCE public.incident_event_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 OWNED BY public.incident_event.id;
CREATE SEQUENCE public.incident_report_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 OWNED BY public.incident_report.id;
CREATE SEQUENCE public.live_outbox_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 OWNED BY public.live_outbox.id;
CREATE SEQUENCE public.sub_grid_assignment_id_seq AS bigint START 1 INCREMENT 1 MINVALUE 1 MAXVALUE 9223372036854775807 CACHE 1 OWNED BY public.sub_grid_assignment.id;

--
-- Tables
--

CREATE TABLE public.analysis_run (
    id bigint DEFAULT nextval('analysis_run_id_seq'::regclass) NOT NULL,
    computed_at timestamp with time zone DEFAULT now() NOT NULL,
    window_start timestamp with time zone NOT NULL,
    window_end timestamp with time zone NOT NULL,
    params jsonb DEFAULT '{}'::jsonb NOT NULL,
    seconds double precision DEFAULT 0 NOT NULL,
    summary jsonb DEFAULT '{}'::jsonb NOT NULL
);

CREATE TABLE public.api_key (
    id bigint DEFAULT nextval('api_key_id_seq'::regclass) NOT NULL,
    name text NOT NULL,
    key_hash text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone
);

CREATE TABLE public.app_user (
    id bigint DEFAULT nextval('app_user_id_seq'::regclass) NOT NULL,
    username text NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL,
    scope_code text,
    worker_code text,
    disabled boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.audit_log (
    id bigint DEFAULT nextval('audit_log_id_seq'::regclass) NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    target text,
    reason text,
    data jsonb DEFAULT '{}'::jsonb NOT NULL
);

CREATE TABLE public.base_grid (
    code text NOT NULL,
    community_code text NOT NULL,
    sub_grid_code text NOT NULL,
    name text NOT NULL,
    geom geometry(MultiPolygon,4326) NOT NULL
);

CREATE TABLE public.bus_signing_key (
    purpose text NOT NULL,
    key bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.camera (
    code text NOT NULL,
    name text NOT NULL,
    url text,
    geom geometry(Point,4326) NOT NULL,
    heading double precision,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    health text DEFAULT 'unknown'::text NOT NULL,
    health_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.camera_count (
    camera_code text NOT NULL,
    bucket_start timestamp with time zone NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    class text NOT NULL,
    direction text,
    count integer NOT NULL
);

CREATE TABLE public.camera_health_log (
    id bigint DEFAULT nextval('camera_health_log_id_seq'::regclass) NOT NULL,
    camera_code text NOT NULL,
    at timestamp with time zone NOT NULL,
    health_from text,
    health_to text NOT NULL,
    reason text
);

CREATE TABLE public.community (
    code text NOT NULL,
    street_code text NOT NULL,
    name text NOT NULL,
    name_en text,
    geom geometry(MultiPolygon,4326) NOT NULL
);

CREATE TABLE public.demo_manifest (
    key text NOT NULL,
    data jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.district (
    code text NOT NULL,
    name text NOT NULL,
    name_en text,
    geom geometry(MultiPolygon,4326) NOT NULL
);

CREATE TABLE public.early_warning (
    id bigint DEFAULT nextval('early_warning_id_seq'::regclass) NOT NULL,
    kind text NOT NULL,
    dedup_key text NOT NULL,
    matter_code text,
    area_level text NOT NULL,
    area_code text NOT NULL,
    sub_grid_code text,
    community_code text,
    street_code text,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    geom geometry(Point,4326) NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    score double precision,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    run_id bigint,
    status text DEFAULT 'open'::text NOT NULL,
    status_at timestamp with time zone,
    status_by text,
    incident_id uuid
);

CREATE TABLE public.emerging_cell (
    run_id bigint NOT NULL,
    lattice text NOT NULL,
    cell text NOT NULL,
    family text NOT NULL,
    pattern text NOT NULL,
    trend_z double precision NOT NULL,
    trend_p double precision NOT NULL,
    final_z double precision NOT NULL,
    hot_bins integer NOT NULL,
    cold_bins integer NOT NULL,
    geom geometry(MultiPolygon,4326) NOT NULL
);

CREATE TABLE public.grid_revision (
    id boolean DEFAULT true NOT NULL,
    rev bigint DEFAULT 0 NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.grid_worker (
    code text NOT NULL,
    name text NOT NULL,
    phone text,
    community_code text,
    on_duty boolean DEFAULT true NOT NULL,
    active boolean DEFAULT true NOT NULL,
    last_geom geometry(Point,4326),
    last_seen_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.hotspot_cell (
    run_id bigint NOT NULL,
    lattice text NOT NULL,
    cell text NOT NULL,
    family text NOT NULL,
    window_days integer NOT NULL,
    value double precision NOT NULL,
    z double precision NOT NULL,
    p double precision NOT NULL,
    q double precision,
    class text NOT NULL,
    geom geometry(MultiPolygon,4326) NOT NULL
);

CREATE TABLE public.incident (
    id uuid NOT NULL,
    matter_code text NOT NULL,
    source text NOT NULL,
    status text NOT NULL,
    level text DEFAULT 'grid'::text NOT NULL,
    priority smallint NOT NULL,
    queue text,
    geom geometry(Point,4326) NOT NULL,
    outside boolean DEFAULT false NOT NULL,
    base_grid_code text,
    sub_grid_code text,
    community_code text,
    street_code text,
    worker_code text,
    camera_code text,
    situation_id text,
    description text DEFAULT ''::text NOT NULL,
    report_count integer DEFAULT 1 NOT NULL,
    observed_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    dispatched_at timestamp with time zone,
    due_at timestamp with time zone,
    warned_at timestamp with time zone,
    overdue_at timestamp with time zone,
    closed_at timestamp with time zone,
    on_time boolean,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL,
    last_report_at timestamp with time zone NOT NULL
);

CREATE TABLE public.incident_event (
    id bigint DEFAULT nextval('incident_event_id_seq'::regclass) NOT NULL,
    incident_id uuid NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    from_status text,
    to_status text,
    note text,
    media jsonb DEFAULT '[]'::jsonb NOT NULL,
    data jsonb DEFAULT '{}'::jsonb NOT NULL
);

CREATE TABLE public.incident_report (
    id bigint DEFAULT nextval('incident_report_id_seq'::regclass) NOT NULL,
    event_id uuid NOT NULL,
    incident_id uuid NOT NULL,
    source text NOT NULL,
    matter_code text NOT NULL,
    reporter text,
    observed_at timestamp with time zone NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    geom geometry(Point,4326) NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    media jsonb DEFAULT '[]'::jsonb NOT NULL,
    attributes jsonb DEFAULT '{}'::jsonb NOT NULL
);

CREATE TABLE public.indicator_snapshot (
    run_id bigint NOT NULL,
    level text NOT NULL,
    code text NOT NULL,
    period_start timestamp with time zone NOT NULL,
    period_end timestamp with time zone NOT NULL,
    incidents integer NOT NULL,
    closed integer NOT NULL,
    due integer NOT NULL,
    on_time integer NOT NULL,
    on_time_rate double precision,
    mean_dispatch_min double precision,
    mean_accept_min double precision,
    mean_resolve_min double precision,
    returned integer NOT NULL,
    escalated integer NOT NULL
);

CREATE TABLE public.live_outbox (
    id bigint DEFAULT nextval('live_outbox_id_seq'::regclass) NOT NULL,
    key uuid DEFAULT gen_random_uuid() NOT NULL,
    payloads text[] NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.matter (
    code text NOT NULL,
    name text NOT NULL,
    name_en text NOT NULL,
    family text NOT NULL,
    priority smallint NOT NULL,
    deadline_hours double precision NOT NULL,
    escalation text[] DEFAULT '{community,street,district}'::text[] NOT NULL,
    merge_radius_m double precision DEFAULT 50 NOT NULL,
    merge_window_min double precision DEFAULT 30 NOT NULL,
    active boolean DEFAULT true NOT NULL
);

CREATE TABLE public.ranking (
    run_id bigint NOT NULL,
    level text NOT NULL,
    within_code text NOT NULL,
    code text NOT NULL,
    list text NOT NULL,
    rank integer NOT NULL,
    on_time_rate double precision NOT NULL,
    due integer NOT NULL,
    incidents integer NOT NULL
);

CREATE TABLE public.street (
    code text NOT NULL,
    district_code text NOT NULL,
    name text NOT NULL,
    name_en text,
    geom geometry(MultiPolygon,4326) NOT NULL
);

CREATE TABLE public.sub_grid (
    code text NOT NULL,
    community_code text NOT NULL,
    name text NOT NULL,
    geom geometry(MultiPolygon,4326)
);

CREATE TABLE public.sub_grid_assignment (
    id bigint DEFAULT nextval('sub_grid_assignment_id_seq'::regclass) NOT NULL,
    sub_grid_code text NOT NULL,
    worker_code text NOT NULL,
    role text NOT NULL,
    valid_from timestamp with time zone DEFAULT now() NOT NULL,
    valid_to timestamp with time zone,
    assigned_by text,
    reason text
);

--
-- Constraints
--

ALTER TABLE public.analysis_run ADD CONSTRAINT analysis_run_check CHECK ((window_end > window_start));
ALTER TABLE public.analysis_run ADD CONSTRAINT analysis_run_pkey PRIMARY KEY (id);
ALTER TABLE public.analysis_run ADD CONSTRAINT analysis_run_seconds_check CHECK ((seconds >= (0)::double precision));
ALTER TABLE public.api_key ADD CONSTRAINT api_key_check CHECK (((revoked_at IS NULL) OR (revoked_at >= created_at)));
ALTER TABLE public.api_key ADD CONSTRAINT api_key_key_hash_check CHECK ((key_hash ~ '^[0-9a-f]{64}$'::text));
ALTER TABLE public.api_key ADD CONSTRAINT api_key_key_hash_key UNIQUE (key_hash);
ALTER TABLE public.api_key ADD CONSTRAINT api_key_name_check CHECK ((length(btrim(name)) > 0));
ALTER TABLE public.api_key ADD CONSTRAINT api_key_pkey PRIMARY KEY (id);
ALTER TABLE public.app_user ADD CONSTRAINT app_user_check CHECK (((role <> 'grid_worker'::text) OR (worker_code IS NOT NULL)));
ALTER TABLE public.app_user ADD CONSTRAINT app_user_pkey PRIMARY KEY (id);
ALTER TABLE public.app_user ADD CONSTRAINT app_user_role_check CHECK ((role = ANY (ARRAY['dispatcher'::text, 'supervisor'::text, 'grid_worker'::text, 'maintenance'::text, 'wall'::text, 'admin'::text])));
ALTER TABLE public.app_user ADD CONSTRAINT app_user_username_key UNIQUE (username);
ALTER TABLE public.app_user ADD CONSTRAINT app_user_worker_code_fkey FOREIGN KEY (worker_code) REFERENCES grid_worker(code);
ALTER TABLE public.audit_log ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);
ALTER TABLE public.base_grid ADD CONSTRAINT base_grid_check CHECK (("left"(code, 12) = community_code));
ALTER TABLE public.base_grid ADD CONSTRAINT base_grid_code_check CHECK ((code ~ '^[0-9]{15}$'::text));
ALTER TABLE public.base_grid ADD CONSTRAINT base_grid_community_code_fkey FOREIGN KEY (community_code) REFERENCES community(code);
ALTER TABLE public.base_grid ADD CONSTRAINT base_grid_geom_check CHECK ((st_isvalid(geom) AND (NOT st_isempty(geom))));
ALTER TABLE public.base_grid ADD CONSTRAINT base_grid_pkey PRIMARY KEY (code);
ALTER TABLE public.base_grid ADD CONSTRAINT base_grid_sub_grid_code_community_code_fkey FOREIGN KEY (sub_grid_code, community_code) REFERENCES sub_grid(code, community_code) DEFERRABLE;
ALTER TABLE public.bus_signing_key ADD CONSTRAINT bus_signing_key_key_check CHECK ((length(key) = 32));
ALTER TABLE public.bus_signing_key ADD CONSTRAINT bus_signing_key_pkey PRIMARY KEY (purpose);
ALTER TABLE public.bus_signing_key ADD CONSTRAINT bus_signing_key_purpose_check CHECK ((purpose = 'recheck'::text));
ALTER TABLE public.camera ADD CONSTRAINT camera_heading_check CHECK (((heading IS NULL) OR ((heading >= (0)::double precision) AND (heading < (360)::double precision))));
ALTER TABLE public.camera ADD CONSTRAINT camera_health_check CHECK ((health = ANY (ARRAY['unknown'::text, 'online'::text, 'degraded'::text, 'offline'::text])));
ALTER TABLE public.camera ADD CONSTRAINT camera_pkey PRIMARY KEY (code);
ALTER TABLE public.camera_count ADD CONSTRAINT camera_count_class_check CHECK ((class = ANY (ARRAY['person'::text, 'vehicle'::text])));
ALTER TABLE public.camera_count ADD CONSTRAINT camera_count_count_check CHECK ((count >= 0));
ALTER TABLE public.camera_count ADD CONSTRAINT camera_count_direction_check CHECK ((direction = ANY (ARRAY['in'::text, 'out'::text])));
ALTER TABLE public.camera_count ADD CONSTRAINT camera_count_direction_of_lines CHECK (((kind = 'line'::text) = (direction IS NOT NULL)));
ALTER TABLE public.camera_count ADD CONSTRAINT camera_count_key UNIQUE NULLS NOT DISTINCT (camera_code, bucket_start, kind, name, class, direction);
ALTER TABLE public.camera_count ADD CONSTRAINT camera_count_kind_check CHECK ((kind = ANY (ARRAY['zone'::text, 'line'::text])));
ALTER TABLE public.camera_count ADD CONSTRAINT camera_count_name_check CHECK (((length(name) >= 1) AND (length(name) <= 64)));
ALTER TABLE public.camera_health_log ADD CONSTRAINT camera_health_log_health_from_check CHECK ((health_from = ANY (ARRAY['unknown'::text, 'online'::text, 'degraded'::text, 'offline'::text])));
ALTER TABLE public.camera_health_log ADD CONSTRAINT camera_health_log_health_to_check CHECK ((health_to = ANY (ARRAY['unknown'::text, 'online'::text, 'degraded'::text, 'offline'::text])));
ALTER TABLE public.camera_health_log ADD CONSTRAINT camera_health_log_pkey PRIMARY KEY (id);
ALTER TABLE public.community ADD CONSTRAINT community_check CHECK (("left"(code, 9) = street_code));
ALTER TABLE public.community ADD CONSTRAINT community_code_check CHECK ((code ~ '^[0-9]{12}$'::text));
ALTER TABLE public.community ADD CONSTRAINT community_geom_check CHECK ((st_isvalid(geom) AND (NOT st_isempty(geom))));
ALTER TABLE public.community ADD CONSTRAINT community_pkey PRIMARY KEY (code);
ALTER TABLE public.community ADD CONSTRAINT community_street_code_fkey FOREIGN KEY (street_code) REFERENCES street(code);
ALTER TABLE public.demo_manifest ADD CONSTRAINT demo_manifest_pkey PRIMARY KEY (key);
ALTER TABLE public.district ADD CONSTRAINT district_code_check CHECK ((code ~ '^[0-9]{6}$'::text));
ALTER TABLE public.district ADD CONSTRAINT district_geom_check CHECK ((st_isvalid(geom) AND (NOT st_isempty(geom))));
ALTER TABLE public.district ADD CONSTRAINT district_pkey PRIMARY KEY (code);
ALTER TABLE public.early_warning ADD CONSTRAINT early_warning_area_level_check CHECK ((area_level = ANY (ARRAY['sub_grid'::text, 'community'::text, 'street'::text, 'district'::text])));
ALTER TABLE public.early_warning ADD CONSTRAINT early_warning_check CHECK (((status = 'case_made'::text) = (incident_id IS NOT NULL)));
ALTER TABLE public.early_warning ADD CONSTRAINT early_warning_check1 CHECK (((kind = 'camera_blind'::text) OR (matter_code IS NOT NULL)));
ALTER TABLE public.early_warning ADD CONSTRAINT early_warning_dedup_key_key UNIQUE (dedup_key);
ALTER TABLE public.early_warning ADD CONSTRAINT early_warning_kind_check CHECK ((kind = ANY (ARRAY['rising'::text, 'repeat'::text, 'camera_blind'::text])));
ALTER TABLE public.early_warning ADD CONSTRAINT early_warning_matter_code_fkey FOREIGN KEY (matter_code) REFERENCES matter(code);
ALTER TABLE public.early_warning ADD CONSTRAINT early_warning_pkey PRIMARY KEY (id);
ALTER TABLE public.early_warning ADD CONSTRAINT early_warning_run_id_fkey FOREIGN KEY (run_id) REFERENCES analysis_run(id) ON DELETE SET NULL;
ALTER TABLE public.early_warning ADD CONSTRAINT early_warning_status_check CHECK ((status = ANY (ARRAY['open'::text, 'case_made'::text, 'dismissed'::text])));
ALTER TABLE public.emerging_cell ADD CONSTRAINT emerging_cell_family_check CHECK ((family = ANY (ARRAY['crime'::text, 'dispute'::text, 'hazard'::text, 'maintenance'::text, 'all'::text])));
ALTER TABLE public.emerging_cell ADD CONSTRAINT emerging_cell_lattice_check CHECK ((lattice = ANY (ARRAY['square200'::text, 'sub_grid'::text])));
ALTER TABLE public.emerging_cell ADD CONSTRAINT emerging_cell_pkey PRIMARY KEY (run_id, lattice, family, cell);
ALTER TABLE public.emerging_cell ADD CONSTRAINT emerging_cell_run_id_fkey FOREIGN KEY (run_id) REFERENCES analysis_run(id) ON DELETE CASCADE;
ALTER TABLE public.grid_revision ADD CONSTRAINT grid_revision_id_check CHECK (id);
ALTER TABLE public.grid_revision ADD CONSTRAINT grid_revision_pkey PRIMARY KEY (id);
ALTER TABLE public.grid_worker ADD CONSTRAINT grid_worker_community_code_fkey FOREIGN KEY (community_code) REFERENCES community(code);
ALTER TABLE public.grid_worker ADD CONSTRAINT grid_worker_pkey PRIMARY KEY (code);
ALTER TABLE public.hotspot_cell ADD CONSTRAINT hotspot_cell_class_check CHECK ((class = ANY (ARRAY['hot_99'::text, 'hot_95'::text, 'hot_90'::text, 'not_significant'::text, 'cold_90'::text, 'cold_95'::text, 'cold_99'::text])));
ALTER TABLE public.hotspot_cell ADD CONSTRAINT hotspot_cell_family_check CHECK ((family = ANY (ARRAY['crime'::text, 'dispute'::text, 'hazard'::text, 'maintenance'::text, 'all'::text])));
ALTER TABLE public.hotspot_cell ADD CONSTRAINT hotspot_cell_lattice_check CHECK ((lattice = ANY (ARRAY['square200'::text, 'sub_grid'::text])));
ALTER TABLE public.hotspot_cell ADD CONSTRAINT hotspot_cell_pkey PRIMARY KEY (run_id, lattice, family, window_days, cell);
ALTER TABLE public.hotspot_cell ADD CONSTRAINT hotspot_cell_run_id_fkey FOREIGN KEY (run_id) REFERENCES analysis_run(id) ON DELETE CASCADE;
ALTER TABLE public.hotspot_cell ADD CONSTRAINT hotspot_cell_window_days_check CHECK ((window_days > 0));
ALTER TABLE public.incident ADD CONSTRAINT incident_level_check CHECK ((level = ANY (ARRAY['grid'::text, 'community'::text, 'street'::text, 'district'::text])));
ALTER TABLE public.incident ADD CONSTRAINT incident_pkey PRIMARY KEY (id);
ALTER TABLE public.incident ADD CONSTRAINT incident_priority_check CHECK (((priority >= 1) AND (priority <= 3)));
ALTER TABLE public.incident ADD CONSTRAINT incident_queue_check CHECK ((queue = ANY (ARRAY['worker'::text, 'community'::text, 'district'::text, 'verification'::text])));
ALTER TABLE public.incident ADD CONSTRAINT incident_report_count_check CHECK ((report_count >= 1));
ALTER TABLE public.incident ADD CONSTRAINT incident_source_check CHECK ((source = ANY (ARRAY['camera'::text, 'grid_worker'::text, 'appeal'::text, 'open311'::text, 'analysis'::text])));
ALTER TABLE public.incident ADD CONSTRAINT incident_status_check CHECK ((status = ANY (ARRAY['reported'::text, 'dispatched'::text, 'accepted'::text, 'in_progress'::text, 'resolved'::text, 'closed'::text, 'returned'::text, 'cancelled'::text])));
ALTER TABLE public.incident_event ADD CONSTRAINT incident_event_pkey PRIMARY KEY (id);
ALTER TABLE public.incident_report ADD CONSTRAINT incident_report_event_id_key UNIQUE (event_id);
ALTER TABLE public.incident_report ADD CONSTRAINT incident_report_pkey PRIMARY KEY (id);
ALTER TABLE public.indicator_snapshot ADD CONSTRAINT indicator_snapshot_level_check CHECK ((level = ANY (ARRAY['worker'::text, 'sub_grid'::text, 'community'::text, 'street'::text])));
ALTER TABLE public.indicator_snapshot ADD CONSTRAINT indicator_snapshot_pkey PRIMARY KEY (run_id, level, code);
ALTER TABLE public.indicator_snapshot ADD CONSTRAINT indicator_snapshot_run_id_fkey FOREIGN KEY (run_id) REFERENCES analysis_run(id) ON DELETE CASCADE;
ALTER TABLE public.live_outbox ADD CONSTRAINT live_outbox_pkey PRIMARY KEY (id);
ALTER TABLE public.matter ADD CONSTRAINT matter_deadline_hours_check CHECK ((deadline_hours > (0)::double precision));
ALTER TABLE public.matter ADD CONSTRAINT matter_escalation_check CHECK ((escalation <@ ARRAY['community'::text, 'street'::text, 'district'::text]));
ALTER TABLE public.matter ADD CONSTRAINT matter_family_check CHECK ((family = ANY (ARRAY['crime'::text, 'dispute'::text, 'hazard'::text, 'maintenance'::text])));
ALTER TABLE public.matter ADD CONSTRAINT matter_merge_radius_m_check CHECK ((merge_radius_m >= (0)::double precision));
ALTER TABLE public.matter ADD CONSTRAINT matter_merge_window_min_check CHECK ((merge_window_min >= (0)::double precision));
ALTER TABLE public.matter ADD CONSTRAINT matter_pkey PRIMARY KEY (code);
ALTER TABLE public.matter ADD CONSTRAINT matter_priority_check CHECK (((priority >= 1) AND (priority <= 3)));
ALTER TABLE public.ranking ADD CONSTRAINT ranking_level_check CHECK ((level = ANY (ARRAY['worker'::text, 'sub_grid'::text, 'community'::text, 'street'::text])));
ALTER TABLE public.ranking ADD CONSTRAINT ranking_list_check CHECK ((list = ANY (ARRAY['red'::text, 'black'::text])));
ALTER TABLE public.ranking ADD CONSTRAINT ranking_pkey PRIMARY KEY (run_id, level, within_code, list, rank);
ALTER TABLE public.ranking ADD CONSTRAINT ranking_rank_check CHECK ((rank >= 1));
ALTER TABLE public.ranking ADD CONSTRAINT ranking_run_id_fkey FOREIGN KEY (run_id) REFERENCES analysis_run(id) ON DELETE CASCADE;
ALTER TABLE public.street ADD CONSTRAINT street_check CHECK (("left"(code, 6) = district_code));
ALTER TABLE public.street ADD CONSTRAINT street_code_check CHECK ((code ~ '^[0-9]{9}$'::text));
ALTER TABLE public.street ADD CONSTRAINT street_district_code_fkey FOREIGN KEY (district_code) REFERENCES district(code);
ALTER TABLE public.street ADD CONSTRAINT street_geom_check CHECK ((st_isvalid(geom) AND (NOT st_isempty(geom))));
ALTER TABLE public.street ADD CONSTRAINT street_pkey PRIMARY KEY (code);
ALTER TABLE public.sub_grid ADD CONSTRAINT sub_grid_check CHECK (("left"(code, 12) = community_code));
ALTER TABLE public.sub_grid ADD CONSTRAINT sub_grid_code_check CHECK ((code ~ '^[0-9]{14}$'::text));
ALTER TABLE public.sub_grid ADD CONSTRAINT sub_grid_code_community_code_key UNIQUE (code, community_code);
ALTER TABLE public.sub_grid ADD CONSTRAINT sub_grid_community_code_fkey FOREIGN KEY (community_code) REFERENCES community(code);
ALTER TABLE public.sub_grid ADD CONSTRAINT sub_grid_pkey PRIMARY KEY (code);
ALTER TABLE public.sub_grid_assignment ADD CONSTRAINT sub_grid_assignment_check CHECK (((valid_to IS NULL) OR (valid_to >= valid_from)));
ALTER TABLE public.sub_grid_assignment ADD CONSTRAINT sub_grid_assignment_pkey PRIMARY KEY (id);
ALTER TABLE public.sub_grid_assignment ADD CONSTRAINT sub_grid_assignment_role_check CHECK ((role = ANY (ARRAY['primary'::text, 'backup'::text])));
ALTER TABLE public.sub_grid_assignment ADD CONSTRAINT sub_grid_assignment_worker_code_fkey FOREIGN KEY (worker_code) REFERENCES grid_worker(code);

--
-- Indexes
--

CREATE INDEX analysis_run_computed_idx ON public.analysis_run USING btree (computed_at DESC);
CREATE UNIQUE INDEX api_key_name_live_idx ON public.api_key USING btree (name) WHERE (revoked_at IS NULL);
CREATE INDEX audit_log_alarm_ack_idx ON public.audit_log USING btree (target) WHERE (action = 'alarm_ack'::text);
CREATE INDEX audit_log_at_idx ON public.audit_log USING btree (at);
CREATE INDEX base_grid_community_idx ON public.base_grid USING btree (community_code);
CREATE INDEX base_grid_geom_idx ON public.base_grid USING gist (geom);
CREATE INDEX base_grid_sub_grid_idx ON public.base_grid USING btree (sub_grid_code);
CREATE INDEX camera_geom_idx ON public.camera USING gist (geom);
CREATE INDEX camera_health_log_camera_at_idx ON public.camera_health_log USING btree (camera_code, at);
CREATE INDEX community_geom_idx ON public.community USING gist (geom);
CREATE INDEX district_geom_idx ON public.district USING gist (geom);
CREATE INDEX early_warning_geom_idx ON public.early_warning USING gist (geom);
CREATE INDEX early_warning_kind_idx ON public.early_warning USING btree (kind, created_at DESC);
CREATE INDEX early_warning_open_idx ON public.early_warning USING btree (created_at DESC) WHERE (status = 'open'::text);
CREATE INDEX emerging_cell_geom_idx ON public.emerging_cell USING gist (geom);
CREATE INDEX hotspot_cell_geom_idx ON public.hotspot_cell USING gist (geom);
CREATE INDEX incident_created_idx ON public.incident USING btree (created_at);
CREATE INDEX incident_due_idx ON public.incident USING btree (due_at) WHERE (status = ANY (ARRAY['dispatched'::text, 'accepted'::text, 'in_progress'::text, 'returned'::text]));
CREATE INDEX incident_matter_created_idx ON public.incident USING btree (matter_code, created_at);
CREATE INDEX incident_open_alarm_idx ON public.incident USING btree (created_at) WHERE ((priority = 1) AND (status <> ALL (ARRAY['closed'::text, 'cancelled'::text])));
CREATE INDEX incident_open_base_grid_idx ON public.incident USING btree (base_grid_code) WHERE (status <> ALL (ARRAY['closed'::text, 'cancelled'::text]));
CREATE INDEX incident_open_community_idx ON public.incident USING btree (community_code) WHERE (status <> ALL (ARRAY['closed'::text, 'cancelled'::text]));
CREATE INDEX incident_open_geom_spgist_idx ON public.incident USING spgist (geom) WHERE (status = ANY (ARRAY['reported'::text, 'dispatched'::text, 'accepted'::text, 'in_progress'::text, 'returned'::text]));
CREATE INDEX incident_open_street_idx ON public.incident USING btree (street_code) WHERE (status <> ALL (ARRAY['closed'::text, 'cancelled'::text]));
CREATE UNIQUE INDEX incident_situation_idx ON public.incident USING btree (camera_code, situation_id) WHERE (situation_id IS NOT NULL);
CREATE INDEX incident_status_idx ON public.incident USING btree (status);
CREATE INDEX incident_sub_grid_idx ON public.incident USING btree (sub_grid_code, status);
CREATE INDEX incident_worker_idx ON public.incident USING btree (worker_code, status);
CREATE INDEX incident_event_incident_idx ON public.incident_event USING btree (incident_id, at);
CREATE INDEX incident_report_incident_idx ON public.incident_report USING btree (incident_id);
CREATE INDEX incident_report_situation_idx ON public.incident_report USING btree ((((attributes -> 'situation'::text) ->> 'id'::text))) WHERE (attributes ? 'situation'::text);
CREATE INDEX street_geom_idx ON public.street USING gist (geom);
CREATE INDEX sub_grid_geom_idx ON public.sub_grid USING gist (geom);
CREATE UNIQUE INDEX sub_grid_assignment_current_idx ON public.sub_grid_assignment USING btree (sub_grid_code, role) WHERE (valid_to IS NULL);
CREATE INDEX sub_grid_assignment_sub_grid_idx ON public.sub_grid_assignment USING btree (sub_grid_code);
CREATE INDEX sub_grid_assignment_worker_idx ON public.sub_grid_assignment USING btree (worker_code) WHERE (valid_to IS NULL);

--
-- Triggers
--

CREATE TRIGGER trg_audit_log_append_only BEFORE DELETE OR UPDATE ON public.audit_log FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE CONSTRAINT TRIGGER trg_base_grid_leaves_sub_grid AFTER DELETE OR UPDATE OF sub_grid_code ON public.base_grid DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sub_grid_check_not_empty();
CREATE TRIGGER trg_base_grid_live_refs AFTER DELETE ON public.base_grid FOR EACH ROW EXECUTE FUNCTION grid_live_references_hold('base_grid_code');
CREATE TRIGGER trg_base_grid_live_refs_rename AFTER UPDATE OF code ON public.base_grid FOR EACH ROW WHEN ((old.code IS DISTINCT FROM new.code)) EXECUTE FUNCTION grid_live_references_hold('base_grid_code');
CREATE CONSTRAINT TRIGGER trg_base_grid_rules AFTER INSERT OR UPDATE OF geom, community_code ON public.base_grid DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION base_grid_check_rules();
CREATE TRIGGER trg_base_grid_union_del AFTER DELETE ON public.base_grid REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION base_grid_touch_sub_grids();
CREATE TRIGGER trg_base_grid_union_ins AFTER INSERT ON public.base_grid REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION base_grid_touch_sub_grids();
CREATE TRIGGER trg_base_grid_union_upd AFTER UPDATE ON public.base_grid REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION base_grid_touch_sub_grids();
CREATE TRIGGER trg_grid_revision_base AFTER INSERT OR DELETE OR UPDATE ON public.base_grid FOR EACH STATEMENT EXECUTE FUNCTION grid_revision_bump();
CREATE TRIGGER camera_refs_del AFTER DELETE ON public.camera REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_absent('code', 'incident', 'camera_code', 'incident_camera_code_fkey');
CREATE TRIGGER camera_refs_upd AFTER UPDATE ON public.camera REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_absent('code', 'incident', 'camera_code', 'incident_camera_code_fkey');
CREATE TRIGGER trg_camera_health_log_insert AFTER INSERT ON public.camera FOR EACH ROW EXECUTE FUNCTION camera_health_log_write();
CREATE TRIGGER trg_camera_health_log_update AFTER UPDATE OF health ON public.camera FOR EACH ROW WHEN ((old.health IS DISTINCT FROM new.health)) EXECUTE FUNCTION camera_health_log_write();
CREATE TRIGGER trg_grid_revision_camera AFTER INSERT OR DELETE OR UPDATE OF geom, config ON public.camera FOR EACH STATEMENT EXECUTE FUNCTION grid_revision_bump();
CREATE TRIGGER trg_camera_health_log_append_only BEFORE DELETE OR UPDATE ON public.camera_health_log FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER trg_community_live_refs AFTER DELETE ON public.community FOR EACH ROW EXECUTE FUNCTION grid_live_references_hold('community_code');
CREATE TRIGGER trg_community_live_refs_rename AFTER UPDATE OF code ON public.community FOR EACH ROW WHEN ((old.code IS DISTINCT FROM new.code)) EXECUTE FUNCTION grid_live_references_hold('community_code');
CREATE TRIGGER trg_grid_revision_community AFTER INSERT OR DELETE OR UPDATE ON public.community FOR EACH STATEMENT EXECUTE FUNCTION grid_revision_bump();
CREATE TRIGGER grid_worker_refs_del AFTER DELETE ON public.grid_worker REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_absent('code', 'incident', 'worker_code', 'incident_worker_code_fkey');
CREATE TRIGGER grid_worker_refs_upd AFTER UPDATE ON public.grid_worker REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_absent('code', 'incident', 'worker_code', 'incident_worker_code_fkey');
CREATE TRIGGER incident_refs_del AFTER DELETE ON public.incident REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_absent('id', 'incident_event', 'incident_id', 'incident_report', 'incident_id', 'incident_event_incident_id_fkey', 'incident_report_incident_id_fkey');
CREATE TRIGGER incident_refs_exist_ins AFTER INSERT ON public.incident REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_exist('camera_code', 'camera', 'code', 'incident_camera_code_fkey', 'matter_code', 'matter', 'code', 'incident_matter_code_fkey', 'worker_code', 'grid_worker', 'code', 'incident_worker_code_fkey');
CREATE TRIGGER incident_refs_exist_upd AFTER UPDATE ON public.incident REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_exist('camera_code', 'camera', 'code', 'incident_camera_code_fkey', 'matter_code', 'matter', 'code', 'incident_matter_code_fkey', 'worker_code', 'grid_worker', 'code', 'incident_worker_code_fkey');
CREATE TRIGGER incident_refs_upd AFTER UPDATE ON public.incident REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_absent('id', 'incident_event', 'incident_id', 'incident_report', 'incident_id', 'incident_event_incident_id_fkey', 'incident_report_incident_id_fkey');
CREATE TRIGGER trg_incident_default_last_report BEFORE INSERT ON public.incident FOR EACH ROW WHEN ((new.last_report_at IS NULL)) EXECUTE FUNCTION incident_default_last_report();
CREATE TRIGGER trg_incident_grid_exists_ins AFTER INSERT ON public.incident REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_grid_codes_exist();
CREATE TRIGGER trg_incident_grid_exists_upd AFTER UPDATE ON public.incident REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION incident_grid_codes_exist();
CREATE TRIGGER incident_event_refs_exist_ins AFTER INSERT ON public.incident_event REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_exist('incident_id', 'incident', 'id', 'incident_event_incident_id_fkey');
CREATE TRIGGER trg_incident_event_append_only BEFORE DELETE OR UPDATE ON public.incident_event FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER incident_report_refs_exist_ins AFTER INSERT ON public.incident_report REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_exist('incident_id', 'incident', 'id', 'incident_report_incident_id_fkey', 'matter_code', 'matter', 'code', 'incident_report_matter_code_fkey');
CREATE TRIGGER incident_report_refs_exist_upd AFTER UPDATE ON public.incident_report REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_exist('incident_id', 'incident', 'id', 'incident_report_incident_id_fkey', 'matter_code', 'matter', 'code', 'incident_report_matter_code_fkey');
CREATE TRIGGER matter_refs_del AFTER DELETE ON public.matter REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_absent('code', 'incident', 'matter_code', 'incident_report', 'matter_code', 'incident_matter_code_fkey', 'incident_report_matter_code_fkey');
CREATE TRIGGER matter_refs_upd AFTER UPDATE ON public.matter REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_absent('code', 'incident', 'matter_code', 'incident_report', 'matter_code', 'incident_matter_code_fkey', 'incident_report_matter_code_fkey');
CREATE TRIGGER trg_grid_revision_matter AFTER INSERT OR DELETE OR UPDATE ON public.matter FOR EACH STATEMENT EXECUTE FUNCTION grid_revision_bump();
CREATE TRIGGER trg_grid_revision_street AFTER INSERT OR DELETE OR UPDATE ON public.street FOR EACH STATEMENT EXECUTE FUNCTION grid_revision_bump();
CREATE TRIGGER trg_street_live_refs AFTER DELETE ON public.street FOR EACH ROW EXECUTE FUNCTION grid_live_references_hold('street_code');
CREATE TRIGGER trg_street_live_refs_rename AFTER UPDATE OF code ON public.street FOR EACH ROW WHEN ((old.code IS DISTINCT FROM new.code)) EXECUTE FUNCTION grid_live_references_hold('street_code');
CREATE TRIGGER trg_sub_grid_derive BEFORE INSERT OR UPDATE ON public.sub_grid FOR EACH ROW EXECUTE FUNCTION sub_grid_derive();
CREATE TRIGGER trg_sub_grid_live_refs AFTER DELETE ON public.sub_grid FOR EACH ROW EXECUTE FUNCTION grid_live_references_hold('sub_grid_code');
CREATE TRIGGER trg_sub_grid_live_refs_rename AFTER UPDATE OF code ON public.sub_grid FOR EACH ROW WHEN ((old.code IS DISTINCT FROM new.code)) EXECUTE FUNCTION grid_live_references_hold('sub_grid_code');
CREATE CONSTRAINT TRIGGER trg_sub_grid_not_empty AFTER INSERT ON public.sub_grid DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION sub_grid_check_not_empty();
CREATE TRIGGER trg_sub_grid_assignment_exists AFTER INSERT OR UPDATE OF sub_grid_code ON public.sub_grid_assignment FOR EACH ROW EXECUTE FUNCTION sub_grid_assignment_grid_exists();
