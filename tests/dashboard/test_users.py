"""Accounts: argon2 hashes, checks on create, verify, list, and `gridwatch user add|list`."""

from __future__ import annotations

import argparse
import io

import psycopg
import pytest

from geodata import users
from workers.cli import user_cmd
from geodata.settings import Settings


@pytest.fixture
def conn(db_url):
    with psycopg.connect(db_url, row_factory=psycopg.rows.dict_row) as c:
        c.execute("INSERT INTO grid_worker (code, name) VALUES ('W900', '网格员九百')")
        c.commit()
        yield c


def test_create_and_verify(conn):
    u = users.create_user(conn, "alice", "correct horse", "dispatcher")
    assert (u.username, u.role, u.scope_code) == ("alice", "dispatcher", None)
    stored = conn.execute("SELECT password_hash FROM app_user WHERE username = 'alice'").fetchone()["password_hash"]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert users.verify_user(conn, "alice", "correct horse") == u
    assert users.verify_user(conn, "alice", "wrong horse") is None
    assert users.verify_user(conn, "nobody", "correct horse") is None


@pytest.mark.parametrize("name,password,role,kw,why", [
    ("bob", "short", "dispatcher", {}, "at least 8"),
    ("bob", "long enough", "chief", {}, "unknown role"),
    ("bob", "long enough", "grid_worker", {}, "needs --worker"),
    ("bob", "long enough", "grid_worker", {"worker_code": "W404"}, "no grid worker"),
    ("bob", "long enough", "supervisor", {"scope_code": "440310999"}, "no district, street or community"),
    ("b ob", "long enough", "wall", {}, "without spaces"),
])
def test_create_refuses(conn, name, password, role, kw, why):
    with pytest.raises(users.UserError, match=why):
        users.create_user(conn, name, password, role, **kw)


def test_duplicate_and_disabled(conn):
    users.create_user(conn, "carol", "long enough", "grid_worker", worker_code="W900")
    with pytest.raises(users.UserError, match="exists already"):
        users.create_user(conn, "carol", "long enough", "wall")
    conn.execute("UPDATE app_user SET disabled = true WHERE username = 'carol'")
    conn.commit()
    assert users.verify_user(conn, "carol", "long enough") is None
    assert [u.username for u in users.list_users(conn)] == ["carol"]


def _parser():
    p = argparse.ArgumentParser()
    user_cmd.register(p.add_subparsers(dest="command", required=True))
    return p


def test_cli_add_and_list(conn, db_url, monkeypatch, capsys):
    settings = Settings(database_url=db_url, redis_url="redis://unused")
    args = _parser().parse_args(["user", "add", "dave", "--role", "grid_worker", "--worker", "W900",
                                 "--password-stdin"])
    monkeypatch.setattr("sys.stdin", io.StringIO("a long secret\n"))
    assert args.func(args, settings) == 0
    assert "created dave (grid_worker, worker W900)" in capsys.readouterr().out
    assert users.verify_user(conn, "dave", "a long secret").worker_code == "W900"
    args = _parser().parse_args(["user", "add", "eve", "--role", "wall", "--password-stdin"])
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert args.func(args, settings) == 2
    assert "at least 8" in capsys.readouterr().err
    args = _parser().parse_args(["user", "list"])
    assert args.func(args, settings) == 0
    assert capsys.readouterr().out.splitlines() == ["dave\tgrid_worker\t-\tW900"]


def test_cli_disables_and_enables(conn, db_url, capsys):
    settings = Settings(database_url=db_url, redis_url="redis://unused")
    users.create_user(conn, "gina", "long enough", "wall")
    args = _parser().parse_args(["user", "disable", "gina"])
    assert args.func(args, settings) == 0 and capsys.readouterr().out == "disabled gina\n"
    assert users.verify_user(conn, "gina", "long enough") is None
    assert users.get_user(conn, "gina").disabled is True
    assert users.user_by_id(conn, users.get_user(conn, "gina").id).disabled is True
    args = _parser().parse_args(["user", "enable", "gina"])
    assert args.func(args, settings) == 0
    assert users.verify_user(conn, "gina", "long enough").username == "gina"
    args = _parser().parse_args(["user", "disable", "nobody"])
    assert args.func(args, settings) == 2 and "no user 'nobody'" in capsys.readouterr().err


def test_cli_requires_password_stdin():
    with pytest.raises(SystemExit):
        _parser().parse_args(["user", "add", "frank", "--role", "wall"])
