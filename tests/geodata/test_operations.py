"""Supervisor and dispatcher operations against real PostGIS and Redis: preview, write, audit, refuse."""

from __future__ import annotations

import time
import uuid

import pytest
import redis as redis_lib

from geodata import operations
from geodata.transitions import IncidentNotFound
from grid.lifecycle import TransitionError
from geodata.bus import LIVE_CHANNEL, parse_live
from tests.rig import cloned_db, connected

C1, C2 = "440310001001", "440310002001"
SG1, SG2, SG_C2 = C1 + "01", C1 + "02", C2 + "01"
B1, B2, B3 = C1 + "001", C1 + "002", C1 + "003"

EXTRA_SQL = f"""
INSERT INTO street (code, district_code, name, geom) VALUES
  ('440310002', '440310', '坑梓街道', ST_Multi(ST_MakeEnvelope(114.32, 22.70, 114.34, 22.72, 4326)));
INSERT INTO community (code, street_code, name, geom) VALUES
  ('{C2}', '440310002', '坑梓社区', ST_Multi(ST_MakeEnvelope(114.32, 22.70, 114.34, 22.72, 4326)));
INSERT INTO sub_grid (code, community_code, name) VALUES ('{SG_C2}', '{C2}', '坑梓社区第1综治网格');
INSERT INTO base_grid (code, community_code, sub_grid_code, name, geom) VALUES
  ('{C2}001', '{C2}', '{SG_C2}', 'K1', ST_Multi(ST_MakeEnvelope(114.32, 22.70, 114.34, 22.72, 4326)));
INSERT INTO grid_worker (code, name, community_code) VALUES ('W004', '赵磊', '{C1}'), ('W009', '钱军', '{C2}');
INSERT INTO app_user (username, password_hash, role, scope_code, worker_code) VALUES
  ('disp', 'x', 'dispatcher', NULL, NULL),
  ('sup_c1', 'x', 'supervisor', '{C1}', NULL),
  ('sup_street2', 'x', 'supervisor', '440310002', NULL),
  ('w1', 'x', 'grid_worker', NULL, 'W001'),
  ('wall', 'x', 'wall', NULL, NULL);
INSERT INTO app_user (username, password_hash, role, disabled) VALUES ('gone', 'x', 'dispatcher', true);
"""


@pytest.fixture
def conn(small_grid_url):
    with connected(small_grid_url, EXTRA_SQL) as c:
        yield c


@pytest.fixture(scope="module")
def shared_url(admin_url, small_grid_template):
    """One small grid for the refusal tables: each refusal must leave it unchanged, and says so."""
    with cloned_db(admin_url, small_grid_template, "gw_ops", EXTRA_SQL) as url:
        yield url


@pytest.fixture
def shared(shared_url):
    with connected(shared_url) as c:
        yield c


@pytest.fixture
def live(redis_url):
    client = redis_lib.Redis.from_url(redis_url)
    sub = client.pubsub()
    sub.subscribe(LIVE_CHANNEL)
    sub.get_message(timeout=1)  # the subscribe confirmation
    yield client, sub
    sub.close()
    client.close()


def _received(sub, expected, ids, timeout=3.0):
    """Live messages about `ids` until `expected` arrived (or the timeout), plus any that follow at once."""
    out = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = sub.get_message(timeout=0.2 if len(out) >= expected else 0.5)
        if m is None and len(out) >= expected:
            break
        # Pub/sub channels are shared by every Redis database: other programs' messages pass by too.
        if m is not None and m["type"] == "message":
            msg = parse_live(m["data"])
            if str(getattr(msg, "id", None)) in ids:
                out.append(msg)
    return out


def _incident(conn, base=B1, sub=SG1, status="dispatched", worker="W001", queue="worker", matter="DSP-NEIGHBOR"):
    iid = uuid.uuid4()
    clocked = status not in ("reported",)
    with conn.transaction():
        conn.execute(
            "INSERT INTO incident (id, matter_code, source, status, priority, queue, geom, base_grid_code, "
            "sub_grid_code, community_code, street_code, worker_code, observed_at, dispatched_at, due_at) VALUES "
            "(%s, %s, 'grid_worker', %s, 2, %s, ST_SetSRID(ST_MakePoint(114.305, 22.705), 4326), %s, %s, %s, "
            "'440310001', %s, now(), CASE WHEN %s THEN now() END, CASE WHEN %s THEN now() + interval '48 hours' END)",
            (iid, matter, status, queue, base, sub, C1, worker, clocked, clocked))
    return str(iid)


def _one(conn, sql, *params):
    with conn.transaction():
        return conn.execute(sql, params).fetchone()


def _counts(conn):
    return _one(conn, "SELECT (SELECT count(*) FROM audit_log) AS audit, (SELECT count(*) FROM incident_event) AS events,"
                      " (SELECT count(*) FROM sub_grid_assignment) AS assignments,"
                      " (SELECT string_agg(code || ':' || sub_grid_code, ',' ORDER BY code) FROM base_grid) AS grid,"
                      " (SELECT string_agg(id::text || status || coalesce(worker_code, '-') || sub_grid_code, ','"
                      "  ORDER BY id) FROM incident) AS incidents")


def test_move_base_grid_redispatches_open_cases_and_audits(conn, live):
    client, sub = live
    op = operations.load_operator(conn, "sup_c1")
    dispatched = _incident(conn, status="dispatched")
    accepted = _incident(conn, status="accepted")
    reported = _incident(conn, status="reported", worker=None, queue="verification")
    closed = _incident(conn, status="closed")
    other_base = _incident(conn, base=B2)
    out = operations.move_base_grid(conn, op, B1, SG2, reason="rebalance after new estate", live=client)
    assert not out.preview and len(out.results) == 2
    assert _one(conn, "SELECT sub_grid_code FROM base_grid WHERE code = %s", B1)["sub_grid_code"] == SG2
    rows = {r["id"]: r for r in conn.execute(
        "SELECT id::text, status, worker_code, sub_grid_code FROM incident").fetchall()}
    assert (rows[dispatched]["status"], rows[dispatched]["worker_code"]) == ("dispatched", "W002")
    assert (rows[accepted]["status"], rows[accepted]["worker_code"]) == ("dispatched", "W002")
    assert rows[reported]["sub_grid_code"] == SG2 and rows[reported]["worker_code"] is None
    assert rows[closed]["sub_grid_code"] == SG1 and rows[closed]["worker_code"] == "W001"  # history stays
    assert rows[other_base]["sub_grid_code"] == SG1 and rows[other_base]["worker_code"] == "W001"
    ev = _one(conn, "SELECT actor, action, note, data FROM incident_event WHERE incident_id = %s", accepted)
    assert (ev["actor"], ev["action"], ev["note"]) == ("sup_c1", "redispatch", "rebalance after new estate")
    assert ev["data"]["operation"] == "move_base_grid" and ev["data"]["worker_code"] == "W002"
    audit = _one(conn, "SELECT * FROM audit_log WHERE id = %s", out.audit_id)
    assert (audit["actor"], audit["action"], audit["target"]) == ("sup_c1", "move_base_grid", B1)
    assert audit["reason"] == "rebalance after new estate"
    assert audit["data"]["to_sub_grid"] == SG2 and audit["data"]["from_sub_grid"] == SG1
    assert audit["data"]["workload"] == {"W001": {"before": 3, "after": 1}, "W002": {"before": 0, "after": 2}}
    assert sorted(audit["data"]["incident_events"]) == sorted(r.event_id for r in out.results)
    msgs = _received(sub, 2, {dispatched, accepted, reported, closed, other_base})
    assert {(m.type, str(m.id), m.worker_code) for m in msgs} == {("incident", dispatched, "W002"),
                                                                  ("incident", accepted, "W002")}


def test_move_preview_writes_nothing_and_matches_the_real_move(conn):
    op = operations.load_operator(conn, "disp")
    a = _incident(conn, status="in_progress")
    before = _counts(conn)
    preview = operations.move_base_grid(conn, op, B1, SG2, preview=True)
    assert preview.preview and preview.audit_id is None
    assert _counts(conn) == before
    assert [(m.incident_id, m.to_worker) for m in preview.plan.moves] == [(a, "W002")]
    assert dict(preview.plan.workload) == {"W001": (1, 0), "W002": (0, 1)}
    done = operations.move_base_grid(conn, op, B1, SG2, reason="same as previewed")
    assert done.plan.moves == preview.plan.moves and dict(done.plan.workload) == dict(preview.plan.workload)


@pytest.mark.parametrize("user, base, target, message", [
    ("disp", B1, SG_C2, f"base grid {B1} lies in community {C1}; sub-grid {SG_C2} belongs to community {C2}"),
    ("sup_street2", B1, SG2, f"sup_street2 is a supervisor of 440310002: may not move base grid {B1} in {C1}"),
    ("wall", B1, SG2, "wall is a wall: only admin, dispatcher, supervisor may move base grids"),
    ("disp", B3, SG2, f"base grid {B3} is already in sub-grid {SG2}"),
    ("disp", C1 + "999", SG2, f"no base grid {C1}999"),
    ("disp", B1, C1 + "77", f"no sub-grid {C1}77"),
])
def test_move_refusals_leave_everything_unchanged(shared, user, base, target, message):
    _incident(shared)
    before = _counts(shared)
    op = operations.load_operator(shared, user)
    with pytest.raises(operations.ReassignError) as err:
        operations.move_base_grid(shared, op, base, target, reason="try")
    assert message in str(err.value)
    assert _counts(shared) == before


def test_moving_the_last_base_grid_is_refused(conn):
    op = operations.load_operator(conn, "disp")
    operations.move_base_grid(conn, op, B1, SG2, reason="first")
    before = _counts(conn)
    with pytest.raises(operations.ReassignError, match=f"last base grid of sub-grid {SG1}: moving it would leave "
                                                       f"{SG1} empty"):
        operations.move_base_grid(conn, op, B2, SG2, reason="second")
    assert _counts(conn) == before


@pytest.mark.parametrize("user, message", [
    ("nobody", "no user 'nobody'"), ("gone", "user 'gone' is disabled"),
])
def test_unknown_or_disabled_accounts_cannot_act(shared, user, message):
    with pytest.raises(operations.ReassignError, match=message):
        operations.load_operator(shared, user)


def test_a_reason_is_required_to_write(shared):
    op = operations.load_operator(shared, "disp")
    with pytest.raises(operations.ReassignError, match="reason is required"):
        operations.move_base_grid(shared, op, B1, SG2, reason="  ")
    with pytest.raises(operations.ReassignError, match="reason is required"):
        operations.assign_grid_worker(shared, op, SG1, "W004")


def test_replace_primary_keeps_history_and_moves_the_old_workers_tasks(conn, live):
    client, sub = live
    op = operations.load_operator(conn, "sup_c1")
    task = _incident(conn, status="accepted")
    resolved = _incident(conn, status="resolved")
    elsewhere = _incident(conn, base=B3, sub=SG2, status="dispatched")  # W001 in another sub-grid: stays
    preview = operations.assign_grid_worker(conn, op, SG1, "W004", reason="W001 moves away", preview=True)
    assert [m.incident_id for m in preview.plan.moves if m.redispatch] == [task]
    out = operations.assign_grid_worker(conn, op, SG1, "W004", reason="W001 moves away", live=client)
    history = conn.execute("SELECT worker_code, valid_to IS NULL AS current, assigned_by, reason FROM "
                           "sub_grid_assignment WHERE sub_grid_code = %s AND role = 'primary' ORDER BY id",
                           (SG1,)).fetchall()
    assert [(h["worker_code"], h["current"]) for h in history] == [("W001", False), ("W004", True)]
    assert (history[1]["assigned_by"], history[1]["reason"]) == ("sup_c1", "W001 moves away")
    workers = {r["id"]: r["worker_code"] for r in conn.execute("SELECT id::text AS id, worker_code FROM incident")}
    assert workers == {task: "W004", resolved: "W001", elsewhere: "W001"}
    audit = _one(conn, "SELECT * FROM audit_log WHERE id = %s", out.audit_id)
    assert (audit["action"], audit["target"], audit["data"]["replaced"], audit["data"]["worker"]) == (
        "assign_worker", SG1, "W001", "W004")
    assert audit["data"]["workload"] == {"W001": {"before": 2, "after": 1}, "W004": {"before": 0, "after": 1}}
    assert [str(m.id) for m in _received(sub, 1, {task, resolved, elsewhere})] == [task]


def test_assign_a_vacant_backup(conn):
    op = operations.load_operator(conn, "disp")
    out = operations.assign_grid_worker(conn, op, SG2, "W004", backup=True, reason="cover for W002")
    assert out.plan.data["replaced"] is None and out.results == []
    row = _one(conn, "SELECT worker_code FROM sub_grid_assignment WHERE sub_grid_code = %s AND role = 'backup' "
                     "AND valid_to IS NULL", SG2)
    assert row["worker_code"] == "W004"


@pytest.mark.parametrize("user, sub_grid, worker, backup, message", [
    ("disp", SG1, "W001", False, f"grid worker W001 is already the primary of sub-grid {SG1}"),
    ("disp", SG1, "W001", True, f"grid worker W001 is the primary of sub-grid {SG1}"),
    ("disp", SG1, "W009", False, f"grid worker W009 works for community {C2}"),
    ("disp", SG1, "W404", False, "no grid worker W404"),
    ("sup_street2", SG1, "W004", False, f"may not assign workers of sub-grid {SG1} in {C1}, outside that scope"),
    ("w1", SG1, "W004", False, "w1 is a grid_worker: only admin, dispatcher, supervisor may assign grid workers"),
])
def test_assign_refusals_leave_everything_unchanged(shared, user, sub_grid, worker, backup, message):
    before = _counts(shared)
    op = operations.load_operator(shared, user)
    with pytest.raises(operations.ReassignError) as err:
        operations.assign_grid_worker(shared, op, sub_grid, worker, backup=backup, reason="try")
    assert message in str(err.value)
    assert _counts(shared) == before


def test_verify_dispatches_a_camera_event_and_audits(conn):
    op = operations.load_operator(conn, "disp")
    iid = _incident(conn, status="reported", worker=None, queue="verification")
    preview = operations.verify(conn, op, iid, preview=True)
    assert preview.plan.moves[0].to_worker == "W001" and preview.plan.workload == {"W001": (0, 1)}
    out = operations.verify(conn, op, iid, note="seen on the wall")
    r = out.results[0]
    assert (r.from_status, r.to_status, r.incident["worker_code"]) == ("reported", "dispatched", "W001")
    audit = _one(conn, "SELECT actor, action, target, reason FROM audit_log WHERE id = %s", out.audit_id)
    assert (audit["actor"], audit["action"], audit["target"], audit["reason"]) == ("disp", "verify", iid,
                                                                                  "seen on the wall")


def test_cancel_false_alarm_needs_a_reason(conn):
    op = operations.load_operator(conn, "disp")
    iid = _incident(conn, status="reported", worker=None, queue="verification")
    with pytest.raises(TransitionError, match="cancel needs a reason"):
        operations.cancel_false_alarm(conn, op, iid, note="")
    out = operations.cancel_false_alarm(conn, op, iid, note="a shadow, not a person")
    assert out.results[0].to_status == "cancelled"
    assert _one(conn, "SELECT status FROM incident WHERE id = %s", iid)["status"] == "cancelled"


def test_dispatch_picks_dispatch_or_redispatch_by_status(conn):
    op = operations.load_operator(conn, "sup_c1")
    returned = _incident(conn, status="returned", worker=None, queue="community")
    working = _incident(conn, status="accepted")
    first = operations.dispatch(conn, op, returned, target_worker="W003", note="backup knows the place")
    second = operations.dispatch(conn, op, working, target_worker="W004", note="W001 is sick")
    assert (first.results[0].action, first.results[0].incident["worker_code"]) == ("dispatch", "W003")
    assert (second.results[0].action, second.results[0].to_status) == ("redispatch", "dispatched")
    assert second.plan.workload == {"W001": (1, 0), "W004": (0, 1)}


@pytest.mark.parametrize("user, status, action, message", [
    ("disp", "dispatched", "close", "cannot close an incident in status 'dispatched'"),
    ("sup_street2", "dispatched", "redispatch", f"it lies in {C1}, outside this supervisor's scope 440310002"),
    ("w1", "reported", "accept", "cannot accept an incident in status 'reported'"),
    ("wall", "dispatched", "cancel", "role wall may not cancel"),
])
def test_incident_operation_refusals(shared, user, status, action, message):
    iid = _incident(shared, status=status, worker=None if status == "reported" else "W001",
                    queue="verification" if status == "reported" else "worker")
    before = _counts(shared)
    with pytest.raises((TransitionError, operations.ReassignError)) as err:
        operations.do_action(shared, operations.load_operator(shared, user), iid, action, note="n")
    assert message in str(err.value)
    assert _counts(shared) == before


def test_unknown_incident_is_not_found(shared):
    op = operations.load_operator(shared, "disp")
    with pytest.raises(IncidentNotFound):
        operations.do_action(shared, op, str(uuid.uuid4()), "close")
    with pytest.raises(IncidentNotFound, match="UUID"):
        operations.incident_detail(shared, "not-an-id")
