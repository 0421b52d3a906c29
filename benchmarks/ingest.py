"""Ingest throughput and delay, through the whole path: XADD -> located, routed, committed, published.

1. Reference: plain XREADGROUP + XACK of the same number of messages (no processing).
2. Delay in the steady state: a steady 1,000 messages/s to running workers; p50 / p99 from XADD to
   the pub/sub message (goal p99 <= 250 ms).
3. Sustained: N valid incidents pushed at once, `--workers` real `gridwatch worker ingest` processes
   drain them; incidents/s is printed as a ratio against the reference (goal: at least 5,000/s).
4. Delay right after the burst, while the database digests it (autovacuum, checkpoint): printed too.
Lost and duplicated incidents are counted in the database and on the live channel (both must be 0).

Runs in a scratch database (the Pingshan demo grid, seeded) and Redis database 14 on the configured
servers (GRIDWATCH_DATABASE_URL / _REDIS_URL or the private services).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import orjson
import psycopg
import redis
import shapely

from geodata import db, migrate
from geodata.demo import seed_demo
from geodata.bus import INCIDENT_STREAM, INGEST_GROUP, LIVE_CHANNEL
from geodata.settings import load

BENCH_REDIS_DB = 14


def scratch_database(server_url: str) -> tuple[str, str]:
    """A new database with the demo grid (and its 20,000 past incidents) seeded."""
    info = psycopg.conninfo.conninfo_to_dict(server_url)
    name = f"gw_bench_ingest_{uuid.uuid4().hex[:8]}"
    admin = psycopg.conninfo.make_conninfo(**{**info, "dbname": "postgres"})
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(**{**info, "dbname": name})
    with db.connect(url) as conn:
        migrate.migrate(conn)
        seed_demo(conn, Path(tempfile.mkdtemp()), progress=False)
    # Settle it as a running system's database would be: a bulk load is followed by autovacuum and a
    # checkpoint, which otherwise land in the steady-state delay run and measure the seeder instead.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            print("(no CHECKPOINT: the database user is not allowed to)", file=sys.stderr)
    return url, admin


def drop_database(admin: str, url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))


def positions(url: str, n: int, spacing_m: float = 60.0) -> np.ndarray:
    """Points inside the district at least spacing_m apart (a lattice), so none merges by place."""
    with psycopg.connect(url) as conn:
        wkb = conn.execute("SELECT ST_AsBinary(geom) FROM district").fetchone()[0]
    district = shapely.from_wkb(bytes(wkb))
    minx, miny, maxx, maxy = district.bounds
    dlat = spacing_m / 111_320.0
    dlon = spacing_m / (111_320.0 * np.cos(np.radians((miny + maxy) / 2)))
    gx, gy = np.meshgrid(np.arange(minx, maxx, dlon), np.arange(miny, maxy, dlat))
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(district, gx, gy)
    pts = np.column_stack([gx[inside], gy[inside]])
    if len(pts) < n:
        return pts
    return pts[np.random.default_rng(1).choice(len(pts), n, replace=False)]


def messages(pts: np.ndarray, n: int, matters: list[str], start: datetime) -> list[dict]:
    """n messages; beyond the lattice's size, later copies are observed hours apart (no time merge)."""
    out = []
    for k in range(n):
        lon, lat = pts[k % len(pts)]
        observed = start + timedelta(hours=2 * (k // len(pts)))
        out.append({"v": 1, "event_id": str(uuid.uuid4()), "source": "appeal", "matter": matters[k % len(matters)],
                    "lon": float(lon), "lat": float(lat), "observed_at": observed.isoformat(),
                    "description": "benchmark"})
    return out


def push(client: redis.Redis, batch: list[dict], stream: str = INCIDENT_STREAM) -> None:
    with client.pipeline(transaction=False) as pipe:
        for i, m in enumerate(batch):
            pipe.xadd(stream, {"data": json.dumps(m)})
            if i % 2000 == 1999:
                pipe.execute()
        pipe.execute()


def reference(client: redis.Redis, batch: list[dict]) -> float:
    """Plain XREADGROUP + XACK of the same messages: reads per second."""
    stream = "gridwatch:bench:reference"
    client.delete(stream)
    push(client, batch, stream)
    client.xgroup_create(stream, "ref", id="0")
    done = 0
    t0 = time.perf_counter()
    while done < len(batch):
        reply = client.xreadgroup("ref", "r1", {stream: ">"}, count=500)
        ids = [entry_id for _, items in reply for entry_id, _ in items]
        client.xack(stream, "ref", *ids)
        done += len(ids)
    elapsed = time.perf_counter() - t0
    client.delete(stream)
    return len(batch) / elapsed


class LiveCounter(threading.Thread):
    """Counts created incidents on the live channel and records when each arrived."""

    def __init__(self, redis_url: str):
        super().__init__(daemon=True)
        self.client = redis.Redis.from_url(redis_url)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(LIVE_CHANNEL)
        self.arrived: dict[str, float] = {}
        self.duplicates = 0
        self.stop = False

    def run(self):
        while not self.stop:
            m = self.pubsub.get_message(timeout=0.2)
            if not m:
                continue
            payload = orjson.loads(m["data"])  # the subscriber shares the 2 cores: parse cheaply
            if payload.get("type") != "incident" or payload.get("action") != "create":
                continue
            if payload["id"] in self.arrived:
                self.duplicates += 1
            else:
                self.arrived[payload["id"]] = time.time()


def start_worker(database_url: str, redis_url: str) -> subprocess.Popen:
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": database_url, "GRIDWATCH_REDIS_URL": redis_url}
    return subprocess.Popen([sys.executable, "-m", "workers.cli", "worker", "ingest"], env=env,
                            stderr=None)  # its start, stop and warnings go to ours


def _group(client: redis.Redis) -> dict | None:
    try:
        return next((g for g in client.xinfo_groups(INCIDENT_STREAM)
                     if g["name"] in (INGEST_GROUP, INGEST_GROUP.encode())), None)
    except redis.ResponseError:
        return None


def drained_group(client: redis.Redis) -> bool:
    """True when the ingest group has no unread and no unacknowledged entries."""
    group = _group(client)
    return group is not None and group["lag"] == 0 and group["pending"] == 0


def start_workers(url: str, redis_url: str, n: int, client: redis.Redis, counter: LiveCounter,
                  probe: dict) -> list[subprocess.Popen]:
    """Start n workers and wait until they publish a first message (start-up and index build over)."""
    workers = [start_worker(url, redis_url) for _ in range(n)]
    client.xadd(INCIDENT_STREAM, {"data": json.dumps(probe)})
    deadline = time.monotonic() + 120
    while probe["event_id"] not in counter.arrived and time.monotonic() < deadline:
        time.sleep(0.01)
    return workers


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(20)


@dataclass
class Steady:
    sent: dict[str, float]
    delays: np.ndarray
    found: int
    dup: int


def steady_delays(client: redis.Redis, counter: LiveCounter, url: str, batch: list[dict], rate: int) -> Steady:
    """XADD at a steady rate; the delay of each from XADD to its live message."""
    sent: dict[str, float] = {}
    period = 1.0 / rate
    t_start = time.perf_counter()
    for k, m in enumerate(batch):
        delay = t_start + k * period - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent[m["event_id"]] = time.time()
        client.xadd(INCIDENT_STREAM, {"data": json.dumps(m)})
    deadline = time.monotonic() + 30
    while any(i not in counter.arrived for i in sent) and time.monotonic() < deadline:
        time.sleep(0.05)
    delays = np.array([(counter.arrived[i] - t) * 1000 for i, t in sent.items() if i in counter.arrived])
    found, dup = db_counts(url, list(sent))
    return Steady(sent, delays, found, dup)


def entries_read(client: redis.Redis) -> int:
    """How many entries the ingest group has read so far."""
    group = _group(client)
    return (group.get("entries-read") or 0) if group is not None else 0


def db_counts(url: str, ids: list[str]) -> tuple[int, int]:
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT count(*) FROM incident_report WHERE event_id = ANY(%s::uuid[])", (ids,)).fetchone()[0]
        dup = conn.execute(
            "SELECT count(*) FROM (SELECT event_id FROM incident_report WHERE event_id = ANY(%s::uuid[]) "
            "GROUP BY event_id HAVING count(*) > 1) d", (ids,)).fetchone()[0]
    return found, dup


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--rate", type=int, default=1000, help="messages/s in the delay run")
    ap.add_argument("--rate-seconds", type=int, default=30)
    ap.add_argument("--workers", type=int, default=1, help="ingest worker processes sharing the group")
    args = ap.parse_args()

    settings = load().resolved()
    base_redis = settings.require_redis().rsplit("/", 1)[0]
    redis_url = f"{base_redis}/{BENCH_REDIS_DB}"
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    print("seeding a scratch database with the Pingshan demo ...", file=sys.stderr)
    url, admin = scratch_database(settings.require_database())
    try:
        with psycopg.connect(url) as conn:
            matters = [r[0] for r in conn.execute("SELECT code FROM matter WHERE family <> 'maintenance' ORDER BY code")]
        pts = positions(url, args.count)
        start = datetime.now(timezone(timedelta(hours=8)))
        batch = messages(pts, args.count, matters, start)
        ref_rate = reference(client, batch)

        counter = LiveCounter(redis_url)
        counter.start()
        # The warm-up message is observed days before the others: it merges with none of them.
        warm_up = messages(pts[:1], 1, matters, start - timedelta(days=3))[0]
        workers = start_workers(url, redis_url, args.workers, client, counter, warm_up)
        try:
            # Delay at a steady rate, in the steady state: the demo's grid and history, workers up.
            steady = messages(pts[::-1], args.rate * args.rate_seconds, matters, start + timedelta(days=1))
            before = steady_delays(client, counter, url, steady, args.rate)
            stop_workers(workers)

            # Sustained: everything is queued before the workers start, then they drain the stream.
            push(client, batch)
            read_so_far = entries_read(client)
            workers = [start_worker(url, redis_url) for _ in range(args.workers)]
            deadline = time.monotonic() + 120
            while entries_read(client) == read_so_far and time.monotonic() < deadline:
                time.sleep(0.005)
            t0 = time.perf_counter()
            # Drained when the group has read everything and acknowledged it (acks follow commits);
            # a pub/sub reader in this process could not keep up with 100,000 messages at full speed.
            deadline = time.monotonic() + 900
            while not drained_group(client) and time.monotonic() < deadline:
                time.sleep(0.02)
            drained = time.perf_counter() - t0
            found, dup = db_counts(url, [m["event_id"] for m in batch])
            rate = found / drained

            # The same steady rate right after the burst, while the database digests it (autovacuum).
            after_msgs = messages(pts, args.rate * args.rate_seconds, matters, start + timedelta(days=2))
            after = steady_delays(client, counter, url, after_msgs, args.rate)
        finally:
            stop_workers(workers)
            counter.stop = True
        pending = client.xpending(INCIDENT_STREAM, INGEST_GROUP)["pending"]
    finally:
        drop_database(admin, url)
        client.flushdb()

    lost = (args.count - found) + (len(before.sent) - before.found) + (len(after.sent) - after.found)
    duplicated = dup + before.dup + after.dup
    print(f"ingest: {rate / ref_rate:.3f}x plain XREADGROUP+XACK ({rate:,.0f} vs {ref_rate:,.0f} messages/s); "
          f"goal >= 5,000 incidents/s")
    print(f"  sustained: {args.count:,} incidents located, routed, committed and published in {drained:.1f} s "
          f"= {rate:,.0f} incidents/s with {args.workers} ingest worker(s), from the first batch read")
    for label, d in (("steady state", before), ("right after the burst", after)):
        print(f"  delay at {args.rate}/s for {args.rate_seconds} s, {label}: p50 {np.percentile(d.delays, 50):.0f} ms, "
              f"p99 {np.percentile(d.delays, 99):.0f} ms, max {d.delays.max():.0f} ms (goal p99 <= 250 ms)")
    print(f"  lost {lost}, duplicated {duplicated} (in the database), left pending {pending}; "
          f"repeated live messages {counter.duplicates}")
    return 0 if lost == 0 and duplicated == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
