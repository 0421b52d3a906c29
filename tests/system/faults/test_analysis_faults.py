"""The analysis worker killed with -9 in the middle of a refresh and restarted: the killed run leaves
nothing half-written, the restarted one recomputes the same results, and no warning is stored or
announced twice. And the window between a refresh's commit and its publish, made certain: the next
start publishes what the killed worker committed, once (the live outbox)."""

from __future__ import annotations

import signal
import time
from collections import Counter

import psycopg
import redis

from geodata import db
from geodata.bus import LiveAnalysis, LiveEarlyWarning
from tests.system.faults.harness import LiveFeed, reset, start_worker, stop, wait_for
from workers.analysis import REQUEST_KEY, AnalysisConfig, AnalysisWorker, Analyzer

# Three families over the last 30 days, with a cluster in the last week that raises warnings.
SEED = """
INSERT INTO incident (id, matter_code, source, status, level, priority, queue, geom, base_grid_code, sub_grid_code,
                      community_code, street_code, observed_at, last_report_at, created_at)
SELECT gen_random_uuid(), m, 'grid_worker', 'closed', 'grid', 2, 'worker', ST_SetSRID(ST_MakePoint(x, y), 4326),
       '440310001001001', '44031000100101', '440310001001', '440310001', t, t, t
FROM (SELECT (ARRAY['CRM-INTRUSION', 'DSP-NEIGHBOR', 'HAZ-FIRE'])[1 + g %% 3] AS m,
             114.301 + random() * 0.018 AS x, 22.701 + random() * 0.018 AS y,
             now() - random() * interval '30 days' AS t FROM generate_series(1, %(spread)s) g
      UNION ALL
      SELECT 'CRM-INTRUSION', 114.3052 + random() * 0.0003, 22.7052 + random() * 0.0003,
             now() - random() * interval '5 days' FROM generate_series(1, %(cluster)s)) s
"""


def runs(info) -> list[tuple]:
    """(id, finished, hot spot rows) of every stored run."""
    with psycopg.connect(info["database_url"]) as conn:
        return conn.execute("SELECT r.id, r.summary <> '{}'::jsonb, (SELECT count(*) FROM hotspot_cell h "
                            "WHERE h.run_id = r.id) FROM analysis_run r ORDER BY r.id").fetchall()


def results(info, run_id: int) -> Counter:
    """What a run found, without its run id: hot spot classes per lattice, family and window."""
    with psycopg.connect(info["database_url"]) as conn:
        return Counter(conn.execute("SELECT lattice, family, window_days, class FROM hotspot_cell WHERE run_id = %s",
                                    (run_id,)).fetchall())


def test_analysis_kill_9_mid_refresh_then_restart(own_services, tmp_path):
    services, info = own_services
    reset(info)
    with psycopg.connect(info["database_url"]) as conn:
        conn.execute("TRUNCATE analysis_run, early_warning CASCADE")
        conn.execute(SEED, {"spread": 4000, "cluster": 60})
    client = redis.Redis.from_url(info["redis_url"])
    log = tmp_path / "analysis.log"
    with LiveFeed(info["redis_url"]) as live:
        worker = start_worker(info, "analysis", "--interval", "3600", log=log)
        try:
            first = wait_for(lambda: [r for r in runs(info) if r[1]], 240, "the first refresh")[0]
            with psycopg.connect(info["database_url"]) as conn:
                took = conn.execute("SELECT seconds FROM analysis_run WHERE id = %s", (first[0],)).fetchone()[0]
            client.rpush(REQUEST_KEY, "{}")
            # The worker takes the request off the list when it starts the refresh.
            wait_for(lambda: client.llen(REQUEST_KEY) == 0, 120, "the second refresh to start")
            # Half way through a refresh as long as the first one.
            time.sleep(took / 2)
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            killed = time.monotonic()
        finally:
            stop(worker)
        after_kill = runs(info)
        worker = start_worker(info, "analysis", "--interval", "3600", log=log)
        try:
            wait_for(lambda: len([r for r in runs(info) if r[1]]) > len(after_kill), 240, "a refresh after the restart")
            recovered = time.monotonic() - killed
        finally:
            stop(worker)
        wait_for(lambda: sum(isinstance(m, LiveAnalysis) for m in live.messages) >= len(runs(info)), 30,
                 "the live feed", fail=False)
    stored = runs(info)
    with psycopg.connect(info["database_url"]) as conn:
        warnings = conn.execute("SELECT id, dedup_key FROM early_warning").fetchall()
    announced = Counter(m.id for m in live.messages if isinstance(m, LiveEarlyWarning))
    ready = Counter(m.run_id for m in live.messages if isinstance(m, LiveAnalysis))
    mid_run = len(after_kill) == 1
    print(f"\n[faults] analysis kill -9: first refresh {took:.1f} s, killed mid-run {mid_run}, runs stored "
          f"{len(stored)}, warnings {len(warnings)} (announced {sum(announced.values())}, twice "
          f"{sum(n - 1 for n in announced.values())}), recovery s {recovered:.1f}")
    # Nothing half-written: every stored run finished (a killed one rolled back whole).
    assert all(done for _, done, _ in stored), stored
    assert all(done for _, done, _ in after_kill), after_kill
    # The restarted worker recomputes the same picture from the same incidents.
    assert results(info, stored[-1][0]) == results(info, first[0])
    assert len({k for _, k in warnings}) == len(warnings) and warnings, warnings
    # Each warning announced once, each finished run announced once.
    assert all(n == 1 for n in announced.values()), announced
    assert set(announced) == {i for i, _ in warnings}
    assert sorted(ready) == [r[0] for r in stored] and all(n == 1 for n in ready.values()), (ready, stored)
    assert outbox_rows(info) == 0


def outbox_rows(info) -> int:
    with psycopg.connect(info["database_url"]) as conn:
        return conn.execute("SELECT count(*) FROM live_outbox").fetchone()[0]


def test_a_refresh_committed_by_a_killed_analysis_worker_is_published_once_by_the_next_start(own_services):
    services, info = own_services
    reset(info)
    with psycopg.connect(info["database_url"]) as conn:
        conn.execute("TRUNCATE analysis_run, early_warning CASCADE")
        conn.execute(SEED, {"spread": 800, "cluster": 30})
    with LiveFeed(info["redis_url"]) as live:
        # The dead worker: its refresh committed, with its messages in the outbox, and it died before
        # publishing them (a kill -9 there is a matter of luck; here it is certain).
        with db.connect(info["database_url"], autocommit=True) as conn:
            dead = Analyzer().refresh(conn, outbox=True)
        assert dead.new_warnings and outbox_rows(info) == 1
        assert AnalysisWorker(info["database_url"], info["redis_url"], AnalysisConfig(interval_s=3600)).run(once=True) == 1
        wait_for(lambda: len({m.run_id for m in live.messages if isinstance(m, LiveAnalysis)}) >= 2, 30,
                 "the ready messages of both runs")
        # A second copy would come right behind the first: a moment more is enough, the counts judge.
        time.sleep(1.0)
    with psycopg.connect(info["database_url"]) as conn:
        run_ids = [r[0] for r in conn.execute("SELECT id FROM analysis_run ORDER BY id")]
        warning_ids = {r[0] for r in conn.execute("SELECT id FROM early_warning")}
    ready = Counter(m.run_id for m in live.messages if isinstance(m, LiveAnalysis))
    announced = Counter(m.id for m in live.messages if isinstance(m, LiveEarlyWarning))
    print(f"\n[faults] analysis commit then kill: runs {run_ids}, ready messages {dict(ready)}, warnings "
          f"{len(warning_ids)} announced {sum(announced.values())}")
    # The killed run's ready message and its new warnings went out once, and so did the next run's.
    assert ready == {dead.run_id: 1, run_ids[-1]: 1} and run_ids[0] == dead.run_id, (ready, run_ids)
    assert {w["id"] for w in dead.new_warnings} <= set(announced), (dead.new_warnings, announced)
    assert set(announced) == warning_ids and set(announced.values()) == {1}, announced
    assert outbox_rows(info) == 0
