"""The dashboard's database role (migration 0020): everything the processes share but the bus signing key."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from geodata import db, migrate, rechecks
from geodata.db import WEB_LOGIN, web_role_url
from geodata.settings import Settings
from tests.rig import cloned_db

# What no web request may ever read: the key that lets a bus message reopen a case (migration 0018).
SECRET_TABLES = {"bus_signing_key"}
SHARED = ("SELECT", "INSERT", "UPDATE", "DELETE")


def _tables(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
        "AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') "
        "ORDER BY 1").fetchall()]


def test_the_web_role_shares_every_table_but_the_signing_key(db_url):
    with psycopg.connect(db_url) as conn:
        tables = _tables(conn)
        assert "incident" in tables and "bus_signing_key" in tables
        for table in tables:
            for priv in SHARED:
                granted = conn.execute("SELECT has_table_privilege('gridwatch_web', %s, %s)",
                                       (f"public.{table}", priv)).fetchone()[0]
                assert granted == (table not in SECRET_TABLES), (table, priv)
        # The identity columns' sequences too: an INSERT needs them.
        seqs = conn.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                            "WHERE n.nspname = 'public' AND c.relkind = 'S'").fetchall()
        assert seqs
        for (seq,) in seqs:
            assert conn.execute("SELECT has_sequence_privilege('gridwatch_web', %s, 'USAGE')",
                                (f"public.{seq}",)).fetchone()[0], seq
        # The login is a member of the web role and of nothing else; not a superuser, no role making.
        row = conn.execute("SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolbypassrls, "
                           "ARRAY(SELECT b.rolname FROM pg_auth_members m JOIN pg_roles b ON b.oid = m.roleid "
                           "      WHERE m.member = r.oid) FROM pg_roles r WHERE rolname = %s",
                           (WEB_LOGIN,)).fetchone()
        assert row == (False, False, False, True, False, ["gridwatch_web"])


def test_the_dashboard_login_works_but_cannot_read_the_key_or_become_another_role(db_url):
    with db.connect(db_url) as owner:
        key = rechecks.signing_key(owner)  # the workers' role reads it, as ingest and camera workers do
        assert len(key) == 32
        owner_name = owner.execute("SELECT current_user AS u").fetchone()["u"]
    with db.connect(web_role_url(db_url), autocommit=True, dict_rows=False) as web:
        assert web.execute("SELECT current_user").fetchone()[0] == WEB_LOGIN
        # What the dashboard does: read, write an audit row (append-only, for this role too).
        target = f"web-role-test-{uuid.uuid4()}"
        web.execute("INSERT INTO audit_log (actor, action, target, reason) VALUES ('test', 'probe', %s, 'test')",
                    (target,))
        assert web.execute("SELECT count(*) FROM audit_log WHERE target = %s", (target,)).fetchone()[0] == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            web.execute("DELETE FROM audit_log WHERE target = %s", (target,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="bus_signing_key"):
            web.execute("SELECT key FROM bus_signing_key")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            web.execute("UPDATE bus_signing_key SET created_at = now()")
        # An injected statement cannot climb out of the role: SET ROLE, set_config, SESSION AUTHORIZATION.
        for stmt in (sql.SQL("SET ROLE {}").format(sql.Identifier(owner_name)),
                     sql.SQL("SELECT set_config('role', {}, false)").format(sql.Literal(owner_name)),
                     sql.SQL("SET SESSION AUTHORIZATION {}").format(sql.Identifier(owner_name))):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                web.execute(stmt)
        assert web.execute("SELECT current_user").fetchone()[0] == WEB_LOGIN


def test_tables_of_later_migrations_are_shared_and_a_second_database_migrates(db_url, admin_url):
    # A later migration's table, made by the migrating role, is shared by the default privileges.
    with psycopg.connect(db_url) as conn:
        conn.execute("CREATE TABLE later_table (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text)")
        conn.commit()
    with psycopg.connect(web_role_url(db_url), autocommit=True) as web:
        web.execute("INSERT INTO later_table (v) VALUES ('x')")
        assert web.execute("SELECT v FROM later_table").fetchone() == ("x",)
    # Roles belong to the cluster: a second database's migration finds them made and goes on.
    with cloned_db(admin_url, "template0", "gw_t") as url:
        with psycopg.connect(url) as conn:
            applied = migrate.migrate(conn)
            assert [m.name for m in applied][-1] == "web_role"
        with psycopg.connect(web_role_url(url)) as web:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                web.execute("SELECT key FROM bus_signing_key")


def test_settings_pick_the_web_url(tmp_path):
    # Recorded by the private cluster, for its own database only.
    (tmp_path / "services.json").write_text(
        '{"database_url": "postgresql://postgres@h:1/g", "redis_url": "redis://h:2/0", '
        '"web_database_url": "postgresql://gridwatch_dashboard@h:1/g"}')
    assert Settings(home=tmp_path).web_database() == ("postgresql://gridwatch_dashboard@h:1/g", True)
    # Another server named by GRIDWATCH_DATABASE_URL: the private cluster's web URL is not for it.
    other = Settings(home=tmp_path, database_url="postgresql://app@db.example/g")
    assert other.web_database() == ("postgresql://app@db.example/g", False)
    named = Settings(home=tmp_path, database_url="postgresql://app@db.example/g",
                     web_database_url="postgresql://web@db.example/g")
    assert named.web_database() == ("postgresql://web@db.example/g", True)
    assert psycopg.conninfo.conninfo_to_dict(web_role_url("postgresql://app:secret@db.example:5433/g")) == {
        "user": WEB_LOGIN, "host": "db.example", "port": "5433", "dbname": "g"}
