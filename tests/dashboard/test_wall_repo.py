"""What the wall reads (geodata.wall_repo) and the figures it draws, against a real PostGIS."""

from __future__ import annotations

from datetime import datetime, timezone

import psycopg
import pytest

from dashboard.data import day_start
from dashboard.pages.wall import charts, layers
from geodata import wall_repo
from tests.dashboard import griddata

ALL = {"scope_street": None, "scope_community": None}


@pytest.fixture
def grid_db(db_url):
    """A fresh database with the small test grid (two high-priority camera alarms among its cases)."""
    ids = griddata.seed(db_url)
    with psycopg.connect(db_url) as conn:
        yield conn, ids


def test_alarms_come_newest_first_with_their_total_and_acknowledging_silences_them_once(grid_db):
    conn, ids = grid_db
    rows, total = wall_repo.alarms(conn, ALL, limit=1)
    assert total == 2 and len(rows) == 1
    assert rows[0]["id"] == str(ids["alarm"])  # 3 minutes old, the verification event 5: newest first
    assert wall_repo.acknowledge_alarms(conn, [ids["alarm"], ids["alarm"]], "disp1", "dispatcher") == [str(ids["alarm"])]
    assert wall_repo.acknowledge_alarms(conn, [ids["alarm"]], "disp2", "dispatcher") == []  # once only
    rows, total = wall_repo.alarms(conn, ALL, limit=20)
    assert total == 1 and [r["id"] for r in rows] == [str(ids["verification"])]
    acks = conn.execute("SELECT actor, data->>'role' FROM audit_log WHERE action = 'alarm_ack' AND target = %s",
                        (str(ids["alarm"]),)).fetchall()
    assert acks == [("disp1", "dispatcher")]
    # a scope holding no alarm sees none
    assert wall_repo.alarms(conn, {"scope_street": "440310002", "scope_community": None}) == ([], 0)


def test_hourly_and_clusters_count_every_case_once(grid_db):
    conn, _ = grid_db
    start = day_start("Asia/Shanghai")
    hourly = wall_repo.hourly(conn, ALL, start)
    today = conn.execute("SELECT count(*) FROM incident WHERE created_at >= %s", (start,)).fetchone()[0]
    week = conn.execute("SELECT count(*) FROM incident WHERE created_at >= %s - interval '7 days' AND created_at < %s",
                        (start, start)).fetchone()[0]
    assert sum(r["today"] for r in hourly) == today
    assert sum(r["usual"] for r in hourly) == pytest.approx(week / 7)
    open_n, overdue_n = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE status <> 'resolved' AND (overdue_at IS NOT NULL OR due_at < now())) "
        "FROM incident WHERE status NOT IN ('closed', 'cancelled')").fetchone()
    assert wall_repo.open_count(conn, ALL) == open_n
    sizes = []
    for cell in (layers.BASE_CELL_DEG, layers.cluster_cell(40_000)):
        rollup = wall_repo.open_rollup(conn, ALL, cell)
        assert rollup["open"] == open_n and rollup["overdue"] == overdue_n
        assert sum(rollup["sub_grids"].values()) == open_n == sum(n for n, _ in rollup["streets"].values())
        assert sum(o for _, o in rollup["streets"].values()) == overdue_n
        cl = wall_repo.merge_cells(rollup["cells"], 1, 300)
        assert sum(r["n"] for r in cl) == open_n and sum(r["overdue"] for r in cl) == overdue_n
        sizes.append(len(cl))
    assert sizes[1] <= sizes[0]


def test_an_area_with_no_open_case_reads_zeros(grid_db, db_url):
    conn, _ = grid_db
    # A street with no case at all (a supervisor's quiet street), then a district whose cases are all closed.
    empty = {"scope_street": "440310099", "scope_community": None}
    assert wall_repo.open_count(conn, empty) == 0
    assert wall_repo.open_rollup(conn, empty, 0.01) == {"open": 0, "overdue": 0, "sub_grids": {}, "streets": {},
                                                        "cells": []}
    conn.execute("UPDATE incident SET status = 'closed', closed_at = now()")
    rollup = wall_repo.open_rollup(conn, ALL, 0.01)
    assert (rollup["open"], rollup["overdue"], rollup["cells"]) == (0, 0, [])


def test_merged_cells_keep_the_commonest_family_the_top_priority_and_the_mean_position():
    cells = [  # two base cells of one 2x2 block, and one of the next block
        {"cx": 10, "cy": 20, "family": "crime", "n": 1, "overdue": 1, "priority": 1, "sx": 1.0, "sy": 2.0},
        {"cx": 11, "cy": 21, "family": "hazard", "n": 2, "overdue": 0, "priority": 2, "sx": 2.2, "sy": 4.2},
        {"cx": 12, "cy": 20, "family": "dispute", "n": 1, "overdue": 0, "priority": 3, "sx": 1.2, "sy": 2.0},
    ]
    big, small = wall_repo.merge_cells(cells, 2, 300)
    assert big == {"n": 3, "priority": 1, "family": "hazard", "overdue": 1, "lon": 1.066667, "lat": 2.066667}
    assert small["n"] == 1 and small["family"] == "dispute" and small["lon"] == 1.2
    assert len(wall_repo.merge_cells(cells, 1, 300)) == 3 and len(wall_repo.merge_cells(cells, 1, 2)) == 2
    # a tie goes to the first family by name, as SQL's mode() would
    tie = wall_repo.merge_cells([{**cells[0], "family": "hazard"}, {**cells[0], "family": "crime"}], 1, 300)
    assert tie[0]["family"] == "crime" and tie[0]["n"] == 2


@pytest.mark.parametrize("open_count,cell", [
    (0, 0.004), (300, 0.004), (1200, 0.008), (40_000, 0.02), (10**6, 0.02),
])
def test_a_storm_widens_the_cluster_cells_up_to_a_cap(open_count, cell):
    assert layers.cluster_cell(open_count) == pytest.approx(cell)


def test_the_charts_show_today_so_far_the_usual_day_and_the_target():
    rows = [{"family": "crime", "hour": 3, "today": 4, "usual": 1.5}, {"family": "hazard", "hour": 9, "today": 2, "usual": 0.5}]
    fig = charts.hourly(rows, "zh", now_hour=5)
    bars = [d for d in fig["data"] if d["type"] == "bar"]
    lines = [d for d in fig["data"] if d["type"] == "scatter"]
    assert len(bars) == len(lines) == 4 and all(len(b["x"]) == 6 for b in bars)  # hours 0..5: no future bars
    assert bars[0]["y"][3] == 4 and lines[0]["y"][3] == 1.5 and lines[2]["y"][9] == 0.5
    cams = charts.cameras([{"code": "a", "name": "坪山街道", "rate": 0.995, "cameras": 3},
                           {"code": "b", "name": "坑梓街道", "rate": 0.9, "cameras": 2}], "zh")
    bar = cams["data"][0]
    assert bar["y"] == ["坑梓", "坪山"] and bar["marker"]["color"] == ["#ff4d4f", "#52c41a"]
    assert cams["layout"]["shapes"][0]["x0"] == pytest.approx(98.0)
    day = datetime(2026, 1, 2, tzinfo=timezone.utc).date()
    ontime = charts.on_time([{"day": day, "closed": 4, "on_time": 3}], "en")
    assert ontime["data"][0]["y"] == [75.0] and "75.0%" in ontime["layout"]["annotations"][0]["text"]
