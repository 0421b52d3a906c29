"""camera_count in PostGIS (migration 0017): a bucket is upserted in one statement, re-writes never lower a
count, the table refuses what is not a count, and a camera's series comes back in time order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from geodata import camera_counts
from geodata.bus import LIVE_CHANNEL, LiveCameraCounts, parse_live
from geodata.bus.messages import LineCount, ZoneCount

T0 = datetime(2026, 5, 1, 1, 0, tzinfo=timezone.utc)


def _counts(start=T0, closed=True, peak=3, gate_in=4, gate_out=1, camera="PS-CAM-0001") -> LiveCameraCounts:
    return LiveCameraCounts(at=start + timedelta(minutes=5), camera=camera, bucket_start=start, bucket_s=300,
                            closed=closed, zones=[ZoneCount(name="plaza", cls="person", peak=peak)],
                            lines=[LineCount(name="gate", cls="person", in_=gate_in, out=gate_out),
                                   LineCount(name="gate", cls="vehicle", in_=0, out=0)])


def _table(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT camera_code, bucket_start, kind, name, class, direction, count FROM camera_count "
                            "ORDER BY camera_code, bucket_start, kind, name, class, direction NULLS FIRST").fetchall()


def test_a_bucket_is_one_row_per_series_and_a_rewrite_is_an_upsert_that_never_lowers(db_url):
    with psycopg.connect(db_url) as conn:
        assert camera_counts.write_bucket(conn, _counts(closed=False, peak=2, gate_in=1, gate_out=0)) == 5
        assert camera_counts.write_bucket(conn, _counts()) == 5
        # A stale partial arriving after the closed bucket (a retry) changes nothing.
        camera_counts.write_bucket(conn, _counts(closed=False, peak=1, gate_in=2, gate_out=0))
    assert _table(db_url) == [
        ("PS-CAM-0001", T0, "line", "gate", "person", "in", 4),
        ("PS-CAM-0001", T0, "line", "gate", "person", "out", 1),
        ("PS-CAM-0001", T0, "line", "gate", "vehicle", "in", 0),
        ("PS-CAM-0001", T0, "line", "gate", "vehicle", "out", 0),
        ("PS-CAM-0001", T0, "zone", "plaza", "person", None, 3),
    ]


def test_write_commits_even_inside_a_transaction_the_caller_left_open(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute("SELECT 1")  # a non-autocommit connection is now inside a transaction
        camera_counts.write_bucket(conn, _counts())
    assert len(_table(db_url)) == 5  # seen from another connection


def test_stored_bucket_reads_back_what_was_written(db_url):
    with psycopg.connect(db_url) as conn:
        camera_counts.write_bucket(conn, _counts())
        zones, lines = camera_counts.stored_bucket(conn, "PS-CAM-0001", T0)
        none = camera_counts.stored_bucket(conn, "PS-CAM-0001", T0 + timedelta(minutes=5))
    assert zones == [ZoneCount(name="plaza", cls="person", peak=3)]
    assert lines == [LineCount(name="gate", cls="person", in_=4, out=1), LineCount(name="gate", cls="vehicle", in_=0, out=0)]
    assert none == ([], [])


def test_series_is_one_cameras_range_in_time_order(db_url):
    with psycopg.connect(db_url) as conn:
        for k in (2, 0, 1):  # written out of order
            camera_counts.write_bucket(conn, _counts(start=T0 + timedelta(minutes=5 * k), gate_in=k + 1))
        camera_counts.write_bucket(conn, _counts(camera="PS-CAM-0002", gate_in=9))
        rows = camera_counts.series(conn, "PS-CAM-0001", T0 + timedelta(minutes=5), T0 + timedelta(minutes=15))
        cut = camera_counts.series(conn, "PS-CAM-0001", T0, T0 + timedelta(hours=1), limit=3)
    assert sorted({r.bucket_start for r in rows}) == [T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)]
    assert [r.bucket_start for r in rows] == sorted(r.bucket_start for r in rows)
    ins = [(r.bucket_start, r.count) for r in rows if r.kind == "line" and r.cls == "person" and r.direction == "in"]
    assert ins == [(T0 + timedelta(minutes=5), 2), (T0 + timedelta(minutes=10), 3)]
    assert len(cut) == 3


@pytest.mark.parametrize("kind, direction, cls, count", [
    ("zone", "in", "person", 1),      # a zone's peak has no direction
    ("line", None, "person", 1),      # a line's count has one
    ("area", None, "person", 1),
    ("line", "up", "person", 1),
    ("line", "in", "bicycle", 1),
    ("line", "in", "person", -1),
])
def test_the_table_refuses_what_is_not_a_count(db_url, kind, direction, cls, count):
    with psycopg.connect(db_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO camera_count VALUES ('C', %s, %s, 'n', %s, %s, %s)", (T0, kind, cls, direction, count))


def test_the_per_camera_range_read_uses_the_key_index(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute("SET enable_seqscan = off")  # an empty table: ask whether an index can serve at all
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT * FROM camera_count WHERE camera_code = 'C' AND bucket_start >= now() - interval '1 day'"))
    assert "camera_count_key" in plan


def test_camera_counts_message_round_trips_with_its_wire_names(redis_url):
    import redis

    from geodata.bus import publish_live
    client = redis.Redis.from_url(redis_url)
    sub = client.pubsub()
    sub.subscribe(LIVE_CHANNEL)
    assert sub.get_message(timeout=2)["type"] == "subscribe"
    publish_live(client, [_counts()])
    msg = sub.get_message(timeout=2)
    sub.close()
    client.close()
    assert b'"class":"person"' in msg["data"] and b'"in":4' in msg["data"]
    back = parse_live(msg["data"])
    assert back == _counts()
    with pytest.raises(Exception, match="bucket_start"):
        LiveCameraCounts(at=T0, camera="C", bucket_start=datetime(2026, 5, 1), bucket_s=300)
