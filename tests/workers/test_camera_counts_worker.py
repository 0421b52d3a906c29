"""Counts through the camera worker (issue 14): a runner counts walkers crossing a line into 5-minute
buckets, and the worker's main thread stores each bucket in PostGIS and then publishes `camera_counts`."""

from __future__ import annotations

import queue
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
import redis as redis_lib

from geodata import camera_counts
from geodata.bus import LIVE_CHANNEL, LiveCameraCounts, parse_live
from geodata.bus.messages import LineCount, ZoneCount
from grid.camera_matters import RULE_MATTERS
from tests.rig import flushed_redis_db
from video.config import parse_config
from video.sources import Sample
from video.synthetic import build
from workers.camera import CameraRunner, CameraWorker, CameraWorkerConfig
from workers.count_buckets import CountsReport

T0 = 1_777_600_800.0  # 2026-05-01T02:00:00Z, a bucket boundary
START = datetime.fromtimestamp(T0, timezone.utc)


@pytest.fixture
def redis_url(redis_url):
    """Database 12 of the test Redis: suites alongside flush 15, 13 and 11."""
    yield from flushed_redis_db(redis_url, 12)


@pytest.fixture
def live(redis_url):
    """A subscriber on gridwatch:live; call it to get the camera_counts messages published so far."""
    client = redis_lib.Redis.from_url(redis_url)
    sub = client.pubsub()
    sub.subscribe(LIVE_CHANNEL)
    assert sub.get_message(timeout=5)["type"] == "subscribe"

    def received(wait_s: float = 2.0) -> list[LiveCameraCounts]:
        out, end = [], time.monotonic() + wait_s
        while time.monotonic() < end:
            m = sub.get_message(timeout=0.2)
            if m and m["type"] == "message":
                msg = parse_live(m["data"])
                if isinstance(msg, LiveCameraCounts):
                    out.append(msg)
                    end = time.monotonic() + 0.3  # drain what follows closely, then stop waiting
        return out

    yield received
    sub.close()
    client.close()


def _rows(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT camera_code, bucket_start, kind, name, class, direction, count FROM camera_count "
                            "ORDER BY 1, 2, 3, 4, 5, 6 NULLS FIRST").fetchall()


def _counts(camera="PS-CAM-0001", closed=True, gate_in=3, start=START) -> LiveCameraCounts:
    return LiveCameraCounts(at=start, camera=camera, bucket_start=start, bucket_s=300, closed=closed,
                            zones=[ZoneCount(name="plaza", cls="person", peak=2)],
                            lines=[LineCount(name="gate", cls="person", in_=gate_in, out=1)])


def test_walkers_crossing_a_line_are_counted_stored_and_published(db_url, redis_url, tmp_path, live):
    scene = build("walk_through", 101, "drawn")
    config = parse_config({**scene.config.model_dump(mode="json"), "lines": [
        {"name": "middle", "points": [[0.5, 0.3], [0.5, 1.0]], "in_side": [0.9, 0.7], "classes": ["person"]}]})
    rightwards = sorted(a.keys[0][1] < a.keys[-1][1] for a in scene.actors if a.kind == "person")
    assert len(rightwards) == 3
    worker = CameraWorker(db_url, redis_url, tmp_path, CameraWorkerConfig(count_partial_s=1e9))
    runner = CameraRunner(config, 1, worker.outbox, tmp_path, worker.config, dict(RULE_MATTERS))
    frame, t = None, 0.0
    for frame, t in scene.frames():
        runner.step(Sample(frame, t, T0 + 10 + t))
    assert not [i for i in list(worker.outbox.queue) if isinstance(i, CountsReport)]  # the bucket is still open
    runner.step(Sample(None, t + 0.2, T0 + 300.2))  # no picture: counts nothing, closes nothing
    assert not [i for i in list(worker.outbox.queue) if isinstance(i, CountsReport)]
    runner.step(Sample(frame, t + 0.4, T0 + 300.4))  # the next bucket's first frame closes it
    worker._drain(0.0)
    worker.shutdown()

    (msg,) = live()
    assert msg.closed and msg.camera == "SYN-CAM-0001" and msg.bucket_start == START and msg.bucket_s == 300
    (line,) = msg.lines
    # Each walker crossed the middle once: towards the in side (rightwards) is "in".
    assert (line.name, line.cls, line.in_, line.out) == ("middle", "person", sum(rightwards), 3 - sum(rightwards))
    peaks = {(z.name, z.cls): z.peak for z in msg.zones}
    assert peaks[("plaza", "person")] >= 1
    stored = {(r[2], r[3], r[4], r[5]): r[6] for r in _rows(db_url)}
    assert stored[("line", "middle", "person", "in")] == line.in_
    assert stored[("line", "middle", "person", "out")] == line.out
    assert stored[("zone", "plaza", "person", None)] == peaks[("plaza", "person")]
    assert {r[1] for r in _rows(db_url)} == {START}


def test_closed_buckets_wait_for_postgis_and_partials_of_one_bucket_are_written_once(db_url, redis_url, tmp_path, live):
    bad = "postgresql://postgres@127.0.0.1:9/nowhere?connect_timeout=2"
    worker = CameraWorker(bad, redis_url, tmp_path)
    for item in (_counts(closed=False, gate_in=1), _counts(closed=False, gate_in=2), _counts(),
                 _counts(camera="PS-CAM-0002", closed=False)):
        worker.outbox.put(CountsReport(99, item))
    worker._drain(0.0)  # PostGIS unreachable: nothing stored, nothing said
    assert live(0.5) == []
    assert [r.counts.camera for r in worker.retry] == ["PS-CAM-0001"]  # only the closed bucket waits
    worker.database_url = db_url
    worker._drain(0.0)
    worker.shutdown()
    (msg,) = live()
    assert msg == _counts()
    assert _rows(db_url) == [
        ("PS-CAM-0001", START, "line", "gate", "person", "in", 3),
        ("PS-CAM-0001", START, "line", "gate", "person", "out", 1),
        ("PS-CAM-0001", START, "zone", "plaza", "person", None, 2),
    ]


def test_a_camera_restarted_within_a_bucket_counts_on_from_what_is_stored(db_url, redis_url, tmp_path):
    config = parse_config({"code": "PS-CAM-0001", "url": "x.mp4", "lon": 114.3, "lat": 22.7, "lines": [
        {"name": "gate", "points": [[0.5, 0], [0.5, 1]], "in_side": [0.8, 0.5], "classes": ["person"]}]})
    worker = CameraWorker(db_url, redis_url, tmp_path)
    if time.time() % 300 > 295:
        time.sleep(6)  # not across a bucket boundary between the write and the read below
    start = datetime.fromtimestamp(camera_counts.bucket_of(time.time()), timezone.utc)
    with psycopg.connect(db_url) as conn:
        camera_counts.write_bucket(conn, _counts(start=start, gate_in=7))
        camera_counts.write_bucket(conn, _counts(start=start - timedelta(minutes=5), gate_in=50))
    seed = worker._stored_counts(config)
    worker.shutdown()
    assert seed is not None and seed.bucket_start == start and not seed.closed
    assert seed.lines == [LineCount(name="gate", cls="person", in_=7, out=1)]
    runner = CameraRunner(config, 1, queue.Queue(), tmp_path, worker.config, dict(RULE_MATTERS), counts_seed=seed)
    runner.counts.feed(start.timestamp() + 1, {}, [])
    last = runner.counts.close(start.timestamp() + 2)
    assert last.lines == [LineCount(name="gate", cls="person", in_=7, out=1)]
    # A camera with neither zones nor lines counts nothing and reads nothing.
    bare = parse_config({"code": "PS-CAM-0003", "url": "x.mp4", "lon": 114.3, "lat": 22.7})
    assert worker._stored_counts(bare) is None
    assert CameraRunner(bare, 2, queue.Queue(), tmp_path, worker.config, {}).counts is None
