"""Ingest under faults, on throw-away private servers: kill -9 mid-batch, PostGIS down, Redis restarted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone

import psycopg
import pytest
import redis

from geodata import migrate
from geodata.bus import INCIDENT_STREAM, INGEST_GROUP
from workers.services import PrivateServices


@pytest.fixture(scope="module")
def own_services(tmp_path_factory, small_grid_sql):
    """A private PostGIS and Redis of this module alone, so stopping them disturbs no other test."""
    home = tmp_path_factory.mktemp("faults-home")
    services = PrivateServices(home)
    info = services.up()
    with psycopg.connect(info["database_url"]) as conn:
        migrate.migrate(conn)
        conn.execute(small_grid_sql)
    yield services, info
    services.destroy()


def lattice_messages(n: int, start: int = 0) -> list[dict]:
    """Reports at least 50 m apart inside the small grid, so none merges with another."""
    out = []
    now = datetime.now(timezone.utc).isoformat()
    for k in range(start, start + n):
        i, j = divmod(k, 38)
        out.append({"v": 1, "event_id": str(uuid.uuid4()), "source": "appeal", "matter": "DSP-NEIGHBOR",
                    "lon": 114.3002 + 0.00052 * j, "lat": 22.7002 + 0.00052 * i, "observed_at": now})
    return out


def push(client, messages):
    with client.pipeline(transaction=False) as pipe:
        for m in messages:
            pipe.xadd(INCIDENT_STREAM, {"data": json.dumps(m)})
        pipe.execute()


def start_worker(info, consumer: str) -> subprocess.Popen:
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": info["database_url"], "GRIDWATCH_REDIS_URL": info["redis_url"]}
    return subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "worker", "ingest", "--batch-size", "100",
         "--claim-idle-ms", "1000", "--consumer", consumer], env=env)


def counts(info) -> tuple[int, int, int]:
    with psycopg.connect(info["database_url"]) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM incident), (SELECT count(*) FROM incident_report), "
            "(SELECT count(DISTINCT event_id) FROM incident_report)").fetchone()


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (psycopg.OperationalError, redis.ConnectionError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def reset(info):
    with psycopg.connect(info["database_url"]) as conn:
        conn.execute("TRUNCATE incident_event, incident_report, incident")
    redis.Redis.from_url(info["redis_url"]).flushdb()


def test_kill_9_mid_batch_then_restart_keeps_every_report_exactly_once(own_services):
    services, info = own_services
    reset(info)
    client = redis.Redis.from_url(info["redis_url"])
    messages = lattice_messages(1400)
    push(client, messages)
    worker = start_worker(info, "victim")
    try:
        wait_for(lambda: counts(info)[0] >= 200, 60, "the first batches")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert counts(info)[0] < len(messages), "the worker finished before it could be killed"
    finally:
        if worker.poll() is None:
            worker.kill()
    survivor = start_worker(info, "survivor")
    try:
        wait_for(lambda: counts(info)[1] == len(messages) and
                 client.xpending(INCIDENT_STREAM, INGEST_GROUP)["pending"] == 0, 90, "the rest")
    finally:
        survivor.terminate()
        survivor.wait(10)
    incidents, reports, distinct = counts(info)
    assert incidents == reports == distinct == len(messages)


def test_postgis_down_for_10_s_then_ingest_catches_up(own_services):
    services, info = own_services
    reset(info)
    client = redis.Redis.from_url(info["redis_url"])
    worker = start_worker(info, "patient")
    try:
        push(client, lattice_messages(100))
        wait_for(lambda: counts(info)[0] == 100, 30, "the first 100")
        services.stop_postgres()
        push(client, lattice_messages(300, start=100))
        time.sleep(10)
        assert worker.poll() is None, "the worker died while PostGIS was down"
        services.up()
        wait_for(lambda: counts(info)[1] == 400, 60, "catching up after the outage")
    finally:
        worker.terminate()
        worker.wait(10)
    assert counts(info) == (400, 400, 400)
    assert client.xpending(INCIDENT_STREAM, INGEST_GROUP)["pending"] == 0


def test_redis_restart_workers_reconnect_by_themselves(own_services):
    services, info = own_services
    reset(info)
    client = redis.Redis.from_url(info["redis_url"])
    worker = start_worker(info, "reconnecting")
    try:
        push(client, lattice_messages(50))
        wait_for(lambda: counts(info)[0] == 50, 30, "the first 50")
        # Append-only file is fsynced every second: give it that before the restart.
        time.sleep(1.2)
        services.stop_redis()
        time.sleep(2)
        services.up()
        client = redis.Redis.from_url(info["redis_url"])
        push(client, lattice_messages(50, start=50))
        wait_for(lambda: counts(info)[0] == 100, 60, "messages sent after the restart")
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(10)
    assert counts(info) == (100, 100, 100)
