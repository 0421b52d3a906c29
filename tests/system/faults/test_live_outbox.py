"""The kill -9 window the process tests hit only by chance, made certain: a worker that committed a batch
and died before publishing it. The next start publishes its live messages, once."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timezone

import psycopg
import redis

from geodata import db, live_outbox
from geodata.bus import INGEST_GROUP, LiveIncident, stream
from tests.system.faults.harness import LiveFeed, lattice_messages, push
from workers.ingest import IngestConfig, Ingestor, IngestWorker


def test_a_batch_committed_by_a_killed_ingest_is_published_once_by_the_next_start(small_grid_url, redis_url):
    client = redis.Redis.from_url(redis_url)
    messages = lattice_messages(30, per_place=3)
    push(client, messages)
    stream.ensure_group(client)
    with LiveFeed(redis_url) as live:
        # The dead worker: read, processed and committed, then killed before acknowledging and publishing.
        with db.connect(small_grid_url, autocommit=True) as conn:
            entries = stream.read_new(client, "dead", 100, 10)
            outcome, rejected = Ingestor(conn).process(entries)
        assert (outcome.created, outcome.merged, rejected) == (10, 20, [])
        IngestWorker(small_grid_url, redis_url, IngestConfig(block_ms=50, claim_idle_ms=0, claim_every_s=0),
                     consumer="next").run(max_idle_s=1.0)
        live.settle(30)
    with psycopg.connect(small_grid_url) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT event_id) FROM incident_report").fetchone() == (30, 30)
        assert conn.execute("SELECT count(*) FROM live_outbox").fetchone() == (0,)
        ours = {r[0] for r in conn.execute("SELECT id FROM incident")}
    assert client.xpending(stream.INCIDENT_STREAM, INGEST_GROUP)["pending"] == 0
    # Pub/sub is shared by every database of the server: only this test's cases count.
    seen = Counter((m.id, m.action, m.report_count) for m in live.incidents() if m.id in ours)
    assert len(seen) == 30 and set(seen.values()) == {1}, seen
    assert Counter(a for _, a, _ in seen) == {"create": 10, "merge": 20}
    # Each report named once by its own event_id, merges included (not only by its case's id).
    named = Counter(str(m.event_id) for m in live.incidents() if m.id in ours)
    assert named == {m["event_id"]: 1 for m in messages}


def test_a_row_published_just_before_a_crash_is_not_published_again(small_grid_url, redis_url):
    client = redis.Redis.from_url(redis_url)
    live_msgs = [LiveIncident(at=datetime.now(timezone.utc), id=uuid.uuid4(), action="create", status="reported",
                              matter_code="DSP-NEIGHBOR", priority=2, lon=114.31, lat=22.71) for _ in range(3)]
    with LiveFeed(redis_url) as live, db.connect(small_grid_url) as conn:
        with conn.transaction():
            staged = live_outbox.stage(conn, live_msgs)
        assert live_outbox.deliver(conn, client, [staged]) == 3
        # Published, and then the worker died before deleting the row: it is still there at the next start.
        with conn.transaction():
            conn.execute("INSERT INTO live_outbox (id, key, payloads) VALUES (%s, %s, %s)",
                         (staged.id, staged.key, staged.payloads))
        assert live_outbox.deliver_left(conn, client) == 0
        assert conn.execute("SELECT count(*) AS n FROM live_outbox").fetchone()["n"] == 0
        # A second copy would have been published before deliver_left returned: a few seconds of
        # listening for a 4th message is enough, and the count below judges.
        live.settle(4, timeout=3)
    ids = {m.id for m in live_msgs}
    assert Counter(m.id for m in live.incidents() if m.id in ids) == {i: 1 for i in ids}
