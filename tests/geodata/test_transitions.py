"""The one transition function against real PostGIS: atomic, serialised, and faithful to the table."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
import redis as redis_lib

from geodata import transitions
from geodata.db import connect
from geodata.transitions import (IncidentNotFound, apply_transition, escalate, events_of, mark_overdue,
                                 mark_warned, publish_result)
from grid.lifecycle import TransitionError
from geodata.bus import LIVE_CHANNEL, parse_live

COMMUNITY = "440310001001"
SUB_GRID = COMMUNITY + "01"
BASE_GRID = COMMUNITY + "001"


def _seed(conn) -> None:
    with conn.transaction():
        box = "ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
        conn.execute("INSERT INTO district (code, name, geom) VALUES ('440310', 'Pingshan', " + box + ")",
                     (114.0, 22.0, 115.0, 23.0))
        conn.execute("INSERT INTO street (code, district_code, name, geom) "
                     "VALUES ('440310001', '440310', 'S', " + box + ")", (114.2, 22.6, 114.5, 22.8))
        conn.execute("INSERT INTO community (code, street_code, name, geom) "
                     "VALUES (%s, '440310001', 'C', " + box + ")", (COMMUNITY, 114.3, 22.65, 114.4, 22.75))
        conn.execute("INSERT INTO sub_grid (code, community_code, name) VALUES (%s, %s, 'SG')", (SUB_GRID, COMMUNITY))
        conn.execute("INSERT INTO base_grid (code, community_code, sub_grid_code, name, geom) "
                     "VALUES (%s, %s, %s, 'B', " + box + ")",
                     (BASE_GRID, COMMUNITY, SUB_GRID, 114.31, 22.66, 114.39, 22.74))
        conn.execute("INSERT INTO matter (code, name, name_en, family, priority, deadline_hours) VALUES "
                     "('HZ01', '井盖破损', 'broken cover', 'hazard', 2, 4), "
                     "('MT01', '摄像头离线', 'camera offline', 'maintenance', 3, 24)")
        conn.execute("INSERT INTO grid_worker (code, name, community_code) VALUES "
                     "('W1', 'Primary', %(c)s), ('W2', 'Backup', %(c)s), ('W3', 'Other', %(c)s)", {"c": COMMUNITY})
        conn.execute("INSERT INTO sub_grid_assignment (sub_grid_code, worker_code, role) VALUES "
                     "(%(s)s, 'W1', 'primary'), (%(s)s, 'W2', 'backup')", {"s": SUB_GRID})


def _incident(conn, *, status="reported", queue="verification", matter="HZ01", worker=None) -> uuid.UUID:
    iid = uuid.uuid4()
    with conn.transaction():
        conn.execute(
            "INSERT INTO incident (id, matter_code, source, status, priority, queue, geom, base_grid_code, "
            "sub_grid_code, community_code, street_code, worker_code, observed_at) VALUES "
            "(%s, %s, 'camera', %s, 2, %s, ST_SetSRID(ST_MakePoint(114.35, 22.70), 4326), %s, %s, %s, "
            "'440310001', %s, now())",
            (iid, matter, status, queue, BASE_GRID, SUB_GRID, COMMUNITY, worker))
    return iid


def _row(conn, iid):
    return conn.execute("SELECT * FROM incident WHERE id = %s", (iid,)).fetchone()


@pytest.fixture
def conn(db_url):
    with connect(db_url) as c:
        _seed(c)
        yield c


def test_full_closed_loop_writes_incident_and_history(conn):
    iid = _incident(conn)
    r = apply_transition(conn, iid, "verify", "disp1", "dispatcher", note="seen on camera")
    assert (r.from_status, r.to_status) == ("reported", "dispatched")
    row = _row(conn, iid)
    assert (row["status"], row["queue"], row["worker_code"]) == ("dispatched", "worker", "W1")
    assert row["due_at"] - row["dispatched_at"] == timedelta(hours=4)
    apply_transition(conn, iid, "accept", "W1", "grid_worker")
    apply_transition(conn, iid, "start", "W1", "grid_worker")
    apply_transition(conn, iid, "resolve", "W1", "grid_worker", note="cover replaced", media=["p/1.jpg"])
    r = apply_transition(conn, iid, "close", "sup1", "supervisor", note="checked")
    row = _row(conn, iid)
    assert (row["status"], row["on_time"], row["queue"], row["worker_code"]) == ("closed", True, None, "W1")
    assert row["closed_at"] == r.at
    assert r.changes["status"] == ("resolved", "closed")
    history = events_of(conn, iid)
    assert [(e["action"], e["from_status"], e["to_status"], e["actor"]) for e in history] == [
        ("verify", "reported", "dispatched", "disp1"), ("accept", "dispatched", "accepted", "W1"),
        ("start", "accepted", "in_progress", "W1"), ("resolve", "in_progress", "resolved", "W1"),
        ("close", "resolved", "closed", "sup1")]
    assert history[3]["media"] == ["p/1.jpg"] and history[3]["note"] == "cover replaced"
    assert history[0]["data"]["worker_code"] == "W1" and history[0]["data"]["role"] == "dispatcher"
    assert history[4]["data"]["on_time"] is True


def test_late_close_is_not_on_time(conn):
    iid = _incident(conn, status="resolved", queue="worker", worker="W1")
    conn.execute("UPDATE incident SET dispatched_at = now() - interval '5 hours', "
                 "due_at = now() - interval '1 hour' WHERE id = %s", (iid,))
    conn.commit()
    apply_transition(conn, iid, "close", "disp1", "dispatcher")
    assert _row(conn, iid)["on_time"] is False


def test_routing_falls_back_to_backup_then_community_queue(conn):
    conn.execute("UPDATE grid_worker SET on_duty = false WHERE code = 'W1'")
    conn.commit()
    first = _incident(conn)
    apply_transition(conn, first, "dispatch", "disp1", "dispatcher")
    assert (_row(conn, first)["queue"], _row(conn, first)["worker_code"]) == ("worker", "W2")
    conn.execute("UPDATE grid_worker SET on_duty = false WHERE code = 'W2'")
    conn.commit()
    second = _incident(conn)
    r = apply_transition(conn, second, "dispatch", "disp1", "dispatcher")
    assert (r.incident["queue"], r.incident["worker_code"]) == ("community", None)
    assert events_of(conn, second)[0]["data"]["routing"] == "no available worker: community queue"


def test_refusals_name_the_status_and_leave_everything_untouched(conn):
    iid = _incident(conn, status="dispatched", queue="worker", worker="W1")
    before = _row(conn, iid)
    with pytest.raises(TransitionError, match="'dispatched'.*only accept own tasks"):
        apply_transition(conn, iid, "accept", "W3", "grid_worker")
    with pytest.raises(TransitionError, match="cannot close .*'dispatched'.*a supervisor may: redispatch"):
        apply_transition(conn, iid, "close", "sup1", "supervisor")
    with pytest.raises(TransitionError, match="needs a reason"):
        apply_transition(conn, iid, "return", "W1", "grid_worker")
    with pytest.raises(TransitionError, match="maintenance cases"):
        apply_transition(conn, iid, "accept", "m1", "maintenance")
    with pytest.raises(TransitionError, match="outside this supervisor's scope 440310002"):
        apply_transition(conn, iid, "redispatch", "sup2", "supervisor", target_worker="W3", scope="440310002")
    with pytest.raises(TransitionError, match="no active grid worker 'W9'"):
        apply_transition(conn, iid, "redispatch", "disp1", "dispatcher", target_worker="W9")
    with pytest.raises(TransitionError, match="'..'"):
        apply_transition(conn, iid, "accept", "W1", "grid_worker", media=["../x.jpg"])
    with pytest.raises(IncidentNotFound):
        apply_transition(conn, uuid.uuid4(), "accept", "W1", "grid_worker")
    assert _row(conn, iid) == before
    assert events_of(conn, iid) == []


def test_failure_after_the_update_rolls_back_incident_and_history(conn, monkeypatch):
    iid = _incident(conn, status="dispatched", queue="worker", worker="W1")
    before = _row(conn, iid)

    def broken_insert(c, params):
        raise RuntimeError("disk full")

    monkeypatch.setattr(transitions, "_insert_event", broken_insert)
    with pytest.raises(RuntimeError, match="disk full"):
        apply_transition(conn, iid, "accept", "W1", "grid_worker")
    assert _row(conn, iid) == before
    assert events_of(conn, iid) == []


def test_inside_a_callers_transaction_both_roll_back_together(conn):
    iid = _incident(conn)
    with pytest.raises(ZeroDivisionError):
        with conn.transaction():
            apply_transition(conn, iid, "dispatch", "ingest", "system")
            assert _row(conn, iid)["status"] == "dispatched"
            1 / 0
    assert _row(conn, iid)["status"] == "reported"
    assert events_of(conn, iid) == []


def test_concurrent_transitions_on_one_incident_serialise(db_url, conn):
    iid = _incident(conn, status="dispatched", queue="worker", worker="W1")
    done = threading.Event()
    outcome = {}

    def second():
        with connect(db_url) as other:
            outcome["result"] = apply_transition(other, iid, "return", "W1", "grid_worker", note="wrong place")
        done.set()

    with conn.transaction():
        apply_transition(conn, iid, "accept", "W1", "grid_worker")
        thread = threading.Thread(target=second)
        thread.start()
        # The second transition waits on the row lock while the first is uncommitted.
        assert not done.wait(0.5)
    thread.join(10)
    assert done.is_set()
    assert (outcome["result"].from_status, outcome["result"].to_status) == ("accepted", "returned")
    assert [(e["action"], e["from_status"]) for e in events_of(conn, iid)] == [
        ("accept", "dispatched"), ("return", "accepted")]
    row = _row(conn, iid)
    assert (row["status"], row["queue"], row["worker_code"]) == ("returned", "community", None)


def test_two_racing_escalations_climb_one_rung(db_url, conn):
    iid = _incident(conn, status="dispatched", queue="worker", worker="W1")
    barrier = threading.Barrier(2)
    results = []

    def run():
        with connect(db_url) as c:
            barrier.wait()
            results.append(escalate(c, iid, "deadlines", expect_level="grid"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(r is None for r in results) == [False, True]
    assert _row(conn, iid)["level"] == "community"
    assert [e["action"] for e in events_of(conn, iid)] == ["escalate"]


def test_redispatch_keeps_the_clock_unless_reset_with_a_reason(conn):
    iid = _incident(conn)
    first = apply_transition(conn, iid, "dispatch", "disp1", "dispatcher")
    time.sleep(0.01)
    apply_transition(conn, iid, "redispatch", "disp1", "dispatcher", target_worker="W3")
    row = _row(conn, iid)
    assert (row["worker_code"], row["dispatched_at"]) == ("W3", first.incident["dispatched_at"])
    apply_transition(conn, iid, "return", "W3", "grid_worker", note="not my area")
    apply_transition(conn, iid, "dispatch", "disp1", "dispatcher", target_queue="community")
    assert _row(conn, iid)["due_at"] == first.incident["due_at"]
    with pytest.raises(TransitionError, match="resetting the deadline clock needs a reason"):
        apply_transition(conn, iid, "redispatch", "disp1", "dispatcher", target_worker="W1", reset_clock=True)
    reset = apply_transition(conn, iid, "redispatch", "disp1", "dispatcher", target_worker="W1",
                             reset_clock=True, note="mis-routed by the center")
    assert reset.incident["dispatched_at"] > first.incident["dispatched_at"]
    assert reset.incident["due_at"] == reset.incident["dispatched_at"] + timedelta(hours=4)
    assert events_of(conn, iid)[-1]["data"]["reset_clock"] is True


def test_deadline_marks_and_escalation_happen_once(conn):
    iid = _incident(conn)
    start = apply_transition(conn, iid, "dispatch", "disp1", "dispatcher").incident["dispatched_at"]
    assert mark_warned(conn, iid, now=start + timedelta(hours=1)) is None
    warned = mark_warned(conn, iid, now=start + timedelta(hours=3.5))
    assert warned.changes["warned_at"] == (None, start + timedelta(hours=3.5))
    assert mark_warned(conn, iid, now=start + timedelta(hours=3.6)) is None
    assert mark_overdue(conn, iid, now=start + timedelta(hours=3.9)) is None
    assert mark_overdue(conn, iid, now=start + timedelta(hours=4.1)).to_status == "dispatched"
    assert mark_overdue(conn, iid, now=start + timedelta(hours=5)) is None
    for expected in ("community", "street", "district"):
        assert escalate(conn, iid, "deadlines", now=start + timedelta(hours=6)).to_level == expected
    with pytest.raises(TransitionError, match="already at district, the top"):
        escalate(conn, iid, "disp1", "dispatcher")
    assert escalate(conn, iid, "deadlines") is None
    assert escalate(conn, iid, "deadlines", expect_level="street") is None
    assert [e["action"] for e in events_of(conn, iid)] == [
        "dispatch", "warn", "overdue", "escalate", "escalate", "escalate"]
    assert _row(conn, iid)["status"] == "dispatched"


def test_deadline_marks_skip_closed_cases(conn):
    iid = _incident(conn, status="closed", queue=None, worker="W1")
    assert mark_overdue(conn, iid) is None
    assert mark_warned(conn, iid) is None
    assert escalate(conn, iid, "deadlines") is None
    with pytest.raises(TransitionError, match="'closed' is final"):
        escalate(conn, iid, "sup1", "supervisor")
    assert events_of(conn, iid) == []


def test_publish_after_commit_reaches_the_live_channel(conn, redis_url):
    client = redis_lib.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    pubsub.subscribe(LIVE_CHANNEL)
    assert pubsub.get_message(timeout=2)["type"] == "subscribe"
    iid = _incident(conn, status="dispatched", queue="worker", worker="W1")
    result = escalate(conn, iid, "deadlines")
    assert publish_result(client, result) == 2
    got = [parse_live(pubsub.get_message(timeout=2)["data"]) for _ in range(2)]
    assert (got[0].type, got[0].id, got[0].action, got[0].level) == ("incident", iid, "escalate", "community")
    assert (got[0].lon, got[0].lat, got[0].worker_code) == (114.35, 22.70, "W1")
    assert (got[1].type, got[1].kind, got[1].incident_id) == ("warning", "escalated", iid)
    pubsub.close()
    client.close()


def test_dispatch_rules_for_queues_and_outside_cases(conn):
    outside = _incident(conn, queue="district")
    conn.execute("UPDATE incident SET outside = true, base_grid_code = NULL, sub_grid_code = NULL, "
                 "community_code = NULL, street_code = NULL WHERE id = %s", (outside,))
    conn.commit()
    with pytest.raises(TransitionError, match="verify is for the verification queue"):
        apply_transition(conn, outside, "verify", "disp1", "dispatcher")
    with pytest.raises(TransitionError, match="outside the district: name a target worker or queue"):
        apply_transition(conn, outside, "dispatch", "disp1", "dispatcher")
    with pytest.raises(TransitionError, match="lies in no community"):
        apply_transition(conn, outside, "dispatch", "disp1", "dispatcher", target_queue="community")
    r = apply_transition(conn, outside, "dispatch", "disp1", "dispatcher", target_worker="W3")
    assert (r.incident["queue"], r.incident["worker_code"], r.incident["outside"]) == ("worker", "W3", True)
    assert [e["action"] for e in events_of(conn, outside)] == ["dispatch"]


def test_maintenance_handles_maintenance_cases(conn):
    iid = _incident(conn, status="dispatched", queue="community", matter="MT01")
    apply_transition(conn, iid, "accept", "tech1", "maintenance")
    r = apply_transition(conn, iid, "resolve", "tech1", "maintenance", note="camera rebooted")
    assert (r.from_status, r.to_status, r.role) == ("accepted", "resolved", "maintenance")
