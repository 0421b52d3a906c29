"""The deadline worker: the scan owes exactly what grid.deadlines says, once, even with two processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest
import redis as redis_lib

from geodata.db import connect
from geodata.queries import q
from geodata.transitions import escalate
from workers import deadlines as dl
from geodata.bus import LIVE_CHANNEL, parse_live

ROOT = Path(__file__).resolve().parents[2]
C1, SG1, B1 = "440310001001", "44031000100101", "440310001001001"

# (matter, hours since dispatch, status, level, overdue already marked) -> (warn, overdue, rungs climbed)
# Deadlines: CRM-INTRUSION 1 h {community,street,district}; DSP-NEIGHBOR 48 h {community,street};
# MNT-CAMERA 24 h {community}; HAZ-FIRE 4 h.
CASES = [
    (("CRM-INTRUSION", 0.5, "dispatched", "grid", False), (0, 0, [])),
    (("CRM-INTRUSION", 0.9, "accepted", "grid", False), (1, 0, [])),
    (("CRM-INTRUSION", 1.5, "in_progress", "grid", False), (0, 1, ["community"])),
    (("CRM-INTRUSION", 2.5, "dispatched", "grid", False), (0, 1, ["community", "street"])),
    (("CRM-INTRUSION", 10.0, "returned", "grid", False), (0, 1, ["community", "street", "district"])),
    (("CRM-INTRUSION", 2.5, "accepted", "street", True), (0, 0, [])),
    (("CRM-INTRUSION", 3.5, "accepted", "community", True), (0, 0, ["street", "district"])),
    (("DSP-NEIGHBOR", 500.0, "accepted", "grid", False), (0, 1, ["community", "street"])),
    (("MNT-CAMERA", 100.0, "in_progress", "grid", False), (0, 1, ["community"])),
    (("HAZ-FIRE", 3.5, "resolved", "grid", False), (0, 0, [])),
    (("HAZ-FIRE", 9.0, "closed", "grid", False), (0, 0, [])),
]


def _insert(conn, matter, hours, status, level="grid", overdue=False) -> str:
    """A clocked case dispatched `hours` ago under its matter's deadline."""
    iid = uuid.uuid4()
    conn.execute(
        "INSERT INTO incident (id, matter_code, source, status, level, priority, queue, geom, base_grid_code, "
        "sub_grid_code, community_code, street_code, worker_code, observed_at, dispatched_at, due_at, overdue_at) "
        "SELECT %(id)s, %(m)s, 'grid_worker', %(s)s, %(l)s, 2, 'worker', ST_SetSRID(ST_MakePoint(114.305, 22.705), 4326),"
        " %(b)s, %(sg)s, %(c)s, '440310001', 'W001', d, d, d + m.deadline_hours * interval '1 hour',"
        " CASE WHEN %(o)s THEN d + m.deadline_hours * interval '1 hour' END "
        "FROM matter m, (SELECT now() - %(h)s * interval '1 hour' AS d) t WHERE m.code = %(m)s",
        {"id": iid, "m": matter, "s": status, "l": level, "b": B1, "sg": SG1, "c": C1, "h": hours, "o": overdue})
    return str(iid)


def _events(conn) -> Counter:
    """(incident, action, rung reached) -> how many history rows."""
    rows = conn.execute("SELECT incident_id::text AS id, action, data->'level'->>'to' AS rung FROM incident_event "
                        "WHERE action IN ('warn', 'overdue', 'escalate')").fetchall()
    return Counter((r["id"], r["action"], r["rung"]) for r in rows)


def _expected(ids_and_expect) -> Counter:
    out = Counter()
    for iid, (warn, overdue, rungs) in ids_and_expect:
        out.update({(iid, "warn", None): warn, (iid, "overdue", None): overdue})
        out.update((iid, "escalate", rung) for rung in rungs)
    return +out


@pytest.fixture
def conn(small_grid_url):
    with connect(small_grid_url) as c:
        yield c


def _seed_cases(conn, copies=1):
    with conn.transaction():
        return [(_insert(conn, *case), expect) for _ in range(copies) for case, expect in CASES]


def test_claim_query_finds_exactly_the_cases_that_owe_something(conn):
    seeded = _seed_cases(conn)
    with conn.transaction():
        now = conn.execute(q("deadline_now")).fetchone()["now"]
        rows = conn.execute(q("deadline_claim"), {"now": now, "limit": 100, "skip": []}).fetchall()
    owing = {iid for iid, (w, o, rungs) in seeded if w or o or rungs}
    assert {str(r["id"]) for r in rows} == owing
    due = [r["due_at"] for r in rows]
    assert due == sorted(due)  # earliest due first


def test_scan_applies_every_mark_once_and_is_idempotent(conn):
    seeded = _seed_cases(conn)
    tally = dl.scan(conn, batch_size=3)
    assert _events(conn) == _expected(seeded)
    assert (tally.warned, tally.overdue, tally.failed) == (1, 5, 0)
    assert tally.escalated == sum(len(e[2]) for _, e in seeded)
    levels = {r["id"]: r["level"] for r in conn.execute("SELECT id::text AS id, level FROM incident")}
    for (iid, (_, _, rungs)), (case, _) in zip(seeded, CASES):
        assert levels[iid] == (rungs[-1] if rungs else case[3])
    again = dl.scan(conn, batch_size=3)
    assert (again.warned, again.overdue, again.escalated, again.results) == (0, 0, 0, [])
    assert _events(conn) == _expected(seeded)


def test_a_stale_scan_never_escalates_twice(conn, small_grid_url):
    iid = _insert(conn, "CRM-INTRUSION", 1.5, "dispatched")
    conn.commit()
    with conn.transaction():
        now = conn.execute(q("deadline_now")).fetchone()["now"]
        stale = conn.execute(q("deadline_claim"), {"now": now, "limit": 10, "skip": []}).fetchone()
    # Another process escalates (and marks) the case between this scan and the lock.
    with connect(small_grid_url) as other:
        assert dl.scan(other).escalated == 1
    with conn.transaction():
        assert dl.apply_owed(conn, stale, now) == []
    assert escalate(conn, iid, "x", "system", expect_level="grid") is None
    assert sum(1 for k in _events(conn).elements() if k[1] == "escalate") == 1


def test_rows_locked_by_another_worker_are_skipped_not_waited_for(conn, small_grid_url):
    iid = _insert(conn, "CRM-INTRUSION", 1.5, "dispatched")
    conn.commit()
    with connect(small_grid_url) as holder:
        holder.execute("SELECT 1 FROM incident WHERE id = %s FOR UPDATE", (iid,))
        started = time.monotonic()
        tally, claimed = dl.process_batch(conn, 10)
        assert (claimed, tally.results) == (0, [])
        assert time.monotonic() - started < 2
        holder.rollback()
    assert dl.scan(conn).escalated == 1


def test_one_bad_row_does_not_stop_the_others(conn, monkeypatch):
    bad = _insert(conn, "CRM-INTRUSION", 1.5, "dispatched")
    good = _insert(conn, "MNT-CAMERA", 30.0, "accepted")
    conn.commit()
    real = dl.mark_overdue

    def flaky(c, incident_id, *a, **kw):
        if str(incident_id) == bad:
            raise psycopg.errors.DataException("corrupt row")
        return real(c, incident_id, *a, **kw)

    monkeypatch.setattr(dl, "mark_overdue", flaky)
    tally = dl.scan(conn, batch_size=1)
    assert tally.failed == 1
    events = _events(conn)
    assert events[(good, "overdue", None)] == 1 and events[(good, "escalate", "community")] == 1
    assert not any(k[0] == bad for k in events)  # the bad case's savepoint rolled back whole


def test_worker_waits_for_postgis_then_catches_up(conn, small_grid_url, redis_url, monkeypatch):
    iid = _insert(conn, "CRM-INTRUSION", 1.5, "dispatched")
    conn.commit()
    monkeypatch.setattr(dl, "backoff", lambda attempt: 0.05)
    bad_url = psycopg.conninfo.make_conninfo(small_grid_url, port=1, connect_timeout=1)
    worker = dl.DeadlineWorker(bad_url, redis_url, dl.DeadlineConfig(interval_s=0.05))
    thread = threading.Thread(target=worker.run, kwargs={"max_passes": 1})
    thread.start()
    time.sleep(0.3)
    worker.database_url = small_grid_url  # PostGIS is back
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert worker.totals.overdue == 1 and worker.totals.escalated == 1
    assert _events(conn)[(iid, "escalate", "community")] == 1


def test_marks_commit_while_redis_is_away_and_are_published_later(conn, small_grid_url, redis_url):
    iid = _insert(conn, "MNT-CAMERA", 30.0, "accepted")
    conn.commit()
    worker = dl.DeadlineWorker(small_grid_url, "redis://127.0.0.1:1/0", dl.DeadlineConfig(interval_s=0.01))
    worker.run_once()
    assert _events(conn)[(iid, "escalate", "community")] == 1
    # One committed batch, kept: overdue and escalate, each an incident and a warning message.
    assert [len(s.payloads) for s in worker.unpublished] == [4]
    client = redis_lib.Redis.from_url(redis_url)
    sub = client.pubsub()
    sub.subscribe(LIVE_CHANNEL)
    sub.get_message(timeout=1)
    worker.redis_url = redis_url  # Redis is back
    assert worker.flush() == 4 and not worker.unpublished
    got = []
    while (m := sub.get_message(timeout=0.5)) is not None:
        if m["type"] == "message":
            got.append(parse_live(m["data"]))
    # Pub/sub channels are shared by every Redis database: keep only this test's case.
    got = [m for m in got if iid in (str(getattr(m, "id", "")), str(getattr(m, "incident_id", "")))]
    warnings = [(m.kind, m.level) for m in got if m.type == "warning"]
    assert warnings == [("overdue", "grid"), ("escalated", "community")]
    assert {str(m.id) for m in got if m.type == "incident"} == {iid}
    sub.close()
    client.close()


def _cli(db_url, redis_url, actor):
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": db_url, "GRIDWATCH_REDIS_URL": redis_url}
    return subprocess.Popen([sys.executable, "-m", "workers.cli", "worker", "deadlines", "--interval", "0.1",
                             "--batch-size", "4", "--actor", actor],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_worker_processes_never_mark_a_case_twice(conn, small_grid_url, redis_url):
    procs = [_cli(small_grid_url, redis_url, f"system:deadlines:{n}") for n in ("a", "b")]
    try:
        # Both processes connected and polling before the work appears, so they compete for it.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            n = conn.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
                             "AND pid <> pg_backend_pid()").fetchone()["n"]
            conn.rollback()
            if n >= 2:
                break
            assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
            time.sleep(0.1)
        seeded = _seed_cases(conn, copies=20)
        expected = _expected(seeded)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum(_events(conn).values()) < sum(expected.values()):
            conn.rollback()
            time.sleep(0.2)
        time.sleep(0.5)  # time for a wrong second mark to show up
        conn.rollback()
        assert _events(conn) == expected
        actors = Counter(r["actor"] for r in conn.execute("SELECT actor FROM incident_event"))
        assert set(actors) == {"system:deadlines:a", "system:deadlines:b"}, actors
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        outputs = [p.communicate(timeout=10) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert all("deadline worker stopped" in err for _, err in outputs)
