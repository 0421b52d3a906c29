"""The live relay passes on only what `parse_live` reads: bad payloads are logged and dropped, the feed goes on."""

from __future__ import annotations

import json
import logging
import queue
import time
import uuid
from datetime import datetime, timezone

import pytest
import redis as redis_lib

from dashboard.live import LiveHub
from geodata.bus import (LiveAnalysis, LiveCamera, LiveIncident, LiveWarning, LiveGridWorker, created_incident_json,
                         dump_live, parse_live, publish_live)
from geodata.warning_cases import warning_message
from grid.lifecycle import Status
from grid.routing import Queue

AT = datetime(2024, 5, 1, 1, 30, tzinfo=timezone.utc)
EVENT = uuid.UUID("7d0f3c2e-6f1a-4b8e-9c55-3f1e2a4b5c6d")
WARNING_ROW = {"id": 7, "kind": "repeat", "status": "open", "matter_code": "HZ-01", "area_level": "point",
               "area_code": "S1", "sub_grid_code": "S1", "community_code": "C1", "street_code": "ST1",
               "lon": 114.3, "lat": 22.7, "score": 3.0, "created_at": AT, "incident_id": None,
               "details": {"count": 3, "first_at": AT}}

# One of each live message a process of the project publishes, in the form it publishes it.
GOOD = [
    created_incident_json(at=AT, id=EVENT, actor="camera", status=Status.DISPATCHED, queue=Queue.WORKER,
                          worker_code="W1", matter_code="HZ-01", priority=2, base_grid_code="B1", sub_grid_code="S1",
                          community_code="C1", street_code="ST1", outside=False, lon=114.35, lat=22.7, due_at=None),
    LiveIncident(at=AT, id=EVENT, action="accept", status=Status.ACCEPTED, matter_code="HZ-01", priority=2,
                 lon=114.35, lat=22.7, worker_code="W1"),
    LiveWarning(at=AT, incident_id=EVENT, kind="overdue", level="community"),
    LiveCamera(at=AT, code="PS-CAM-0012", health="offline", problem="frozen"),
    LiveGridWorker(at=AT, code="W1", on_duty=True, lon=114.3, lat=22.7),
    warning_message(WARNING_ROW),
    LiveAnalysis(at=AT, run_id=12, computed_at=AT, seconds=1.25, new_warnings=1),
]
BAD = [
    b"not json",
    b"\xff\xfe",
    json.dumps({"v": 1, "type": "weather", "at": AT.isoformat()}),  # a type nobody knows
    json.dumps({"v": 1, "type": "worker", "at": AT.isoformat()}),  # a known type, fields missing
    json.dumps([1, 2, 3]),
]


@pytest.fixture
def hub(redis_url):
    """A relay on a channel of its own (pub/sub ignores Redis database numbers), subscribed and running."""
    channel = f"gridwatch:live:test:{uuid.uuid4()}"
    relay = LiveHub(redis_url, channel)
    sub = relay.subscribe()
    client = redis_lib.Redis.from_url(redis_url)
    deadline = time.monotonic() + 10
    while client.pubsub_numsub(channel)[0][1] < 1:
        assert time.monotonic() < deadline, "the relay did not subscribe"
        time.sleep(0.05)
    yield relay, sub, client
    relay.stop()
    client.close()


def _messages(sub: queue.Queue, n: int, timeout_s: float = 10) -> list[dict]:
    got, deadline = [], time.monotonic() + timeout_s
    while len(got) < n and time.monotonic() < deadline:
        try:
            kind, item = sub.get(timeout=0.2)
        except queue.Empty:
            continue
        if kind == "msg":
            got.append(item)
    return got


def test_a_malformed_message_is_dropped_and_the_next_good_one_still_arrives(hub, caplog):
    relay, sub, client = hub
    caplog.set_level(logging.WARNING, logger="dashboard.live")
    for bad in BAD:
        client.publish(relay.channel, bad)
    publish_live(client, GOOD[4:5], relay.channel)
    got = _messages(sub, 1)
    assert got == [parse_live(dump_live(GOOD[4])).model_dump(mode="json")]
    assert relay._thread.is_alive() and relay.connected
    dropped = [r.getMessage() for r in caplog.records if r.name == "dashboard.live" and "dropped" in r.getMessage()]
    assert len(dropped) == len(BAD)
    # The log says why: the unknown type and the missing fields are named.
    assert any("type" in d and "weather" in d for d in dropped)
    assert any("code" in d and "on_duty" in d for d in dropped)
    # Nothing else came through behind the good one.
    time.sleep(0.3)
    assert _messages(sub, 1, timeout_s=0.5) == []


def test_every_live_message_the_project_publishes_is_relayed(hub):
    relay, sub, client = hub
    # Interleaved with bad ones, sent one by one and as a batch (one script call).
    publish_live(client, GOOD[:2], relay.channel)
    client.publish(relay.channel, BAD[0])
    for message in GOOD[2:5]:
        publish_live(client, [message], relay.channel)
        client.publish(relay.channel, BAD[3])
    publish_live(client, GOOD[5:], relay.channel)
    got = _messages(sub, len(GOOD))
    assert [m["type"] for m in got] == ["incident", "incident", "warning", "camera", "worker", "early_warning",
                                        "analysis"]
    assert got == [parse_live(dump_live(m)).model_dump(mode="json") for m in GOOD]
    assert got[5]["details"]["first_at"] == AT.isoformat() and got[0]["action"] == "create"


def test_the_first_subscriber_gets_what_is_published_the_moment_it_is_subscribed(redis_url):
    """The first stream of a process starts the reader; when subscribe() returns, Redis has confirmed the
    reader's subscription, so a message published at once is not lost (pub/sub keeps nothing)."""
    for _ in range(5):  # a fresh hub each time: the first subscription is the one that races
        channel = f"gridwatch:live:first-{uuid.uuid4().hex[:8]}"
        relay = LiveHub(redis_url, channel)
        client = redis_lib.Redis.from_url(redis_url)
        try:
            sub = relay.subscribe()
            assert relay.connected
            assert client.publish(channel, dump_live(GOOD[4])) == 1  # one subscriber: the reader
            assert _messages(sub, 1) == [parse_live(dump_live(GOOD[4])).model_dump(mode="json")]
        finally:
            relay.stop()
            client.close()
