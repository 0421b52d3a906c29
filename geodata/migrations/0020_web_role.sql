-- The dashboard's own database role (issue 12). The dashboard is the process that faces browsers,
-- tablets and Open311 clients; the bus signing key (0018) is what lets a message reopen a case. Until
-- now one role served every process, so a flaw in the web process that let it run a query of an
-- attacker's choosing would hand over the key as well. `gridwatch_web` gets what the processes share
-- (read and write every table, use every sequence) except `bus_signing_key`; the dashboard logs in as
-- `gridwatch_dashboard`, a member of it and nothing else (geodata/settings.py, GRIDWATCH_WEB_DATABASE_URL).
--
-- Roles belong to the cluster, not to this database: another gridwatch database of the same cluster (a
-- test's, a second district's) or the DBA may have made them already, even at this moment. Each is made
-- only when missing, so a migrating role that may not create roles (a managed database's owner) still
-- grants to roles the DBA made beforehand (docs/security.md); where one is missing and cannot be made,
-- a warning instead of a failure, and the dashboard then goes on with the workers' role and says so.
--
-- `gridwatch_dashboard` has no password: it can log in only where the server trusts the connection
-- (the private servers of `gridwatch services up`, a local socket with peer authentication). Elsewhere
-- the DBA gives it one: ALTER ROLE gridwatch_dashboard PASSWORD '...'.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gridwatch_web') THEN
        BEGIN
            CREATE ROLE gridwatch_web NOLOGIN;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;  -- made by another database's migration
            WHEN insufficient_privilege THEN
                RAISE WARNING 'role gridwatch_web is missing and % may not create roles: the dashboard will '
                              'use the workers'' role; see docs/security.md', current_user;
                RETURN;
        END;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gridwatch_dashboard') THEN
        BEGIN
            CREATE ROLE gridwatch_dashboard LOGIN IN ROLE gridwatch_web;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE WARNING 'role gridwatch_dashboard is missing and % may not create roles: grant '
                              'gridwatch_web to the dashboard''s login; see docs/security.md', current_user;
        END;
    END IF;

    GRANT USAGE ON SCHEMA public TO gridwatch_web;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO gridwatch_web;
    GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO gridwatch_web;
    REVOKE ALL ON bus_signing_key FROM gridwatch_web;
    -- Tables and sequences of later migrations (made by this same role) are shared the same way; a
    -- later table as secret as the key must revoke it from gridwatch_web in its own migration.
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO gridwatch_web;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO gridwatch_web;
END
$$;
