-- Camera health history (video quality diagnosis), the source of camera availability per CST day.
-- A trigger on camera writes it, so every writer of camera.health (the camera worker, maintenance
-- staff in psql, the seeder's camera inserts) is logged without having to remember to.

CREATE TABLE camera_health_log (
    id          bigserial PRIMARY KEY,
    -- No foreign key: the history is evidence and outlives a camera taken off the register (the
    -- log is append-only, so a cascade could not delete it anyway).
    camera_code text NOT NULL,
    -- When the camera entered health_to: camera.health_at when the writer set it, else the time of
    -- the writing transaction.
    at          timestamptz NOT NULL,
    -- NULL on the camera's first row (its registration, or its state when this table was created).
    health_from text CHECK (health_from IN ('unknown', 'online', 'degraded', 'offline')),
    health_to   text NOT NULL CHECK (health_to IN ('unknown', 'online', 'degraded', 'offline')),
    -- The camera worker's quality problem (offline, frozen, covered, blurred, moved); NULL otherwise.
    reason      text
);
-- Availability reads each camera's rows in time order, and the last row before a period's start.
CREATE INDEX camera_health_log_camera_at_idx ON camera_health_log (camera_code, at);
CREATE TRIGGER trg_camera_health_log_append_only BEFORE UPDATE OR DELETE ON camera_health_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The reason is a property of the change, not of the camera, so it is not a camera column (it would
-- go stale and be logged again by the next writer that does not know it). A writer that has one sets
-- the transaction-local setting gridwatch.health_reason in the same transaction as its UPDATE
-- (named query camera_health_reason); everyone else logs NULL.
CREATE FUNCTION camera_health_log_write() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;

CREATE TRIGGER trg_camera_health_log_insert AFTER INSERT ON camera
    FOR EACH ROW EXECUTE FUNCTION camera_health_log_write();
-- Only real changes: the worker rewrites health only on change, but a no-op UPDATE from elsewhere
-- must not split an interval.
CREATE TRIGGER trg_camera_health_log_update AFTER UPDATE OF health ON camera
    FOR EACH ROW WHEN (OLD.health IS DISTINCT FROM NEW.health) EXECUTE FUNCTION camera_health_log_write();

-- Cameras registered before this migration: their current state since health_at (or since their
-- registration when never diagnosed). What came before is unknown and stays out of availability.
INSERT INTO camera_health_log (camera_code, at, health_from, health_to)
SELECT code, coalesce(health_at, created_at), NULL, health FROM camera;
