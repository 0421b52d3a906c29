"""Cameras: the list by health, a selected camera's zones, the zone editor's validation and save."""

from __future__ import annotations

import json

import psycopg
import pytest

from tests.dashboard.conftest import login, shot


@pytest.mark.browser
def test_maintenance_edits_zones(browser, server, dash_db):
    ctx, page = login(browser, server, "maintenance")
    page.wait_for_selector("#cameras-list-table tbody tr", timeout=15_000)
    first = page.inner_text("#cameras-list-table tbody tr >> nth=0")
    assert "CAM003" in first  # offline cameras come first
    page.locator("#cameras-list-table tbody tr").filter(has_text="CAM001").click()
    page.wait_for_function("document.getElementById('cameras-zones').value.includes('gate')", timeout=10_000)
    # A bad polygon is refused with the video config's reason.
    page.fill("#cameras-zone-name", "bad")
    page.fill("#cameras-draw-points", "[[0.1, 0.1], [0.2, 0.2]]")
    page.click("#cameras-zone-save")
    page.wait_for_function("document.getElementById('cameras-msg').textContent.includes('区域格式错误')",
                           timeout=10_000)
    # Three clicks on the snapshot area draw a triangle; saving stores it on the camera.
    page.fill("#cameras-draw-points", "")
    page.fill("#cameras-zone-name", "door")
    box = page.locator("#cameras-snapshot-box").bounding_box()
    for fx, fy in ((0.2, 0.2), (0.8, 0.2), (0.5, 0.8)):
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    page.wait_for_function("JSON.parse(document.getElementById('cameras-draw-points').value || '[]').length === 3",
                           timeout=5_000)
    page.click("#cameras-zone-save")
    page.wait_for_function("document.getElementById('cameras-msg').textContent.includes('区域已保存')",
                           timeout=10_000)
    shot(page, "cameras-1920x1080")
    ctx.close()
    with psycopg.connect(dash_db[0]) as conn:
        zones = conn.execute("SELECT config->'zones' FROM camera WHERE code = 'CAM001'").fetchone()[0]
        audit = conn.execute("SELECT actor FROM audit_log WHERE action = 'camera_zones' AND target = 'CAM001'").fetchone()
    assert [z["name"] for z in zones] == ["gate", "door"]
    assert zones[1]["rules"][0]["kind"] == "intrusion"
    assert len(zones[1]["polygon"]) == 3
    assert audit == ("maint1",)
    assert json.dumps(zones)  # stored as plain JSON


@pytest.mark.browser
def test_dispatcher_sees_cameras_read_only_zones(browser, server):
    ctx, page = login(browser, server, "dispatcher", size=(1366, 768))
    page.goto(server.base + "/cameras")
    page.wait_for_selector("#cameras-list-table tbody tr", timeout=15_000)
    assert page.is_disabled("#cameras-zone-save")
    shot(page, "cameras-1366x768")
    ctx.close()


@pytest.mark.browser
def test_login_page(browser, server):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.goto(server.base + "/wall")
    assert "/login" in page.url
    assert page.inner_text("#login-submit") == "登录"
    shot(page, "login-1280x800")
    page.click("text=English")
    assert page.inner_text("#login-submit") == "Log in"
    ctx.close()
