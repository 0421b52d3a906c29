"""A camera situation that lasts minutes gives its case a readable history: start, a few updates, end."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
import redis

from tests.workers.test_ingest import NOW, camera_msg, history, push, run_worker


@pytest.fixture
def client(redis_url):
    c = redis.Redis.from_url(redis_url)
    yield c
    c.close()


def _update_rows(db_url, incident_id):
    """When the camera saw the report behind each situation_update row of the case, oldest first."""
    with psycopg.connect(db_url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT r.observed_at FROM incident_event e JOIN incident_report r ON r.event_id = (e.data ->> 'event_id')::uuid"
            " WHERE e.incident_id = %s AND e.action = 'situation_update' ORDER BY e.id", (incident_id,)).fetchall()]


def _stored_reports(db_url, incident_id):
    with psycopg.connect(db_url) as conn:
        return {str(r[0]) for r in conn.execute(
            "SELECT event_id FROM incident_report WHERE incident_id = %s", (incident_id,)).fetchall()}


@pytest.mark.parametrize("every_s, batches", [
    (6.0, 1),    # 30 updates over 3 minutes, all in one batch
    (6.0, 5),    # the same, arriving in five batches
    (1.0, 3),    # a camera that reports every second: 180 updates
])
def test_minutes_long_situation_writes_start_few_updates_and_end(small_grid_url, redis_url, client, every_s, batches):
    (start,) = push(client, camera_msg(situation={"id": "gate-1", "phase": "start"}))
    run_worker(small_grid_url, redis_url)
    opened = history(small_grid_url, start)
    assert opened[0] == "report"  # (and "dispatch" when the rule dispatches at once: as before)
    steps = int(180 / every_s)
    updates = [camera_msg(situation={"id": "gate-1", "phase": "update"},
                          observed_at=(NOW + timedelta(seconds=every_s * (k + 1))).isoformat()) for k in range(steps)]
    end = camera_msg(situation={"id": "gate-1", "phase": "end"}, observed_at=(NOW + timedelta(seconds=181)).isoformat())
    size = -(-len(updates) // batches)
    sent = [start]
    for i in range(0, len(updates), size):
        sent += push(client, *updates[i:i + size])
        run_worker(small_grid_url, redis_url)
    sent += push(client, end)
    run_worker(small_grid_url, redis_url)

    rows = history(small_grid_url, start)
    assert rows[:len(opened)] == opened
    assert rows[len(opened):] == ["situation_update"] * (len(rows) - len(opened) - 1) + ["situation_end"], rows
    seen = _update_rows(small_grid_url, start)
    assert 1 <= len(seen) <= 3, seen
    assert all(b - a >= timedelta(seconds=60) for a, b in zip(seen, seen[1:])), seen
    # Nothing is lost: every report of the situation is stored with its case.
    assert _stored_reports(small_grid_url, start) == set(sent)
    with psycopg.connect(small_grid_url) as conn:
        assert conn.execute("SELECT count(*) FROM incident").fetchone()[0] == 1


def test_a_new_situation_after_an_end_gets_its_update_row(small_grid_url, redis_url, client):
    # Pacing is per stretch of updates: after an end, the next situation's first update is written.
    (start,) = push(client, camera_msg(situation={"id": "a", "phase": "start"}))
    push(client, camera_msg(situation={"id": "a", "phase": "update"}, observed_at=(NOW + timedelta(seconds=10)).isoformat()),
         camera_msg(situation={"id": "a", "phase": "end"}, observed_at=(NOW + timedelta(seconds=15)).isoformat()),
         camera_msg(situation={"id": "b", "phase": "start"}, observed_at=(NOW + timedelta(seconds=25)).isoformat()),
         camera_msg(situation={"id": "b", "phase": "update"}, observed_at=(NOW + timedelta(seconds=35)).isoformat()),
         camera_msg(situation={"id": "b", "phase": "end"}, observed_at=(NOW + timedelta(seconds=40)).isoformat()))
    run_worker(small_grid_url, redis_url)
    rows = history(small_grid_url, start)
    assert [r for r in rows if r != "dispatch"] == ["report", "situation_update", "situation_end", "merge",
                                                     "situation_update", "situation_end"]
