"""The ingest worker over real Redis and PostGIS: create, route, merge, dead-letter, replay, claim."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
import redis

from geodata.bus import DEAD_STREAM, INCIDENT_STREAM, INGEST_GROUP, LIVE_CHANNEL, parse_live
from geodata.bus import stream
from workers.ingest import IngestConfig, IngestWorker

NOW = datetime.now(timezone(timedelta(hours=8)))


def msg(**kw) -> dict:
    base = {"v": 1, "event_id": str(uuid.uuid4()), "source": "grid_worker", "matter": "DSP-NEIGHBOR",
            "lon": 114.305, "lat": 22.705, "observed_at": NOW.isoformat(), "description": "楼上漏水",
            "reporter": "W001"}
    base.update(kw)
    return base


def push(client, *messages) -> list[str]:
    for m in messages:
        client.xadd(INCIDENT_STREAM, {"data": m if isinstance(m, (bytes, str)) else json.dumps(m)})
    return [m["event_id"] for m in messages if isinstance(m, dict)]


def run_worker(db_url, redis_url, **cfg) -> IngestWorker:
    worker = IngestWorker(db_url, redis_url, IngestConfig(block_ms=50, **cfg), consumer="test-1")
    worker.run(max_idle_s=0.3)
    return worker


def incident(db_url, incident_id):
    with psycopg.connect(db_url, row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute("SELECT *, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM incident WHERE id = %s",
                            (incident_id,)).fetchone()


def history(db_url, incident_id):
    with psycopg.connect(db_url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT action FROM incident_event WHERE incident_id = %s ORDER BY id", (incident_id,)).fetchall()]


@pytest.fixture
def client(redis_url):
    c = redis.Redis.from_url(redis_url)
    yield c
    c.close()


def test_worker_report_is_dispatched_to_the_primary_with_a_deadline(small_grid_url, redis_url, client):
    (eid,) = push(client, msg())
    run_worker(small_grid_url, redis_url)
    row = incident(small_grid_url, eid)
    assert row["status"] == "dispatched" and row["queue"] == "worker" and row["worker_code"] == "W001"
    assert (row["base_grid_code"], row["sub_grid_code"]) == ("440310001001001", "44031000100101")
    assert (row["community_code"], row["street_code"]) == ("440310001001", "440310001")
    assert row["due_at"] - row["dispatched_at"] == timedelta(hours=48)
    assert history(small_grid_url, eid) == ["report", "dispatch"]
    with psycopg.connect(small_grid_url) as conn:
        assert conn.execute("SELECT count(*) FROM incident_report WHERE event_id = %s", (eid,)).fetchone()[0] == 1
    # Acknowledged: nothing is left pending for the group.
    assert client.xpending(INCIDENT_STREAM, INGEST_GROUP)["pending"] == 0


def test_backup_takes_over_when_primary_is_off_duty_and_community_queue_when_nobody(small_grid_url, redis_url, client):
    with psycopg.connect(small_grid_url) as conn:
        conn.execute("UPDATE grid_worker SET on_duty = false WHERE code IN ('W001', 'W002')")
    a, b = push(client, msg(), msg(lon=114.315, lat=22.715, matter="HAZ-FIRE"))
    run_worker(small_grid_url, redis_url)
    assert incident(small_grid_url, a)["worker_code"] == "W003"
    row = incident(small_grid_url, b)
    assert row["worker_code"] is None and row["queue"] == "community" and row["status"] == "dispatched"


def camera_msg(**kw) -> dict:
    m = msg(source="camera", **{"camera": "PS-CAM-0001", "matter": "CRM-INTRUSION", **kw})
    for key in ("lon", "lat", "reporter"):
        m.pop(key)
    return m


def test_camera_routing_and_foot_point(small_grid_url, redis_url, client):
    loiter, intrude = push(
        client,
        camera_msg(matter="CRM-LOITER", attributes={"rule": "loitering", "zone": "gate"}),
        camera_msg(foot=[0.5, 0.5], attributes={"rule": "intrusion", "zone": "gate"},
                   situation={"id": "s-1", "phase": "start"}),
    )
    run_worker(small_grid_url, redis_url)
    row = incident(small_grid_url, loiter)
    assert row["status"] == "reported" and row["queue"] == "verification" and row["dispatched_at"] is None
    assert (row["lon"], row["lat"]) == pytest.approx((114.315, 22.705))
    row = incident(small_grid_url, intrude)
    assert row["status"] == "dispatched" and row["worker_code"] == "W002"
    # The foot point in the middle of the calibrated square maps to its centre, not the pole.
    assert row["lon"] == pytest.approx(114.3150, abs=1e-6) and row["lat"] == pytest.approx(22.7050, abs=1e-6)
    assert row["camera_code"] == "PS-CAM-0001" and row["situation_id"] == "s-1"


def test_situation_update_and_end_update_the_same_incident(small_grid_url, redis_url, client):
    (start,) = push(client, camera_msg(situation={"id": "s-9", "phase": "start"}))
    run_worker(small_grid_url, redis_url)
    push(client, camera_msg(situation={"id": "s-9", "phase": "update"}),
         camera_msg(situation={"id": "s-9", "phase": "end"}))
    run_worker(small_grid_url, redis_url)
    with psycopg.connect(small_grid_url) as conn:
        assert conn.execute("SELECT count(*) FROM incident").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM incident_report WHERE incident_id = %s", (start,)).fetchone()[0] == 3
    assert history(small_grid_url, start) == ["report", "situation_update", "situation_end"]
    assert incident(small_grid_url, start)["attributes"]["situation_phase"] == "end"


def test_near_duplicates_merge_and_far_or_late_ones_do_not(small_grid_url, redis_url, client):
    first = msg()
    near = msg(lon=114.3052, lat=22.7051, observed_at=(NOW + timedelta(minutes=10)).isoformat())
    far = msg(lon=114.3080, lat=22.7051)
    late = msg(observed_at=(NOW + timedelta(hours=2)).isoformat())
    other_matter = msg(matter="HAZ-FIRE")
    push(client, first)
    run_worker(small_grid_url, redis_url)
    push(client, near, far, late, other_matter)
    run_worker(small_grid_url, redis_url)
    with psycopg.connect(small_grid_url) as conn:
        assert conn.execute("SELECT count(*) FROM incident").fetchone()[0] == 4
    row = incident(small_grid_url, first["event_id"])
    assert row["report_count"] == 2
    assert history(small_grid_url, first["event_id"]) == ["report", "dispatch", "merge"]


def test_duplicates_within_one_batch_merge_too(small_grid_url, redis_url, client):
    a, b = push(client, msg(), msg(lon=114.3051))
    run_worker(small_grid_url, redis_url)
    assert incident(small_grid_url, a)["report_count"] == 2
    assert incident(small_grid_url, b) is None


def test_replayed_messages_create_nothing_new(small_grid_url, redis_url, client):
    m = msg()
    push(client, m, m)
    run_worker(small_grid_url, redis_url)
    push(client, m)
    worker = run_worker(small_grid_url, redis_url)
    assert worker.totals.duplicates == 1
    with psycopg.connect(small_grid_url) as conn:
        assert conn.execute("SELECT count(*) FROM incident_report").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM incident").fetchone()[0] == 1


@pytest.mark.parametrize("raw, reason", [
    (b"not json", "JSON"),
    (json.dumps({"v": 2}), "v"),
    (json.dumps({**msg(), "lat": 95}), "lat"),
    (json.dumps({**msg(), "observed_at": "2026-11-28T10:00:00"}), "observed_at"),
    (json.dumps({**msg(), "matter": "NO-SUCH"}), "unknown matter"),
    (json.dumps({**camera_msg(), "camera": "NO-CAM"}), "unknown camera"),
    (json.dumps({**msg(), "media": ["../../etc/passwd"]}), "media"),
])
def test_bad_messages_are_dead_lettered_with_a_reason(small_grid_url, redis_url, client, raw, reason):
    good = msg()
    push(client, raw, good)
    run_worker(small_grid_url, redis_url)
    dead = client.xrange(DEAD_STREAM)
    assert len(dead) == 1
    fields = dead[0][1]
    assert reason.lower() in fields[b"reason"].decode().lower()
    assert fields[b"data"] == (raw if isinstance(raw, bytes) else raw.encode())
    assert b"at" in fields
    # The good message behind it went through; nothing is left pending.
    assert incident(small_grid_url, good["event_id"]) is not None
    assert client.xpending(INCIDENT_STREAM, INGEST_GROUP)["pending"] == 0


def test_entries_without_data_field_are_dead_lettered(small_grid_url, redis_url, client):
    client.xadd(INCIDENT_STREAM, {"payload": "x"})
    run_worker(small_grid_url, redis_url)
    (dead,) = client.xrange(DEAD_STREAM)
    assert b"no 'data' field" in dead[1][b"reason"]


def test_outside_points_are_stored_flagged_and_queued_for_the_district(small_grid_url, redis_url, client):
    (eid,) = push(client, msg(lon=114.50, lat=22.50))
    run_worker(small_grid_url, redis_url)
    row = incident(small_grid_url, eid)
    assert row["outside"] is True and row["queue"] == "district" and row["status"] == "reported"
    assert row["base_grid_code"] is None and (row["lon"], row["lat"]) == pytest.approx((114.50, 22.50))


def test_live_feed_is_published_after_commit(small_grid_url, redis_url, client):
    sub = client.pubsub()
    sub.subscribe(LIVE_CHANNEL)
    sub.get_message(timeout=1)
    (eid,) = push(client, msg())
    run_worker(small_grid_url, redis_url)
    got = None
    for _ in range(20):
        m = sub.get_message(timeout=0.2)
        if m and m["type"] == "message":
            got = parse_live(m["data"])
            break
    sub.close()
    assert got is not None and str(got.id) == eid and got.action == "create"
    assert got.worker_code == "W001" and got.status == "dispatched"


def test_pending_entries_of_a_dead_consumer_are_claimed_and_finished(small_grid_url, redis_url, client):
    stream.ensure_group(client)
    (eid,) = push(client, msg())
    # A consumer that read the entry and died before acknowledging it.
    taken = stream.read_new(client, "dead-consumer", 10, 10)
    assert len(taken) == 1
    worker = IngestWorker(small_grid_url, redis_url, IngestConfig(block_ms=50, claim_idle_ms=0, claim_every_s=0),
                          consumer="rescuer")
    worker.run(max_idle_s=0.3)
    assert incident(small_grid_url, eid) is not None
    assert client.xpending(INCIDENT_STREAM, INGEST_GROUP)["pending"] == 0


def test_worker_recreates_its_group_when_the_stream_is_deleted(small_grid_url, redis_url, client):
    worker = IngestWorker(small_grid_url, redis_url, IngestConfig(block_ms=50), consumer="test-1")
    thread = threading.Thread(target=worker.run, kwargs={"max_idle_s": 3.0})
    thread.start()
    try:
        push(client, msg())
        deadline = time.monotonic() + 10
        while worker.totals.created < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        client.delete(INCIDENT_STREAM)
        (eid,) = push(client, msg(lon=114.315, lat=22.715))
        deadline = time.monotonic() + 10
        while worker.totals.created < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stopping = True
        thread.join(10)
    assert incident(small_grid_url, eid) is not None


def test_a_moved_base_grid_routes_the_next_batch_to_its_new_sub_grid(small_grid_url, redis_url, client):
    worker = IngestWorker(small_grid_url, redis_url, IngestConfig(block_ms=50), consumer="test-1")
    (first,) = push(client, msg())
    worker.run(max_idle_s=0.3)
    assert incident(small_grid_url, first)["worker_code"] == "W001"
    with psycopg.connect(small_grid_url) as conn:
        conn.execute("UPDATE base_grid SET sub_grid_code = '44031000100102' WHERE code = '440310001001001'")
    # Same worker object, index loaded before the move: the next batch must see the new grid.
    (second,) = push(client, msg(matter="HAZ-FIRE"))
    worker.run(max_idle_s=0.3)
    row = incident(small_grid_url, second)
    assert row["sub_grid_code"] == "44031000100102" and row["worker_code"] == "W002"


def test_repeated_camera_situations_merge_and_camera_faults_skip_verification(small_grid_url, redis_url, client):
    (first,) = push(client, camera_msg(situation={"id": "loop-1", "phase": "start"}))
    run_worker(small_grid_url, redis_url)
    # The same rule firing again at the same camera a few minutes later is the same problem.
    push(client, camera_msg(situation={"id": "loop-2", "phase": "start"},
                            observed_at=(NOW + timedelta(minutes=3)).isoformat()))
    (fault,) = push(client, camera_msg(matter="MNT-CAMERA", situation={"id": "covered-1", "phase": "start"}))
    run_worker(small_grid_url, redis_url)
    assert incident(small_grid_url, first)["report_count"] == 2
    row = incident(small_grid_url, fault)
    assert row["status"] == "dispatched" and row["queue"] == "district" and row["worker_code"] is None
    # The merged situation's end finds the incident its start merged into: no new case.
    push(client, camera_msg(situation={"id": "loop-2", "phase": "end"},
                            observed_at=(NOW + timedelta(minutes=4)).isoformat()))
    run_worker(small_grid_url, redis_url)
    assert history(small_grid_url, first)[-1] == "situation_end"
    with psycopg.connect(small_grid_url) as conn:
        assert conn.execute("SELECT count(*) FROM incident WHERE matter_code = 'CRM-INTRUSION'").fetchone()[0] == 1


def test_new_matters_and_cameras_are_known_from_the_next_batch(small_grid_url, redis_url, client):
    worker = IngestWorker(small_grid_url, redis_url, IngestConfig(block_ms=50), consumer="test-1")
    worker.run(max_idle_s=0.2)
    with psycopg.connect(small_grid_url) as conn:
        conn.execute("INSERT INTO matter (code, name, name_en, family, priority, deadline_hours) "
                     "VALUES ('HAZ-NEW', '新事项', 'New matter', 'hazard', 2, 8)")
        conn.execute("INSERT INTO camera (code, name, geom) VALUES "
                     "('PS-CAM-0009', '新摄像机', ST_SetSRID(ST_MakePoint(114.312, 22.712), 4326))")
    # The same worker, loaded before both existed: the revision check of the next batch picks them up.
    a, b = push(client, msg(matter="HAZ-NEW"), camera_msg(camera="PS-CAM-0009"))
    worker.run(max_idle_s=0.3)
    assert incident(small_grid_url, a)["matter_code"] == "HAZ-NEW"
    assert incident(small_grid_url, b)["camera_code"] == "PS-CAM-0009"
    assert client.xlen(DEAD_STREAM) == 0


def events(db_url, incident_id):
    with psycopg.connect(db_url, row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute("SELECT * FROM incident_event WHERE incident_id = %s ORDER BY id",
                            (incident_id,)).fetchall()


def test_a_merge_is_a_transition_with_its_history_row_and_live_message(small_grid_url, redis_url, client):
    first = msg()
    push(client, first)
    run_worker(small_grid_url, redis_url)
    sub = client.pubsub()
    sub.subscribe(LIVE_CHANNEL)
    sub.get_message(timeout=1)
    near = msg(lon=114.3051, description="又漏了", reporter="W002",
               observed_at=(NOW + timedelta(minutes=5)).isoformat())
    push(client, near)
    run_worker(small_grid_url, redis_url)
    row = incident(small_grid_url, first["event_id"])
    assert row["report_count"] == 2
    assert row["last_report_at"] == datetime.fromisoformat(near["observed_at"])
    merge = events(small_grid_url, first["event_id"])[-1]
    # Written by apply_transition: status unchanged on both sides, the report named, the role recorded.
    assert (merge["action"], merge["from_status"], merge["to_status"]) == ("merge", "dispatched", "dispatched")
    assert merge["actor"] == "W002" and merge["note"] == "又漏了"
    assert merge["data"]["event_id"] == near["event_id"] and merge["data"]["role"] == "system"
    assert merge["data"]["report_count"] == 2
    live = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not live:
        m = sub.get_message(timeout=0.5)
        if m and m["type"] == "message":
            live.append(parse_live(m["data"]))
    sub.close()
    assert live and live[0].action == "merge" and live[0].report_count == 2


def test_a_situation_that_outlives_its_closed_case_leaves_the_case_alone(small_grid_url, redis_url, client):
    from geodata import db
    from geodata.transitions import apply_transition

    (start,) = push(client, camera_msg(situation={"id": "s-closed", "phase": "start"}))
    run_worker(small_grid_url, redis_url)
    with db.connect(small_grid_url) as conn:
        conn.autocommit = True
        apply_transition(conn, start, "cancel", "dispatcher", "dispatcher", note="误报")
    before = incident(small_grid_url, start)
    (update,) = push(client, camera_msg(situation={"id": "s-closed", "phase": "update"}))
    run_worker(small_grid_url, redis_url)
    after = incident(small_grid_url, start)
    assert after["status"] == "cancelled" and after["updated_at"] == before["updated_at"]
    assert [e["action"] for e in events(small_grid_url, start)][-1] == "cancel"
    with psycopg.connect(small_grid_url) as conn:
        # The report is kept as evidence of that case; nothing new was opened for it.
        assert conn.execute("SELECT incident_id FROM incident_report WHERE event_id = %s",
                            (update,)).fetchone()[0] == uuid.UUID(start)
        assert conn.execute("SELECT count(*) FROM incident").fetchone()[0] == 1


def test_a_case_cancelled_while_ingest_decides_gets_no_merge_but_a_new_case(small_grid_url, redis_url, client):
    from geodata import db
    from geodata.transitions import apply_transition

    first = msg()
    push(client, first)
    run_worker(small_grid_url, redis_url)
    case = first["event_id"]
    desk = db.connect(small_grid_url)
    desk.autocommit = True
    tx = desk.transaction()
    tx.__enter__()
    # The supervisor's cancel holds the row lock while ingest takes the next report.
    apply_transition(desk, case, "cancel", "supervisor", "supervisor", note="已处理完毕")
    near = msg(lon=114.3051)
    push(client, near)
    worker = threading.Thread(target=run_worker, args=(small_grid_url, redis_url))
    worker.start()
    time.sleep(0.5)
    assert worker.is_alive(), "ingest did not wait for the lock of the case it might merge into"
    tx.__exit__(None, None, None)
    desk.close()
    worker.join(30)
    assert incident(small_grid_url, case)["report_count"] == 1
    assert incident(small_grid_url, case)["status"] == "cancelled"
    assert incident(small_grid_url, near["event_id"])["status"] == "dispatched"
