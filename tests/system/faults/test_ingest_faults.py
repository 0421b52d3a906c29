"""Ingest under faults, counted end to end: every event_id once in incident_report and once on the live
feed, through kill -9 mid-batch, PostGIS down 10 s and a Redis restart (append-only on)."""

from __future__ import annotations

import signal
import time

import redis

from geodata.bus import INCIDENT_STREAM, INGEST_GROUP
from tests.system.faults.harness import (LiveFeed, assert_exact, counts, lattice_messages, push, reset,
                                         start_ingest, stop, tally, wait_for)


def busy_ingest(info, client, messages: list[dict], consumer: str, log, first: int):
    """An ingest worker in the middle of `messages`: at least `first` reports stored, the rest to come."""
    push(client, messages)
    worker = start_ingest(info, consumer, log)
    try:
        wait_for(lambda: counts(info)[1] >= first, 120, "the first batches")
    except BaseException:
        stop(worker)
        raise
    return worker


def settled(info, client, n: int) -> bool:
    return counts(info)[1] == n and client.xpending(INCIDENT_STREAM, INGEST_GROUP)["pending"] == 0


def test_ingest_kill_9_mid_batch_then_restart(own_services, tmp_path):
    services, info = own_services
    reset(info)
    client = redis.Redis.from_url(info["redis_url"])
    # Two reports a place: half of them merge, so a lost merge would not hide behind its case.
    messages = lattice_messages(1400, per_place=2)
    with LiveFeed(info["redis_url"]) as live:
        worker = busy_ingest(info, client, messages, "victim", tmp_path / "ingest.log", 200)
        try:
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            killed = time.monotonic()
            assert counts(info)[1] < len(messages), "the worker finished before it could be killed"
        finally:
            stop(worker)
        survivor = start_ingest(info, "survivor", tmp_path / "ingest.log")
        try:
            wait_for(lambda: settled(info, client, len(messages)), 180, "the rest")
            recovered = time.monotonic() - killed
            live.settle(len(messages))
        finally:
            stop(survivor)
    fig = tally(info, "ingest kill -9", {m["event_id"] for m in messages}, live)
    fig.extra["recovery s"] = round(recovered, 1)
    assert_exact(fig)


def test_postgis_down_for_10_s_then_ingest_catches_up(own_services, tmp_path):
    services, info = own_services
    reset(info)
    client = redis.Redis.from_url(info["redis_url"])
    first, rest = lattice_messages(100), lattice_messages(300, start=100, per_place=3)
    with LiveFeed(info["redis_url"]) as live:
        worker = start_ingest(info, "patient", tmp_path / "ingest.log")
        try:
            push(client, first)
            wait_for(lambda: counts(info)[1] == 100, 120, "the first 100")
            services.stop_postgres()
            down = time.monotonic()
            push(client, rest)
            # The outage itself is the fault: it lasts 10 s whatever the machine's speed.
            time.sleep(max(0.0, 10 - (time.monotonic() - down)))
            assert worker.poll() is None, "the worker died while PostGIS was down"
            services.up()
            back = time.monotonic()
            wait_for(lambda: settled(info, client, 400), 120, "catching up after the outage")
            recovered = time.monotonic() - back
            live.settle(400)
        finally:
            stop(worker)
    fig = tally(info, "PostGIS down 10 s", {m["event_id"] for m in first + rest}, live)
    fig.extra["catch-up s after PostGIS is back"] = round(recovered, 1)
    assert_exact(fig)


def test_redis_restart_with_append_only_mid_work(own_services, tmp_path):
    services, info = own_services
    reset(info)
    assert redis.Redis.from_url(info["redis_url"]).config_get("appendonly")["appendonly"] == "yes"
    client = redis.Redis.from_url(info["redis_url"])
    before, after = lattice_messages(1200, per_place=2), lattice_messages(100, start=1200)
    with LiveFeed(info["redis_url"]) as live:
        worker = busy_ingest(info, client, before, "reconnecting", tmp_path / "ingest.log", 100)
        try:
            # Paused, so the feed is listening again before ingest can publish on the new server: pub/sub
            # keeps nothing for an absent listener, and that gap is the listener's, not the worker's.
            worker.send_signal(signal.SIGSTOP)
            assert counts(info)[1] < len(before), "ingest finished before Redis went down"
            sessions = live.sessions
            services.stop_redis()
            restarted = time.monotonic()
            services.up()
            wait_for(lambda: live.sessions > sessions, 10, "the live feed back")
            worker.send_signal(signal.SIGCONT)
            client = redis.Redis.from_url(info["redis_url"])
            push(client, after)
            wait_for(lambda: settled(info, client, len(before) + len(after)), 120, "everything after the restart")
            recovered = time.monotonic() - restarted
            live.settle(len(before) + len(after))
            assert worker.poll() is None
        finally:
            worker.send_signal(signal.SIGCONT)
            stop(worker)
    fig = tally(info, "Redis restart", {m["event_id"] for m in before + after}, live)
    fig.extra["recovery s"] = round(recovered, 1)
    assert_exact(fig)
