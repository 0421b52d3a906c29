"""The Pingshan demo data set, seeded into a real PostGIS database once for the module."""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import UTC, datetime

import numpy as np
import psycopg
import pytest
from argon2 import PasswordHasher
from psycopg import sql
from scipy import stats
from tqdm import tqdm

from geodata.demo import layout as layout_mod
from geodata.demo import seed as demo_seed
from geodata.demo import seed_demo
from geodata.demo.matters import MATTERS
from grid import lifecycle
from grid.camera_matters import RULE_MATTERS

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
SEED = 20240601


def _clone(admin_url: str, template: str) -> tuple[str, str]:
    name = f"gw_demo_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    info["dbname"] = name
    return name, psycopg.conninfo.make_conninfo(**info)


def _drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def seeded(admin_url, template_db, tmp_path_factory):
    """One database seeded with SEED at NOW. (Determinism is checked against a second run of the generator
    alone, not a second full seed: see test_same_seed_gives_the_same_data.)"""
    name, url = _clone(admin_url, template_db)
    try:
        home = tmp_path_factory.mktemp("home") / ".gridwatch"
        with psycopg.connect(url) as conn:
            summary = seed_demo(conn, home, seed=SEED, now=NOW, progress=False)
        yield [(url, summary, home)]
    finally:
        _drop(admin_url, name)


@pytest.fixture(scope="module")
def conn(seeded):
    with psycopg.connect(seeded[0][0]) as c:
        yield c


def one(conn, query, params=None):
    return conn.execute(query, params).fetchone()[0]


def test_counts_are_within_the_issue_ranges(conn, seeded):
    summary = seeded[0][1]
    assert summary.seeded  # how long it takes is benchmarks/ work, not a test's
    assert one(conn, "SELECT count(*) FROM street") == 6
    assert one(conn, "SELECT count(*) FROM community") == 24
    assert 1000 <= one(conn, "SELECT count(*) FROM base_grid") <= 1500
    per_comm = [r[0] for r in conn.execute("SELECT count(*) FROM sub_grid GROUP BY community_code")]
    assert len(per_comm) == 24 and min(per_comm) >= 3 and max(per_comm) <= 8
    assert 280 <= one(conn, "SELECT count(*) FROM grid_worker") <= 320
    assert 190 <= one(conn, "SELECT count(*) FROM camera") <= 210
    assert 19000 <= one(conn, "SELECT count(*) FROM incident") <= 21000
    families = {r[0]: r[1] for r in conn.execute("SELECT family, count(*) FROM matter GROUP BY 1")}
    assert sum(families.values()) >= 20 and set(families) == {"crime", "dispute", "hazard", "maintenance"}
    codes = {r[0] for r in conn.execute("SELECT code FROM matter")}
    assert set(RULE_MATTERS.values()) <= codes
    # Every sub-grid has a current primary and backup; every worker has a phone that is obviously fake.
    assert one(conn, "SELECT count(*) FROM sub_grid_assignment WHERE valid_to IS NULL AND role = 'primary'") == \
        one(conn, "SELECT count(*) FROM sub_grid")
    assert one(conn, "SELECT count(*) FROM grid_worker WHERE phone NOT LIKE '138-0000-%'") == 0


def test_camera_configs_have_the_normative_shape(conn):
    for code, config in conn.execute("SELECT code, config FROM camera"):
        assert config["code"] == code and code.startswith("PS-CAM-")
        assert config["url"].startswith("rtsp://127.0.0.1")
        assert set(config["health"]) == {"offline", "frozen", "covered", "blurred", "moved"}
        for zone in config["zones"]:
            assert all(0 <= v <= 1 for pt in zone["polygon"] for v in pt)
            assert all(r["matter"] == RULE_MATTERS[r["kind"]] for r in zone["rules"])


def test_grid_rules_hold(conn):
    outside = one(conn, """SELECT count(*) FROM base_grid b JOIN community c ON c.code = b.community_code
                           WHERE NOT ST_CoveredBy(b.geom, ST_Buffer(c.geom, 0.00001))""")
    overlaps = one(conn, """SELECT count(*) FROM base_grid a JOIN base_grid b
                            ON a.community_code = b.community_code AND a.code < b.code AND ST_Intersects(a.geom, b.geom)
                            WHERE ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 1.0""")
    assert (outside, overlaps) == (0, 0)
    assert one(conn, "SELECT count(*) FROM sub_grid WHERE geom IS NULL OR ST_IsEmpty(geom)") == 0
    assert one(conn, "SELECT count(*) FROM base_grid WHERE NOT ST_IsValid(geom) OR GeometryType(geom) <> 'MULTIPOLYGON'") == 0
    # Communities are tiled: the base grids cover their community's area.
    gap = one(conn, """SELECT max(abs(ST_Area(c.geom::geography) - s.a)) FROM community c
                       JOIN (SELECT community_code, sum(ST_Area(geom::geography)) AS a FROM base_grid GROUP BY 1) s
                       ON s.community_code = c.code""")
    assert gap < 1000.0


def test_district_area_and_bbox(conn):
    area = one(conn, "SELECT ST_Area(geom::geography) / 1e6 FROM district")
    assert 161 <= area <= 171
    xmin, ymin, xmax, ymax = conn.execute(
        "SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM district").fetchone()
    assert 114.26 <= xmin and xmax <= 114.45 and 22.61 <= ymin and ymax <= 22.79


def test_same_seed_gives_the_same_data(conn, seeded):
    """A second, independent run of the seeder's generator against what the module's seed_demo run wrote.

    All of the seed's randomness is drawn in `generate`, before any writing (the writer is COPY plus the
    camera health trigger), so this proves what a second full seed compared by digest did, for less than a
    third of its time: the manifest, every table's row count, and the rows of the tables the digest covered
    (base grids, incidents with their ids, cameras, the health log, the events' count), plus the accounts."""
    with tqdm(disable=True) as show:
        again = demo_seed.generate(SEED, 30, 20000, NOW.timestamp(), show)
    rows, summary = again["rows"], seeded[0][1]
    assert again["manifest"] == summary.manifest
    assert {t: len(r) for t, r in rows.items()} == summary.counts
    # The accounts are the same but for their hashes (each argon2 hash has its own random salt).
    assert conn.execute("SELECT username, role, scope_code, worker_code FROM app_user ORDER BY username").fetchall() \
        == sorted(r[:1] + r[2:] for r in rows["app_user"])
    # Geometries as the hex EWKB both sides write and read; instants as aware datetimes.
    assert conn.execute("SELECT code, sub_grid_code, geom::text FROM base_grid ORDER BY code").fetchall() == \
        sorted((r[0], r[2], r[4]) for r in rows["base_grid"])
    inc = rows["incident"]
    assert conn.execute("SELECT id, matter_code, status, geom::text, observed_at, closed_at FROM incident "
                        "ORDER BY id").fetchall() == sorted((r[0], r[1], r[3], r[7], r[18], r[25]) for r in inc)
    assert conn.execute("SELECT code, config, created_at FROM camera ORDER BY code").fetchall() == \
        sorted((r[0], json.loads(r[5]), r[6]) for r in rows["camera"])
    # The health history the trigger logged (after each camera's registration row) is the generated one.
    logged = conn.execute("SELECT camera_code, health_to, at, reason FROM camera_health_log "
                          "WHERE health_from IS NOT NULL ORDER BY camera_code, at, id").fetchall()
    assert logged == sorted(((code, health, at, reason) for reason, items in again["health_rounds"]
                             for code, health, at in items), key=lambda r: (r[0], r[2]))
    assert one(conn, "SELECT count(*) FROM incident_event") == len(rows["incident_event"])
    a = layout_mod.make_layout(np.random.default_rng(1))
    b = layout_mod.make_layout(np.random.default_rng(2))
    assert [g.wkb for g in a.base_geoms[:50]] != [g.wkb for g in b.base_geoms[:50]]


def test_hot_areas_are_at_least_three_times_the_background(conn, seeded):
    hot = seeded[0][1].manifest["hot_areas"]
    assert len(hot) == 3 and {h["family"] for h in hot} == {"crime", "dispute", "hazard"}
    all_hot = [b for h in hot for b in h["base_grids"]]
    # One pass over the incidents for all families: a subquery per base grid scanned the 20,000 incidents
    # 1,300 times per family (no full index on incident.base_grid_code, only a partial one for open cases).
    area = dict(conn.execute("SELECT code, ST_Area(geom::geography) / 1e6 FROM base_grid"))
    counts = {(code, fam): n for code, fam, n in conn.execute(
        """SELECT i.base_grid_code, m.family, count(*) FROM incident i JOIN matter m ON m.code = i.matter_code
           WHERE i.base_grid_code IS NOT NULL GROUP BY 1, 2""")}
    for h in hot:
        per_grid = {code: (a, counts.get((code, h["family"]), 0)) for code, a in area.items()}
        bg_n = sum(n for code, (a, n) in per_grid.items() if code not in all_hot)
        bg_a = sum(a for code, (a, n) in per_grid.items() if code not in all_hot)
        background = bg_n / bg_a
        hot_rate = sum(per_grid[c][1] for c in h["base_grids"]) / sum(per_grid[c][0] for c in h["base_grids"])
        assert hot_rate >= 3 * background, h
        assert all(per_grid[c][1] / per_grid[c][0] >= 2 * background for c in h["base_grids"])
        assert len(h["base_grids"]) >= 3 and h["community"] and h["sub_grids"]


def test_trend_rises_above_its_baseline(conn, seeded):
    trend = seeded[0][1].manifest["trend"]
    counts = [one(conn, """SELECT count(*) FROM incident WHERE matter_code = %s AND community_code = %s
                           AND observed_at >= %s AND observed_at < %s""",
                  (trend["matter"], trend["community"], w["start"], w["end"])) for w in trend["weeks"]]
    assert counts == trend["weekly_counts"]
    assert counts == sorted(counts) and counts[-1] >= 1.5 * np.mean(counts)
    # This week against the earlier weeks' mean: a Poisson test rejects "no change" clearly.
    assert stats.poisson.sf(counts[-1] - 1, np.mean(counts[:-1])) < 0.001


def test_day_night_and_weekly_rhythm_in_cst(conn):
    by_hour = dict(conn.execute(
        "SELECT extract(hour FROM observed_at AT TIME ZONE 'Asia/Shanghai')::int, count(*) FROM incident GROUP BY 1"))
    day = np.mean([by_hour[h] for h in range(9, 18)])
    night = np.mean([by_hour[h] for h in range(1, 6)])
    assert day >= 2 * night
    disputes = dict(conn.execute(
        """SELECT extract(isodow FROM observed_at AT TIME ZONE 'Asia/Shanghai') >= 6, count(*) / count(DISTINCT
                  date_trunc('day', observed_at AT TIME ZONE 'Asia/Shanghai'))::float
           FROM incident i JOIN matter m ON m.code = i.matter_code WHERE m.family = 'dispute' GROUP BY 1"""))
    assert disputes[True] > 1.15 * disputes[False]


def test_manifest_in_table_and_file(conn, seeded):
    summary, home = seeded[0][1], seeded[0][2]
    on_disk = json.loads((home / "demo-manifest.json").read_text(encoding="utf-8"))
    in_db = {k: v for k, v in conn.execute("SELECT key, data FROM demo_manifest")}
    assert on_disk == in_db["manifest"] == summary.manifest
    assert in_db["hot_areas"] == on_disk["hot_areas"] and in_db["trend"] == on_disk["trend"]
    for h in on_disk["hot_areas"]:
        assert {"base_grids", "sub_grids", "community", "family", "centre", "radius_m", "rate_factor"} <= set(h)


def test_camera_health_history_is_plausible_and_coherent(conn, seeded):
    story = seeded[0][1].manifest["camera_health"]
    assert len(story["dead"]) == 2 and len(story["long_outages"]) >= 10 and len(story["registered_late"]) == 3
    # Every row continues the camera's previous one, and camera.health is the last logged state.
    assert one(conn, """SELECT count(*) FROM (SELECT health_from, lag(health_to) OVER w AS prev FROM camera_health_log
                        WINDOW w AS (PARTITION BY camera_code ORDER BY at, id)) x
                        WHERE health_from IS DISTINCT FROM prev""") == 0
    assert one(conn, """SELECT count(*) FROM camera c JOIN LATERAL (
                            SELECT health_to, at FROM camera_health_log l WHERE l.camera_code = c.code
                            ORDER BY at DESC, id DESC LIMIT 1) last ON true
                        WHERE last.health_to <> c.health OR last.at <> c.health_at""") == 0
    cameras = one(conn, "SELECT count(*) FROM camera")
    assert one(conn, "SELECT count(DISTINCT camera_code) FROM camera_health_log") == cameras
    # Every camera starts unknown at its registration and is diagnosed within half an hour.
    assert one(conn, """SELECT count(*) FROM camera c WHERE (SELECT array_agg(health_to ORDER BY at, id)
                        FROM camera_health_log WHERE camera_code = c.code)[1:2] <> ARRAY['unknown', 'online']""") == 0
    # Quality problems carry the camera worker's reason; a return to online carries none.
    reasons = dict(conn.execute("""SELECT health_to, array_agg(DISTINCT coalesce(reason, '-')
                                                   ORDER BY coalesce(reason, '-'))
                                   FROM camera_health_log GROUP BY health_to""").fetchall())
    assert reasons == {"unknown": ["-"], "online": ["-"], "offline": ["offline"],
                       "degraded": ["blurred", "covered", "frozen", "moved"]}
    # The dead cameras are offline now and have been for days; most cameras are online now.
    for code in story["dead"]:
        health, since = conn.execute("SELECT health, health_at FROM camera WHERE code = %s", (code,)).fetchone()
        assert health == "offline" and (NOW - since).days >= 3
    assert one(conn, "SELECT count(*) FROM camera WHERE health = 'online'") >= 180
    assert 2000 <= one(conn, "SELECT count(*) FROM camera_health_log") <= 5000


def test_every_incident_has_a_report_and_a_consistent_history(conn):
    assert one(conn, """SELECT count(*) FROM incident i LEFT JOIN incident_report r ON r.event_id = i.id
                        AND r.incident_id = i.id WHERE r.id IS NULL""") == 0
    rows = conn.execute("""SELECT i.id, i.status, i.worker_code, i.closed_at IS NOT NULL,
                                  array_agg(e.action ORDER BY e.at, e.id), array_agg(e.from_status ORDER BY e.at, e.id),
                                  array_agg(e.to_status ORDER BY e.at, e.id)
                           FROM incident i JOIN incident_event e ON e.incident_id = i.id GROUP BY i.id""").fetchall()
    assert len(rows) == one(conn, "SELECT count(*) FROM incident")
    statuses = {}
    for _id, status, worker, closed, actions, froms, tos in rows:
        assert actions[0] == "report" and froms[0] is None and tos[0] == "reported"
        for k in range(1, len(actions)):
            t = lifecycle.transition(actions[k])
            assert froms[k] == tos[k - 1] and froms[k] in t.from_statuses and tos[k] == t.target(froms[k])
        assert tos[-1] == status and closed == (status in ("closed", "cancelled"))
        statuses[status] = statuses.get(status, 0) + 1
    assert statuses["closed"] > 0.8 * len(rows)
    assert statuses.get("cancelled", 0) > 0 and sum(statuses.get(s, 0) for s in ("dispatched", "accepted", "in_progress")) > 0
    assert one(conn, "SELECT count(*) FROM incident_event WHERE action = 'return'") > 0
    assert one(conn, "SELECT count(*) FROM incident WHERE level <> 'grid'") > 0
    assert one(conn, "SELECT count(*) FROM incident WHERE status = 'closed' AND NOT on_time") > 0
    assert one(conn, "SELECT count(*) FROM incident WHERE observed_at > %s", (NOW,)) == 0


def test_demo_accounts_and_refusal_to_reseed(conn, seeded):
    users = {r[0]: r[1:] for r in conn.execute("SELECT role, username, password_hash, scope_code, worker_code FROM app_user")}
    assert set(users) == {"dispatcher", "supervisor", "grid_worker", "maintenance", "wall", "admin"}
    assert PasswordHasher().verify(users["wall"][1], "wall-demo")
    assert users["supervisor"][2] in {r[0] for r in conn.execute("SELECT code FROM street")}
    assert users["grid_worker"][3] is not None
    again = seed_demo(conn, seeded[0][2], seed=SEED, now=NOW, progress=False)
    assert not again.seeded and "not seeded" in again.message


def test_cli_registers_seed_demo():
    from workers.cli import seed_cmd

    parser = argparse.ArgumentParser()
    seed_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["seed", "demo", "--seed", "7", "--incidents", "500"])
    assert (args.seed, args.days, args.incidents, args.func) == (7, 30, 500, seed_cmd.run)
    assert len(MATTERS) >= 20
