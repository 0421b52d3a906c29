"""The deadline worker killed with -9 in the middle of a scan and restarted: every owed mark applied,
no case escalated twice, in the history and on the live feed."""

from __future__ import annotations

import signal
import time
from collections import Counter

import psycopg
import psycopg.rows

from geodata.bus import LiveWarning
from geodata.db import connect
from workers.deadlines import scan
from tests.system.faults.harness import LiveFeed, reset, start_worker, stop, wait_for

CASES = 150
# CRM-INTRUSION has a 1 h deadline climbing community, street, district: 10 h late owes all three.
RUNGS = ("community", "street", "district")


def seed_late_cases(conn, n: int) -> None:
    conn.execute(
        "INSERT INTO incident (id, matter_code, source, status, level, priority, queue, geom, base_grid_code, "
        "sub_grid_code, community_code, street_code, worker_code, observed_at, last_report_at, dispatched_at, "
        "due_at) "
        "SELECT gen_random_uuid(), 'CRM-INTRUSION', 'grid_worker', 'dispatched', 'grid', 2, 'worker', "
        "ST_SetSRID(ST_MakePoint(114.305, 22.705), 4326), '440310001001001', '44031000100101', '440310001001', "
        "'440310001', 'W001', d, d, d, d + interval '1 hour' "
        "FROM generate_series(1, %(n)s), (SELECT now() - interval '10 hours' AS d) t", {"n": n})


def marks(conn) -> Counter:
    """(incident, action, rung reached) -> history rows."""
    return Counter(conn.execute(
        "SELECT incident_id::text, action, data->'level'->>'to' FROM incident_event "
        "WHERE action IN ('warn', 'overdue', 'escalate')").fetchall())


def escalated(info) -> int:
    with psycopg.connect(info["database_url"]) as conn:
        return conn.execute("SELECT count(*) FROM incident_event WHERE action = 'escalate'").fetchone()[0]


def test_deadlines_kill_9_mid_scan_then_restart(own_services, tmp_path):
    services, info = own_services
    reset(info)
    with psycopg.connect(info["database_url"]) as conn:
        seed_late_cases(conn, CASES)
        ids = [r[0] for r in conn.execute("SELECT id::text FROM incident").fetchall()]
    log = tmp_path / "deadlines.log"
    owed = CASES * len(RUNGS)
    with LiveFeed(info["redis_url"]) as live:
        worker = start_worker(info, "deadlines", "--interval", "0.5", "--batch-size", "50", log=log)
        try:
            wait_for(lambda: escalated(info) >= 60, 180, "the first escalations")
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            killed = time.monotonic()
            assert escalated(info) < owed, "the scan finished before it could be killed"
        finally:
            stop(worker)
        again = start_worker(info, "deadlines", "--interval", "0.5", "--batch-size", "50", log=log)
        try:
            wait_for(lambda: escalated(info) >= owed, 180, "every escalation")
            recovered = time.monotonic() - killed
        finally:
            stop(again)
        wait_for(lambda: sum(isinstance(m, LiveWarning) and m.kind == "escalated" for m in live.messages) >= owed,
                 30, "the live feed", fail=False)
    with connect(info["database_url"]) as conn:
        # Nothing is owed any more: a scan now finds nothing to do.
        left = scan(conn)
        assert (left.warned, left.overdue, left.escalated, left.failed) == (0, 0, 0, 0)
        conn.row_factory = psycopg.rows.tuple_row
        history = marks(conn)
        levels = Counter(r[0] for r in conn.execute("SELECT level FROM incident").fetchall())
    expected = Counter({(i, "overdue", None): 1 for i in ids})
    expected.update({(i, "escalate", rung): 1 for i in ids for rung in RUNGS})
    twice = sum((history - expected).values())
    missing = sum((expected - history).values())
    on_feed = Counter((str(m.incident_id), m.level.value) for m in live.messages
                      if isinstance(m, LiveWarning) and m.kind == "escalated")
    feed_owed = Counter({(i, rung): 1 for i in ids for rung in RUNGS})
    feed_lost, feed_twice = sum((feed_owed - on_feed).values()), sum((on_feed - feed_owed).values())
    print(f"\n[faults] deadlines kill -9: cases {CASES}, escalations owed {owed}, applied "
          f"{sum(v for k, v in history.items() if k[1] == 'escalate')}, missing {missing}, twice {twice}; "
          f"live feed lost {feed_lost}, duplicated {feed_twice}; recovery s {recovered:.1f}")
    assert (missing, twice) == (0, 0)
    assert levels == Counter({"district": CASES})
    assert (feed_lost, feed_twice) == (0, 0)
