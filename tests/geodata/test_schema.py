"""The migrations produce the schema the code and other programs expect."""

import argparse

import psycopg
import pytest

from geodata import migrate, schema_dump
from geodata.settings import Settings
from workers.cli import db_cmd

# Names other programs and reports query: keep them.
EXPECTED_COLUMNS = {
    "district": {"code", "name", "geom"},
    "street": {"code", "name", "geom", "district_code"},
    "community": {"code", "name", "geom", "street_code"},
    "sub_grid": {"code", "name", "geom", "community_code"},
    "base_grid": {"code", "name", "geom", "sub_grid_code", "community_code"},
    "grid_worker": {"code", "name"},
    "sub_grid_assignment": {"sub_grid_code", "worker_code", "role", "valid_from", "valid_to"},
    "camera": {"code", "name", "geom", "config"},
    "matter": {"code", "name", "name_en", "family", "priority", "deadline_hours", "escalation"},
    "incident": {"id", "matter_code", "status", "level", "geom", "base_grid_code", "sub_grid_code",
                 "community_code", "street_code", "worker_code", "created_at", "due_at", "on_time"},
    "incident_report": {"event_id", "incident_id"},
    "incident_event": {"incident_id", "at", "actor", "action", "from_status", "to_status", "note", "media"},
    "app_user": {"username", "password_hash", "role", "scope_code"},
    "audit_log": {"at", "actor", "action", "target", "reason"},
}


def _columns(conn, table):
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema='public' AND table_name=%s",
        (table,),
    ).fetchall()
    return {r[0]: r[1] for r in rows}


def test_tables_and_columns(db_url):
    with psycopg.connect(db_url) as conn:
        for table, cols in EXPECTED_COLUMNS.items():
            have = _columns(conn, table)
            assert have, f"table {table} is missing"
            assert cols <= set(have), f"{table} lacks {cols - set(have)}"


# Reports are never searched by place (their case is); migration 0013 dropped their index, which cost
# every new report an index insert.
NOT_SEARCHED_BY_PLACE = {"incident_report"}


def test_geometry_is_wgs84_with_spatial_indexes(db_url):
    with psycopg.connect(db_url) as conn:
        geoms = conn.execute(
            "SELECT f_table_name, f_geometry_column, srid FROM geometry_columns WHERE f_table_schema='public'"
        ).fetchall()
        assert {g[0] for g in geoms} >= {"district", "street", "community", "sub_grid", "base_grid", "camera", "incident"}
        assert all(g[2] == 4326 for g in geoms), geoms
        for table, column, _ in geoms:
            if column != "geom" or table in NOT_SEARCHED_BY_PLACE:
                continue
            idx = conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename=%s "
                "AND (indexdef ILIKE '%%USING gist (geom)%%' OR indexdef ILIKE '%%USING spgist (geom)%%')", (table,)
            ).fetchall()
            assert idx, f"{table}.geom has no GiST or SP-GiST index"


def test_every_timestamp_has_a_time_zone(db_url):
    with psycopg.connect(db_url) as conn:
        naive = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema='public' AND data_type = 'timestamp without time zone'"
        ).fetchall()
    assert naive == []


def test_grid_codes_are_unique_and_formatted(db_url):
    with psycopg.connect(db_url) as conn:
        for table in ("district", "street", "community", "sub_grid", "base_grid", "grid_worker", "camera"):
            pk = conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid=i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indrelid = %s::regclass AND i.indisprimary",
                (table,),
            ).fetchall()
            assert [r[0] for r in pk] == ["code"], table
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO district (code, name, geom) VALUES ('4403', 'x', "
                "ST_Multi(ST_MakeEnvelope(114.3, 22.6, 114.4, 22.7, 4326)))"
            )


def test_migrate_is_idempotent_and_refuses_edited_files(db_url, monkeypatch):
    with psycopg.connect(db_url) as conn:
        assert migrate.migrate(conn) == []
        applied = conn.execute("SELECT version FROM schema_migration ORDER BY version").fetchall()
        assert [r[0] for r in applied] == [m.version for m in migrate.available()]
        edited = [migrate.Migration(m.version, m.name, m.sql + "\n-- edited") for m in migrate.available()]
        monkeypatch.setattr(migrate, "available", lambda: edited)
        with pytest.raises(migrate.MigrationError, match="changed after it was applied"):
            migrate.migrate(conn)


def test_history_tables_are_append_only(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute("INSERT INTO audit_log (actor, action) VALUES ('t', 'x')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM audit_log")


# The pinned schema (procrastinate's tests/migration/ does the same): the file is only ever read here.


def test_the_migrations_produce_the_committed_schema(db_url):
    with psycopg.connect(db_url) as conn:
        actual = schema_dump.dump(conn)
    committed = schema_dump.SCHEMA_FILE.read_text(encoding="utf-8")
    changes = schema_dump.diff(committed, actual)
    if changes:
        pytest.fail(f"geodata/schema.sql is not what the migrations produce: run `{schema_dump.UPDATE_COMMAND}` "
                    f"and commit the file with the migration.\n{changes}", pytrace=False)
    # What PostGIS owns and the migration bookkeeping are left out, so they cannot drift by themselves.
    assert "spatial_ref_sys" not in committed and "CREATE FUNCTION public.st_" not in committed
    assert "TABLE public.schema_migration" not in committed


def test_the_dump_is_stable_and_leaves_the_connection_as_it_was(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute("SET search_path TO pg_catalog")
        first = schema_dump.dump(conn)
        second = schema_dump.dump(conn)
        assert conn.execute("SHOW search_path").fetchone()[0] == "pg_catalog"
    assert first == second
    assert "CREATE TABLE public.incident (" in first


def test_a_drift_is_noticed(db_url):
    with psycopg.connect(db_url) as conn:
        before = schema_dump.dump(conn)
        conn.execute("ALTER TABLE district ADD COLUMN drift text DEFAULT 'x'")
        conn.execute("CREATE INDEX district_drift_idx ON district (drift)")
        changes = schema_dump.diff(before, schema_dump.dump(conn))
    added = [line for line in changes.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == [
        "+    geom geometry(MultiPolygon,4326) NOT NULL,",
        "+    drift text DEFAULT 'x'::text",
        "+CREATE INDEX district_drift_idx ON public.district USING btree (drift);",
    ], changes


def _db_schema(url, *argv):
    parser = argparse.ArgumentParser(prog="gridwatch")
    db_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["db", "schema", *argv])
    return args.func(args, Settings(database_url=url, redis_url="redis://unused"))


def test_db_schema_writes_what_a_fresh_migration_holds_and_checks_it(db_url, tmp_path, capsys):
    target = tmp_path / "schema.sql"
    assert _db_schema(db_url, "--output", str(target)) == 0
    with psycopg.connect(db_url) as conn:
        assert target.read_text(encoding="utf-8") == schema_dump.dump(conn)
    target.write_text(target.read_text(encoding="utf-8").replace("    name_en text,\n", "", 1), encoding="utf-8")
    capsys.readouterr()
    assert _db_schema(db_url, "--output", str(target), "--check") == 1
    out = capsys.readouterr()
    assert "+    name_en text," in out.out and "gridwatch db schema" in out.err
