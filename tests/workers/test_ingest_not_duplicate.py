"""attributes.not_duplicate_of: a reporter's "a different one" keeps ingest from merging into those cases only."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
import redis

from geodata.bus import DEAD_STREAM
from grid import merging
from tests.workers.test_ingest import history, incident, msg, push, run_worker


@pytest.fixture
def client(redis_url):
    c = redis.Redis.from_url(redis_url)
    yield c
    c.close()


def _count(db_url, sql, *args):
    with psycopg.connect(db_url) as conn:
        return conn.execute(sql, args).fetchone()[0]


def test_not_duplicate_of_blocks_the_listed_cases_and_no_others(small_grid_url, redis_url, client):
    c1 = msg(lon=114.3050, lat=22.7050)
    push(client, c1)
    run_worker(small_grid_url, redis_url)
    # 20 m east: would merge into c1, but the reporter said it is a different one.
    c2 = msg(lon=114.3052, lat=22.7050, attributes={"not_duplicate_of": [c1["event_id"]]})
    push(client, c2)
    run_worker(small_grid_url, redis_url)
    assert incident(small_grid_url, c2["event_id"])["report_count"] == 1
    assert incident(small_grid_url, c2["event_id"])["attributes"]["not_duplicate_of"] == [c1["event_id"]]
    assert incident(small_grid_url, c1["event_id"])["report_count"] == 1

    # Nearer to c1 than to c2, c1 excluded (upper case, as some clients write UUIDs): joins c2, with its
    # photo and note.
    r = msg(lon=114.30505, lat=22.7050, description="还是那个", media=["field/2025/x.jpg"],
            attributes={"not_duplicate_of": [c1["event_id"].upper()]})
    # Excludes both: a new case, though both are within the radius.
    r2 = msg(lon=114.30510, lat=22.7050, attributes={"not_duplicate_of": [c1["event_id"], c2["event_id"]]})
    # Names nothing: the usual rule, the nearest case (c1).
    r3 = msg(lon=114.30501, lat=22.7050)
    push(client, r, r2, r3)
    run_worker(small_grid_url, redis_url)
    assert incident(small_grid_url, r["event_id"]) is None
    assert incident(small_grid_url, c2["event_id"])["report_count"] == 2
    assert history(small_grid_url, c2["event_id"])[-1] == "merge"
    with psycopg.connect(small_grid_url) as conn:
        note, media = conn.execute(
            "SELECT note, media FROM incident_event WHERE incident_id = %s AND action = 'merge'",
            (c2["event_id"],)).fetchone()
        stored = conn.execute("SELECT incident_id::text, attributes FROM incident_report WHERE event_id = %s",
                              (r["event_id"],)).fetchone()
    assert note == "还是那个" and media == ["field/2025/x.jpg"]
    assert stored[0] == c2["event_id"] and stored[1]["not_duplicate_of"] == [c1["event_id"].upper()]
    assert incident(small_grid_url, r2["event_id"])["report_count"] == 1
    assert incident(small_grid_url, r3["event_id"]) is None
    assert incident(small_grid_url, c1["event_id"])["report_count"] == 2
    assert _count(small_grid_url, "SELECT count(*) FROM incident") == 3


def test_within_one_batch_the_exclusion_holds_too(small_grid_url, redis_url, client):
    a = msg(lon=114.3050, lat=22.7050)
    b = msg(lon=114.3051, lat=22.7050, attributes={"not_duplicate_of": [a["event_id"]]})
    push(client, a, b)
    run_worker(small_grid_url, redis_url)
    assert incident(small_grid_url, a["event_id"])["report_count"] == 1
    assert incident(small_grid_url, b["event_id"])["report_count"] == 1


@pytest.mark.parametrize("value", ["not-a-list", [123], ["abc"], [str(uuid.uuid4())] * (merging.MAX_NOT_DUPLICATE_OF + 1)])
def test_a_bad_not_duplicate_of_is_dead_lettered_with_its_reason(small_grid_url, redis_url, client, value):
    m = msg(attributes={"not_duplicate_of": value})
    push(client, m)
    run_worker(small_grid_url, redis_url)
    assert incident(small_grid_url, m["event_id"]) is None
    (entry,) = client.xrange(DEAD_STREAM)
    reason = entry[1][b"reason"].decode()
    assert "not_duplicate_of" in reason
    assert json.loads(entry[1][b"data"])["event_id"] == m["event_id"]
