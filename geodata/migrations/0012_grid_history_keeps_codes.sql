-- Removing a grid (`gridwatch grid import --replace`) must not rewrite history: closed incidents and
-- ended worker assignments keep the codes they were filed under, as plain text (as the analysis
-- tables already do). A foreign key cannot say "only live rows must point at a stored grid", so the
-- triggers below do: a new or changed reference must name a stored grid, and a grid cannot go (or be
-- renamed) while open incidents or current worker assignments point at it.

ALTER TABLE incident
    DROP CONSTRAINT incident_base_grid_code_fkey,
    DROP CONSTRAINT incident_sub_grid_code_fkey,
    DROP CONSTRAINT incident_community_code_fkey,
    DROP CONSTRAINT incident_street_code_fkey;
ALTER TABLE sub_grid_assignment DROP CONSTRAINT sub_grid_assignment_sub_grid_code_fkey;

-- Open incidents are few: these keep the removal checks from scanning the whole history.
CREATE INDEX incident_open_base_grid_idx ON incident (base_grid_code) WHERE status NOT IN ('closed', 'cancelled');
CREATE INDEX incident_open_community_idx ON incident (community_code) WHERE status NOT IN ('closed', 'cancelled');
CREATE INDEX incident_open_street_idx ON incident (street_code) WHERE status NOT IN ('closed', 'cancelled');
CREATE INDEX sub_grid_assignment_sub_grid_idx ON sub_grid_assignment (sub_grid_code);

-- New or changed references must name a stored grid, as the foreign keys required. Only the codes a
-- statement sets are judged, so a closed incident filed under a removed grid can still be updated.
-- Per statement, not per row: the demo seeder and bulk loaders insert tens of thousands of incidents.
CREATE FUNCTION incident_grid_codes_exist() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;

CREATE TRIGGER trg_incident_grid_exists_ins AFTER INSERT ON incident
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_grid_codes_exist();
CREATE TRIGGER trg_incident_grid_exists_upd AFTER UPDATE ON incident
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION incident_grid_codes_exist();

-- An assignment row is written when a worker is assigned, and only its end (valid_to) changes later.
CREATE FUNCTION sub_grid_assignment_grid_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM sub_grid WHERE code = NEW.sub_grid_code) THEN
        RAISE EXCEPTION 'sub-grid % is not stored', NEW.sub_grid_code
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'sub_grid_assignment_grid_exists';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER trg_sub_grid_assignment_exists AFTER INSERT OR UPDATE OF sub_grid_code ON sub_grid_assignment
    FOR EACH ROW EXECUTE FUNCTION sub_grid_assignment_grid_exists();

-- TG_ARGV[0]: the incident column naming this level. Ended assignments and closed or cancelled
-- incidents do not hold a grid; open ones and current assignments do.
CREATE FUNCTION grid_live_references_hold() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;

DO $$
DECLARE
    g record;
BEGIN
    FOR g IN SELECT * FROM (VALUES ('base_grid', 'base_grid_code'), ('sub_grid', 'sub_grid_code'),
                                   ('community', 'community_code'), ('street', 'street_code')) AS v (tbl, col)
    LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I FOR EACH ROW '
                       'EXECUTE FUNCTION grid_live_references_hold(%L)', 'trg_' || g.tbl || '_live_refs', g.tbl, g.col);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE OF code ON %I FOR EACH ROW '
                       'WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION grid_live_references_hold(%L)',
                       'trg_' || g.tbl || '_live_refs_rename', g.tbl, g.col);
    END LOOP;
END $$;
