-- What the ingest worker needs: the time of an incident's latest report (duplicate merging looks at
-- it) and a revision number of the grid, so in-memory location indexes know when to reload.

ALTER TABLE incident ADD COLUMN last_report_at timestamptz;
UPDATE incident SET last_report_at = observed_at WHERE last_report_at IS NULL;
ALTER TABLE incident ALTER COLUMN last_report_at SET NOT NULL;
-- Writers that do not know the column (bulk loaders) get the first observation.
CREATE FUNCTION incident_default_last_report() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.last_report_at := coalesce(NEW.last_report_at, NEW.observed_at);
    RETURN NEW;
END $$;
CREATE TRIGGER trg_incident_default_last_report BEFORE INSERT ON incident
    FOR EACH ROW EXECUTE FUNCTION incident_default_last_report();
CREATE INDEX incident_open_geom_idx ON incident USING gist (geom)
    WHERE status IN ('reported', 'dispatched', 'accepted', 'in_progress', 'returned');

CREATE TABLE grid_revision (
    id  boolean PRIMARY KEY DEFAULT true CHECK (id),
    rev bigint NOT NULL DEFAULT 0,
    at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO grid_revision DEFAULT VALUES;

CREATE FUNCTION grid_revision_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE grid_revision SET rev = rev + 1, at = now();
    RETURN NULL;
END $$;

CREATE TRIGGER trg_grid_revision_base AFTER INSERT OR UPDATE OR DELETE ON base_grid
    FOR EACH STATEMENT EXECUTE FUNCTION grid_revision_bump();
CREATE TRIGGER trg_grid_revision_community AFTER INSERT OR UPDATE OR DELETE ON community
    FOR EACH STATEMENT EXECUTE FUNCTION grid_revision_bump();
CREATE TRIGGER trg_grid_revision_street AFTER INSERT OR UPDATE OR DELETE ON street
    FOR EACH STATEMENT EXECUTE FUNCTION grid_revision_bump();
-- Not on health updates: those are frequent and do not move anything.
CREATE TRIGGER trg_grid_revision_camera AFTER INSERT OR UPDATE OF geom, config OR DELETE ON camera
    FOR EACH STATEMENT EXECUTE FUNCTION grid_revision_bump();
