"""The `gridwatch incident`, `grid move-base|assign` and `apikey` commands, run through workers.cli.main."""

from __future__ import annotations

import uuid

import pytest

from geodata import api_keys
from tests.rig import cloned_db, connected
from workers.cli import main

C1 = "440310001001"
SG1, SG2 = C1 + "01", C1 + "02"
B1 = C1 + "001"

USERS_SQL = f"""
INSERT INTO grid_worker (code, name, community_code) VALUES ('W004', '赵磊', '{C1}');
INSERT INTO app_user (username, password_hash, role, scope_code, worker_code) VALUES
  ('disp', 'x', 'dispatcher', NULL, NULL), ('sup_c1', 'x', 'supervisor', '{C1}', NULL),
  ('sup_other', 'x', 'supervisor', '440310009', NULL), ('admin', 'x', 'admin', NULL, NULL),
  ('w1', 'x', 'grid_worker', NULL, 'W001'), ('w2', 'x', 'grid_worker', NULL, 'W002');
"""


@pytest.fixture
def db(small_grid_url, redis_url, monkeypatch):
    monkeypatch.setenv("GRIDWATCH_DATABASE_URL", small_grid_url)
    monkeypatch.setenv("GRIDWATCH_REDIS_URL", redis_url)
    with connected(small_grid_url, USERS_SQL) as conn:
        yield conn


@pytest.fixture(scope="module")
def shared_url(admin_url, small_grid_template):
    """One small grid for refusals, which must leave it unchanged (each test checks its own)."""
    with cloned_db(admin_url, small_grid_template, "gw_cli", USERS_SQL) as url:
        yield url


@pytest.fixture
def shared(shared_url, redis_url, monkeypatch):
    monkeypatch.setenv("GRIDWATCH_DATABASE_URL", shared_url)
    monkeypatch.setenv("GRIDWATCH_REDIS_URL", redis_url)
    with connected(shared_url) as conn:
        yield conn


@pytest.fixture
def cli(capsys):
    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


def _incident(conn, status="reported", queue="verification", worker=None) -> str:
    iid = uuid.uuid4()
    with conn.transaction():
        conn.execute(
            "INSERT INTO incident (id, matter_code, source, status, priority, queue, geom, base_grid_code, "
            "sub_grid_code, community_code, street_code, worker_code, observed_at, description, dispatched_at, due_at) "
            "VALUES (%s, 'CRM-LOITER', 'camera', %s, 2, %s, ST_SetSRID(ST_MakePoint(114.305, 22.705), 4326), %s, %s, "
            "%s, '440310001', %s, now(), '东门有人徘徊', CASE WHEN %s THEN now() END, "
            "CASE WHEN %s THEN now() + interval '2 hours' END)",
            (iid, status, queue, B1, SG1, C1, worker, status != "reported", status != "reported"))
        conn.execute("INSERT INTO incident_report (event_id, incident_id, source, matter_code, reporter, observed_at, "
                     "geom, description) VALUES (%s, %s, 'camera', 'CRM-LOITER', 'PS-CAM-0001', now(), "
                     "ST_SetSRID(ST_MakePoint(114.305, 22.705), 4326), '东门有人徘徊')", (iid, iid))
    return str(iid)


def test_closed_loop_through_the_cli_and_show_lists_every_step(db, cli):
    iid = _incident(db)
    steps = [("verify", "disp", []), ("accept", "w1", []), ("start", "w1", []),
             ("resolve", "w1", ["--note", "劝离, 已处理"]), ("close", "sup_c1", ["--note", "核查属实"])]
    for action, user, extra in steps:
        code, out, err = cli("incident", "do", iid, action, "--by", user, *extra)
        assert code == 0, err
        assert out.startswith(f"{action}: incident {iid}")
    assert "dispatched -> accepted" in cli("incident", "show", iid)[1]
    code, out, _ = cli("incident", "show", iid)
    assert code == 0
    assert f"incident {iid}" in out and "status   closed" in out and "on time" in out
    assert "PS-CAM-0001" in out and "东门有人徘徊" in out  # the report
    history = out.split("history")[1]
    order = [history.index(f"  {a} ") for a, _, _ in steps]
    assert order == sorted(order)
    assert "劝离, 已处理" in history and "sup_c1" in history and '"worker_code": "W001"' in history
    audit = db.execute("SELECT actor, action FROM audit_log ORDER BY id").fetchall()
    assert [(a["actor"], a["action"]) for a in audit] == [("disp", "verify"), ("sup_c1", "close")]


@pytest.mark.parametrize("status, worker, action, user, extra, message", [
    ("dispatched", "W001", "close", "disp", [],
     "cannot close an incident in status 'dispatched': close is only allowed from resolved"),
    ("dispatched", "W001", "accept", "w2", [], "a grid_worker may only accept own tasks"),
    ("accepted", "W001", "return", "w1", [], "return needs a reason"),
    ("dispatched", "W001", "warn", "admin", [], "role admin may not warn"),
    ("dispatched", "W001", "redispatch", "sup_other", ["--worker", "W002"], "outside this supervisor's scope"),
    ("dispatched", "W001", "fly", "disp", [], "unknown action 'fly' for an incident in status 'dispatched'"),
    ("dispatched", "W001", "accept", "nobody", [], "no user 'nobody'"),
    ("dispatched", "W001", "redispatch", "disp", ["--worker", "W404"], "no active grid worker 'W404'"),
])
def test_refused_actions_exit_2_and_name_the_status(shared, cli, status, worker, action, user, extra, message):
    iid = _incident(shared, status=status, queue="worker", worker=worker)
    before = shared.execute("SELECT count(*) AS n FROM incident_event").fetchone()["n"]
    shared.rollback()
    code, out, err = cli("incident", "do", iid, action, "--by", user, *extra)
    assert code == 2 and out == ""
    assert "refused" in err and message in err
    assert shared.execute("SELECT count(*) AS n FROM incident_event").fetchone()["n"] == before


def test_list_filters_by_status(db, cli):
    reported = _incident(db)
    dispatched = _incident(db, status="dispatched", queue="worker", worker="W001")
    code, out, _ = cli("incident", "list", "--status", "dispatched")
    assert code == 0 and dispatched in out and reported not in out and "(1 incident(s))" in out
    code, out, _ = cli("incident", "list", "--limit", "1")
    assert out.count("\n") == 3  # header, one row, count


def test_show_and_do_unknown_incident_exit_1(shared, cli):
    missing = str(uuid.uuid4())
    assert cli("incident", "show", missing)[0] == 1
    code, _, err = cli("incident", "do", missing, "close", "--by", "disp")
    assert code == 1 and f"no incident {missing}" in err


def test_move_base_preview_then_do(db, cli):
    iid = _incident(db, status="accepted", queue="worker", worker="W001")
    code, out, _ = cli("grid", "move-base", B1, SG2, "--by", "sup_c1", "--preview")
    assert code == 0 and out.startswith("PREVIEW (nothing written)")
    assert f"incident {iid} [accepted] W001 -> W002" in out and "W001: 1 -> 0" in out and "W002: 0 -> 1" in out
    assert db.execute("SELECT sub_grid_code FROM base_grid WHERE code = %s", (B1,)).fetchone()["sub_grid_code"] == SG1
    db.rollback()
    code, out, _ = cli("grid", "move-base", B1, SG2, "--by", "sup_c1", "--reason", "new estate")
    assert code == 0 and out.startswith("done: move base grid") and "audit_log #" in out
    row = db.execute("SELECT worker_code, sub_grid_code FROM incident WHERE id = %s", (iid,)).fetchone()
    assert (row["worker_code"], row["sub_grid_code"]) == ("W002", SG2)


@pytest.mark.parametrize("argv, message", [
    (["grid", "move-base", B1, "44031000200101", "--by", "disp", "--reason", "r"], "no sub-grid 44031000200101"),
    (["grid", "move-base", B1, SG2, "--by", "sup_other", "--reason", "r"], "outside that scope"),
    (["grid", "move-base", B1, SG2, "--by", "w1", "--reason", "r"], "w1 is a grid_worker"),
    (["grid", "move-base", B1, SG2, "--by", "disp"], "a reason is required"),
    (["grid", "assign", SG1, "W001", "--by", "disp", "--reason", "r"], f"W001 is already the primary of sub-grid {SG1}"),
    (["grid", "assign", SG2, "W002", "--backup", "--by", "disp", "--reason", "r"], f"W002 is the primary of sub-grid {SG2}"),
])
def test_grid_refusals_exit_2(shared, cli, argv, message):
    code, out, err = cli(*argv)
    assert code == 2 and message in err and "refused" in err


def test_assign_replaces_and_keeps_history(db, cli):
    code, out, _ = cli("grid", "assign", SG1, "W004", "--by", "disp", "--reason", "W001 on leave")
    assert code == 0 and "replace W001 by W004 as primary" in out
    rows = db.execute("SELECT worker_code, valid_to IS NULL AS current FROM sub_grid_assignment "
                      "WHERE sub_grid_code = %s AND role = 'primary' ORDER BY id", (SG1,)).fetchall()
    assert [(r["worker_code"], r["current"]) for r in rows] == [("W001", False), ("W004", True)]


def test_apikey_create_prints_the_key_once_and_stores_only_its_hash(db, cli):
    code, out, err = cli("apikey", "create", "appeal-system")
    key = out.strip()
    assert code == 0 and key.startswith("gw_") and len(key) > 40 and "shown once" in err
    stored = db.execute("SELECT name, key_hash FROM api_key").fetchall()
    assert [r["name"] for r in stored] == ["appeal-system"]
    assert stored[0]["key_hash"] == api_keys.key_hash(key) and key not in stored[0]["key_hash"]
    db.rollback()
    assert api_keys.verify_key(db, key).name == "appeal-system"
    assert api_keys.verify_key(db, key + "x") is None and api_keys.verify_key(db, None) is None
    assert cli("apikey", "create", "appeal-system")[0] == 2  # one live key per client
    assert cli("apikey", "revoke", "appeal-system")[0] == 0
    assert api_keys.verify_key(db, key) is None
    code, out, _ = cli("apikey", "list")
    assert "appeal-system" in out and "revoked" in out and key not in out
