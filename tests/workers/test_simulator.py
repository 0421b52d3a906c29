"""The demo simulator reports through the bus and moves tasks through the transition function."""

import psycopg
import redis

from geodata.bus import INCIDENT_STREAM, LIVE_CHANNEL, parse_incident, parse_live
from workers.ingest import IngestConfig, IngestWorker
from workers.simulator import Simulator, SimulatorConfig


def test_simulated_reports_go_through_the_bus_and_tasks_advance(small_grid_url, redis_url):
    client = redis.Redis.from_url(redis_url)
    sim = Simulator(small_grid_url, redis_url, SimulatorConfig(seed=3))
    for _ in range(3):
        sim.report()
    entries = client.xrange(INCIDENT_STREAM)
    assert len(entries) == 3
    messages = [parse_incident(fields[b"data"]) for _, fields in entries]
    assert all(m.source == "grid_worker" and m.reporter in {"W001", "W002"} for m in messages)

    IngestWorker(small_grid_url, redis_url, IngestConfig(block_ms=50)).run(max_idle_s=0.3)
    with psycopg.connect(small_grid_url) as conn:
        created = conn.execute("SELECT count(*) FROM incident WHERE status = 'dispatched'").fetchone()[0]
    assert created >= 1
    assert sim.step() >= 1
    with psycopg.connect(small_grid_url) as conn:
        rows = conn.execute(
            "SELECT e.actor, i.worker_code FROM incident_event e JOIN incident i ON i.id = e.incident_id "
            "WHERE e.action = 'accept'").fetchall()
    # Each accept was made by the task's own worker, through the transition function's history.
    assert rows and all(actor == worker for actor, worker in rows)


def test_simulated_workers_move_and_say_so_on_the_live_channel(small_grid_url, redis_url):
    client = redis.Redis.from_url(redis_url)
    sub = client.pubsub(ignore_subscribe_messages=True)
    sub.subscribe(LIVE_CHANNEL)
    sub.get_message(timeout=0.5)
    sim = Simulator(small_grid_url, redis_url, SimulatorConfig(seed=5))
    sim.move()
    got = []
    for _ in range(20):
        m = sub.get_message(timeout=0.1)
        if m:
            got.append(parse_live(m["data"]))
    sub.close()
    # Pub/sub is server-wide in Redis: look only at this grid's workers.
    moved = {g.code for g in got if g.type == "worker" and g.code in {"W001", "W002", "W003"}}
    assert moved == {"W001", "W002"}
    with psycopg.connect(small_grid_url) as conn:
        assert conn.execute("SELECT count(*) FROM grid_worker WHERE last_geom IS NOT NULL").fetchone()[0] == 2
