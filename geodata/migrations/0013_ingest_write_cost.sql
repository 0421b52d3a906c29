-- What every new report costs the database (benchmarks/ingest.py, issue 3). Each index and per-row
-- trigger on incident and incident_report is paid once per report at ingest; these were paid for
-- nothing or paid more than they need to.

-- No query searches all incidents or the reports by place: incidents are found by their grid codes,
-- and the only spatial search (duplicate merging) looks at open cases through the index below.
DROP INDEX incident_geom_idx;
DROP INDEX incident_report_geom_idx;

-- Duplicate merging probes the open cases once per report. For points an SP-GiST quad tree answers
-- the box probe in about half the time of a GiST R-tree (25 vs 54 us per probe on 60,000 open cases).
CREATE INDEX incident_open_geom_spgist_idx ON incident USING spgist (geom)
    WHERE status IN ('reported', 'dispatched', 'accepted', 'in_progress', 'returned');
DROP INDEX incident_open_geom_idx;

-- Ingest always sets last_report_at; only writers that leave it out need the PL/pgSQL call.
DROP TRIGGER trg_incident_default_last_report ON incident;
CREATE TRIGGER trg_incident_default_last_report BEFORE INSERT ON incident
    FOR EACH ROW WHEN (NEW.last_report_at IS NULL) EXECUTE FUNCTION incident_default_last_report();

-- Foreign keys checked per statement instead of per row. A foreign key runs one SPI query per
-- inserted row; for a new case that was six (incident: matter, worker, camera; its report: incident,
-- matter; its two history rows: incident), about 85 us of the database's 300 us per case. The
-- triggers below keep the same rule with one set-based query per statement:
--   * a new or changed reference must name a stored row, which is locked FOR KEY SHARE as a foreign
--     key locks it, so a concurrent delete of that row waits for this transaction and then fails;
--   * a referenced row cannot be deleted, nor its key changed, while a row refers to it.
-- The names of the dropped constraints are kept in the errors (SQLSTATE 23503, as before).
-- Unlike a foreign key they do not stop TRUNCATE, which fires no row or statement triggers.
ALTER TABLE incident
    DROP CONSTRAINT incident_matter_code_fkey,
    DROP CONSTRAINT incident_worker_code_fkey,
    DROP CONSTRAINT incident_camera_code_fkey;
ALTER TABLE incident_report
    DROP CONSTRAINT incident_report_incident_id_fkey,
    DROP CONSTRAINT incident_report_matter_code_fkey;
ALTER TABLE incident_event DROP CONSTRAINT incident_event_incident_id_fkey;

-- Child side. TG_ARGV: groups of four (child column, parent table, parent column, constraint name),
-- one group per reference of the table, so each statement runs one trigger. Only references the
-- statement set or changed are judged (rows are matched on the child's id column).
CREATE FUNCTION refs_exist() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;

-- Parent side. TG_ARGV: parent column, then pairs of (child table, child column), then the
-- constraint names in the same order.
CREATE FUNCTION refs_absent() RETURNS trigger LANGUAGE plpgsql AS $$
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
END $$;

-- One trigger per table and event, built from the list of references. History rows are never
-- updated (trg_incident_event_append_only), so incident_event gets no update trigger.
DO $$
DECLARE
    t record;
    args text;
BEGIN
    CREATE TEMP TABLE refs (child text, col text, parent text, pcol text, name text) ON COMMIT DROP;
    INSERT INTO refs VALUES
        ('incident', 'matter_code', 'matter', 'code', 'incident_matter_code_fkey'),
        ('incident', 'worker_code', 'grid_worker', 'code', 'incident_worker_code_fkey'),
        ('incident', 'camera_code', 'camera', 'code', 'incident_camera_code_fkey'),
        ('incident_report', 'incident_id', 'incident', 'id', 'incident_report_incident_id_fkey'),
        ('incident_report', 'matter_code', 'matter', 'code', 'incident_report_matter_code_fkey'),
        ('incident_event', 'incident_id', 'incident', 'id', 'incident_event_incident_id_fkey');
    FOR t IN SELECT child FROM refs GROUP BY child LOOP
        SELECT string_agg(format('%L, %L, %L, %L', col, parent, pcol, name), ', ' ORDER BY col) INTO args
        FROM refs WHERE child = t.child;
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION refs_exist(%s)', t.child || '_refs_exist_ins', t.child, args);
        IF t.child <> 'incident_event' THEN
            EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                           'FOR EACH STATEMENT EXECUTE FUNCTION refs_exist(%s)', t.child || '_refs_exist_upd', t.child, args);
        END IF;
    END LOOP;
    FOR t IN SELECT parent, min(pcol) AS pcol FROM refs GROUP BY parent LOOP
        SELECT format('%L, ', t.pcol) || string_agg(format('%L, %L', child, col), ', ' ORDER BY name) || ', '
               || string_agg(format('%L', name), ', ' ORDER BY name) INTO args
        FROM refs WHERE parent = t.parent;
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION refs_absent(%s)', t.parent || '_refs_del', t.parent, args);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION refs_absent(%s)', t.parent || '_refs_upd', t.parent, args);
    END LOOP;
END $$;
