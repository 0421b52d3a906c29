-- The matters list changes the ingest worker's reference data too: bump the revision it checks once per
-- batch, so an unknown matter code in a message never makes ingest re-read anything on its own.
CREATE TRIGGER trg_grid_revision_matter AFTER INSERT OR UPDATE OR DELETE ON matter
    FOR EACH STATEMENT EXECUTE FUNCTION grid_revision_bump();
