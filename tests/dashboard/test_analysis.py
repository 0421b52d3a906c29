"""Analysis on the wall and the console: hot-spot layer after a run, live refresh, make-case, scopes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
import redis as redis_lib

from dashboard.access import SessionUser
from dashboard.analysis_view import CLASS_COLOURS, open_warnings
from geodata import analysis_repo, db
from tests.dashboard import griddata
from tests.dashboard.conftest import login, shot, wait_wall_live
from geodata.warning_cases import warning_message
from workers.analysis import Analyzer, publish
from geodata.bus import DATA_FIELD, INCIDENT_STREAM, publish_live
from geodata.bus.messages import parse_incident

# A planted hot area in 和平社区 (street 440310001): neighbour disputes a few metres apart, last 6 days.
HOT_LON, HOT_LAT = 114.3155, 22.7155
HOT_BASE = ("440310001002001", "44031000100201")


@pytest.fixture(scope="module")
def analysed(dash_db, dash_redis):
    """The test grid with a planted cluster, one analysis run stored and announced on the live channel."""
    url = dash_db[0]
    now = datetime.now(timezone.utc)
    with psycopg.connect(url) as conn:
        for k in range(24):
            # Closed on time: the cluster must not change the open queues other tests read.
            griddata._incident(conn, uuid.uuid4(), griddata.MATTERS[2], "closed", HOT_LON + 0.00005 * (k % 5),
                               HOT_LAT + 0.00005 * (k // 5), HOT_BASE, "440310001002", "440310001", "W003",
                               now - timedelta(hours=5 * k + 2), queue="worker", source="grid_worker")
        conn.commit()
    rds = redis_lib.Redis.from_url(dash_redis)
    with db.connect(url, autocommit=True) as conn:
        result = Analyzer().refresh(conn)
        publish(rds, result)
        warnings = analysis_repo.warnings(conn, "open")
    yield {"run": result, "warnings": warnings}
    rds.close()


def test_warnings_are_kept_to_the_supervisors_area(dash_db, analysed):
    repeat = [w for w in analysed["warnings"] if w["kind"] == "repeat"]
    assert repeat, analysed["warnings"]  # the planted cluster repeats one matter at one place
    with db.connect(dash_db[0]) as conn:
        own = open_warnings(conn, SessionUser("sup1", "supervisor", "440310001"))
        other = open_warnings(conn, SessionUser("sup2", "supervisor", "440310002"))
    assert repeat[0]["id"] in {w["id"] for w in own}
    assert repeat[0]["id"] not in {w["id"] for w in other}
    assert all(w["street_code"] == "440310002" for w in other if w["street_code"])


@pytest.mark.browser
def test_wall_shows_hot_spots_and_refreshes_on_a_live_message(browser, server, dash_db, dash_redis, analysed):
    ctx, page = login(browser, server, "wall")
    wait_wall_live(page, 15_000)
    # The planted area comes out hot at 99 %: its squares are filled with that class's colour.
    page.wait_for_function(f"document.querySelectorAll('#wall-map path[fill=\"{CLASS_COLOURS['hot_99']}\"]')"
                           ".length > 0", timeout=15_000)
    legend = page.inner_text("#wall-legend")
    title = page.inner_text("#wall-analysis-title")
    page.wait_for_selector("#wall-warning-list li[data-kind]", timeout=10_000)
    shot(page, "wall-analysis-1920x1080")
    # Not the repeat warning: the console test turns that one into a case.
    ids = page.eval_on_selector_all("#wall-warning-list li[data-warning-id]:not([data-kind=repeat])",
                                    "els => els.map(e => e.getAttribute('data-warning-id'))")
    gone = int(ids[0])
    # Dismissed elsewhere and announced: the wall redraws its list from the live message, not its timer.
    with db.connect(dash_db[0]) as conn, conn.transaction():
        assert analysis_repo.dismiss_warning(conn, gone, "test", datetime.now(timezone.utc))
        row = next(w for w in analysed["warnings"] if w["id"] == gone)
    rds = redis_lib.Redis.from_url(dash_redis)
    publish_live(rds, [warning_message({**row, "status": "dismissed"})])
    rds.close()
    page.wait_for_function(f"!document.querySelector('#wall-warning-list li[data-warning-id=\"{gone}\"]')",
                           timeout=5_000)
    red_black = page.inner_text("#wall-redblack")
    ctx.close()
    assert "热点 99%" in legend
    assert "近 30 天" in title and "分析于" in title
    assert "红榜" in red_black and "黑榜" in red_black


@pytest.mark.browser
def test_console_turns_a_warning_into_a_case(browser, server, dash_db, dash_redis, analysed):
    rds = redis_lib.Redis.from_url(dash_redis)
    ctx, page = login(browser, server, "dispatcher")
    page.click("#console-tab-analysis")  # the console keeps its analysis panel behind a tab
    item = page.locator("#console-warning-list li[data-kind=repeat]").first
    item.wait_for(timeout=15_000)
    wid = int(item.get_attribute("data-warning-id"))
    item.get_by_role("button", name="转为案件").click()
    page.wait_for_function("document.getElementById('console-warning-msg').textContent.includes('已转为案件')",
                           timeout=10_000)
    page.wait_for_function(f"!document.querySelector('#console-warning-list li[data-warning-id=\"{wid}\"]')",
                           timeout=10_000)
    shot(page, "console-analysis-1920x1080")
    ctx.close()
    # Other tests put tablet reports on the same stream: pick the entries of this warning.
    msgs = [parse_incident(f[DATA_FIELD.encode()]) for _, f in rds.xrange(INCIDENT_STREAM)]
    rds.close()
    mine = [m for m in msgs if m.source == "analysis" and m.attributes.get("warning_id") == wid]
    assert len(mine) == 1  # one click, one case
    msg = mine[0]  # parse_incident is the ingest worker's own validation
    assert msg.reporter == "disp1" and msg.matter == "dispute_neighbour"
    with psycopg.connect(dash_db[0]) as conn:
        row = conn.execute("SELECT status, status_by, incident_id FROM early_warning WHERE id = %s", (wid,)).fetchone()
    assert row == ("case_made", "disp1", msg.event_id)


@pytest.mark.browser
def test_console_analysis_switches_family(browser, server, analysed):
    ctx, page = login(browser, server, "supervisor")
    page.click("#console-tab-analysis")  # the console keeps its analysis panel behind a tab
    page.wait_for_selector("#console-legend-items", timeout=15_000)
    page.click("#console-analysis-family")
    page.get_by_role("option", name="化解矛盾纠纷").first.click()
    page.wait_for_function(f"document.querySelectorAll('#console-map path[fill=\"{CLASS_COLOURS['hot_99']}\"]')"
                           ".length > 0", timeout=10_000)
    legend = page.inner_text("#console-legend")
    ctx.close()
    assert "热点 99%" in legend
