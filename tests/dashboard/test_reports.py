"""/reports: the period's indicators and red/black lists, the CSV and the printable report, by role and scope."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.pages.reports.data import last_week
from tests.dashboard.conftest import login, shot
from tests.dashboard.test_access import api_login
from tests.dashboard.test_reports_charts import PICKERS_READY, set_period


def _period() -> tuple[str, str]:
    # The seeded incidents are of the last few days (CST).
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return (today - timedelta(days=13)).isoformat(), today.isoformat()


def test_last_week_is_monday_to_sunday_in_cst():
    assert last_week("Asia/Shanghai", datetime(2026, 11, 28).date()) == ("2026-11-16", "2026-11-22")
    assert last_week("Asia/Shanghai", datetime(2026, 11, 23).date()) == ("2026-11-16", "2026-11-22")


@pytest.mark.browser
def test_reports_page_table_csv_and_print(browser, server):
    first, last = _period()
    ctx, page = login(browser, server, "dispatcher", path="/reports")
    page.wait_for_function(PICKERS_READY, timeout=30_000)
    default = (page.input_value("#reports-from"), page.input_value("#reports-to"))
    set_period(page, first, last)
    page.wait_for_function("document.getElementById('reports-indicators-table') && "
                           "document.getElementById('reports-indicators-table').textContent.includes('坪山街道')",
                           timeout=15_000)
    table = page.inner_text("#reports-indicators-table")
    ranking = page.inner_text("#reports-ranking")
    page.wait_for_selector("#reports-cameras-table", timeout=15_000)
    cameras = page.inner_text("#reports-cameras-table")
    shot(page, "reports-1920x1080")
    csv_href = page.get_attribute("#reports-csv", "href")
    print_href = page.get_attribute("#reports-print", "href")
    csv = ctx.request.get(server.base + csv_href)
    printed = ctx.request.get(server.base + print_href)
    csv_status, csv_type, body = csv.status, csv.headers["content-type"], csv.body().decode("utf-8")
    print_status, print_type, html = printed.status, printed.headers["content-type"], printed.text()
    ctx.close()
    assert default == last_week("Asia/Shanghai")
    for head in ("事件", "结案", "按期结案率", "平均分拨（分钟）", "平均接收（分钟）", "平均处置（分钟）", "退回", "升级"):
        assert head in table
    assert "坑梓街道" in table
    assert "红榜" in ranking and "黑榜" in ranking
    # Camera availability from the health log: the four test cameras were registered together today,
    # two online, one degraded, one offline, and have stayed so: 2/4 online, 3/4 available.
    assert "摄像机在线率" in table and "摄像机可用率" in table
    today = cameras.splitlines()[-1]
    assert today.startswith(last) and "\t4\t50.0%\t75.0%\t" in today, cameras
    assert csv_status == 200 and csv_type.startswith("text/csv")
    assert body.startswith("\ufeff") and "按期结案率" in body.splitlines()[0] and "坪山街道" in body
    assert "摄像机在线率" in body.splitlines()[0]
    assert print_status == 200 and print_type.startswith("text/html")
    assert "size: A4" in html and "<svg" in html and "坪山街道" in html  # the district report with its map


def test_supervisor_reports_stay_in_its_street(browser, server):
    first, last = _period()
    ctx = api_login(browser, server, "sup2")  # street 440310002 (坑梓街道)
    csv = ctx.request.get(server.base + f"/reports/csv?from={first}&to={last}&level=community")
    printed = ctx.request.get(server.base + f"/reports/print?from={first}&to={last}")
    bad = ctx.request.get(server.base + "/reports/csv?from=2026-02-10&to=2026-02-01&level=street")
    statuses = (csv.status, printed.status, bad.status)
    body, html = csv.body().decode("utf-8"), printed.text()
    ctx.close()
    assert statuses[:2] == (200, 200)
    assert "坑梓社区" in body and "六和社区" not in body and "和平社区" not in body
    assert "坑梓社区" in html and "六和社区" not in html
    assert "<th>按期结案率 (on-time rate)</th>" in html  # the catalogue's label, as on the screen
    assert statuses[2] == 400  # a reversed period is refused, not a server error
