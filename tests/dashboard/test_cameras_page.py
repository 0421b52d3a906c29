"""Cameras: the list by health, a selected camera's zones, the zone editor's validation and save, zones on the map."""

from __future__ import annotations

import json

import psycopg
import pytest

from geodata.cameras import save_cameras
from tests.dashboard.conftest import csrf_headers, login, shot
from video.config import parse_config

# CAM002 stands at (114.35, 22.70). Its gate zone's corners are its calibration points, so the zone
# on the map must have exactly the calibration positions as corners: a tilted view, the far edge wider.
GATE = [[0.1, 0.5], [0.5, 0.5], [0.5, 0.9], [0.1, 0.9]]
GATE_LONLAT = [[114.3496, 22.7008], [114.3506, 22.7008], [114.3502, 22.7000], [114.3500, 22.7000]]
# The sky over the street: above this calibration's horizon, where no ground position exists.
SKY = [[0.1, 0.05], [0.9, 0.05], [0.9, 0.2], [0.1, 0.2]]


@pytest.mark.browser
def test_maintenance_edits_zones(browser, server, dash_db):
    ctx, page = login(browser, server, "maintenance")
    page.wait_for_selector("#cameras-list-table tbody tr", timeout=15_000)
    first = page.inner_text("#cameras-list-table tbody tr >> nth=0")
    assert "CAM003" in first  # offline cameras come first
    page.locator("#cameras-list-table tbody tr").filter(has_text="CAM001").click()
    page.wait_for_function("document.getElementById('cameras-zones').value.includes('gate')", timeout=10_000)
    # The JSON view (power users): a two-point polygon is applied, then refused with the config's reason.
    page.click(".gw-zone-json summary")
    page.fill("#cameras-zones", json.dumps([
        {"name": "gate", "polygon": [[0.1, 0.5], [0.5, 0.5], [0.5, 0.9], [0.1, 0.9]], "rules": [{"kind": "intrusion"}]},
        {"name": "bad", "polygon": [[0.1, 0.1], [0.2, 0.2]], "rules": []}]))
    page.click("#cameras-json-apply")
    page.wait_for_function("document.querySelectorAll('#cameras-editor polygon').length === 2", timeout=5_000)
    page.click("#cameras-zone-save")
    page.wait_for_function("document.getElementById('cameras-msg').textContent.includes('区域格式错误')",
                           timeout=10_000)
    assert page.inner_text("#cameras-msg") == "区域格式错误：区域“bad”：至少需要 3 个顶点"
    # Discarded, then a triangle drawn: "draw", three clicks, and a click on the first vertex closes it.
    page.click("#cameras-zone-reset")
    page.wait_for_function("document.querySelectorAll('#cameras-editor polygon').length === 1", timeout=5_000)
    page.click("#cameras-zone-new")
    box = page.locator("#cameras-editor").bounding_box()
    for fx, fy in ((0.6, 0.1), (0.9, 0.1), (0.75, 0.4), (0.6, 0.1)):
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    page.wait_for_function("document.querySelectorAll('#cameras-editor polygon').length === 2", timeout=5_000)
    page.wait_for_function("document.getElementById('cameras-zone-name').value === '区域2'", timeout=5_000)
    page.fill("#cameras-zone-name", "door")
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
    for got, aim in zip(zones[1]["polygon"], [[0.6, 0.1], [0.9, 0.1], [0.75, 0.4]]):
        assert got == pytest.approx(aim, abs=0.005)
    assert audit == ("maint1",)
    assert json.dumps(zones)  # stored as plain JSON


@pytest.mark.browser
def test_dispatcher_sees_cameras_read_only_zones(browser, server):
    ctx, page = login(browser, server, "dispatcher", size=(1366, 768), path="/cameras")
    page.wait_for_selector("#cameras-list-table tbody tr", timeout=15_000)
    assert page.is_disabled("#cameras-zone-save")
    page.locator("#cameras-list-table tbody tr").filter(has_text="CAM000").click()
    # Zones are drawn for dispatchers too, but without handles to drag.
    page.wait_for_selector("#cameras-editor polygon.gw-zone", timeout=10_000)
    assert page.locator("#cameras-editor circle").count() == 0
    assert page.is_disabled("#cameras-zone-new")
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


@pytest.fixture
def calibrated_cam002(dash_db):
    """CAM002 registered with 4 calibration pairs, a ground zone and a sky zone; restored afterwards."""
    with psycopg.connect(dash_db[0]) as conn:
        before = conn.execute("SELECT url, config FROM camera WHERE code = 'CAM002'").fetchone()
        save_cameras(conn, [parse_config({
            "code": "CAM002", "name": "摄像机2", "url": "rtsp://10.20.0.2/sub", "lon": 114.35, "lat": 22.70,
            "zones": [{"name": "gate", "polygon": GATE, "rules": [{"kind": "intrusion"}]},
                      {"name": "sky", "polygon": SKY, "rules": [{"kind": "intrusion"}]}],
            "calibration": [{"px": p, "lonlat": q} for p, q in zip(GATE, GATE_LONLAT)],
        })], replace=True)
    yield "CAM002"
    with psycopg.connect(dash_db[0]) as conn:
        conn.execute("UPDATE camera SET url = %s, config = %s WHERE code = 'CAM002'",
                     (before[0], psycopg.types.json.Jsonb(before[1])))


def _refresh_output(ctx, server) -> dict:
    """The cameras page's refresh callback answer, as the browser receives it."""
    deps = ctx.request.get(server.base + "/_dash-dependencies").json()
    dep = next(d for d in deps if "cameras-zones-map.data" in d["output"])
    outputs = [dict(zip(("id", "property"), o.rsplit(".", 1))) for o in dep["output"].strip(".").split("...")]
    body = {"output": dep["output"], "outputs": outputs, "state": [],
            "inputs": [{"id": "cameras-interval", "property": "n_intervals", "value": None},
                       {"id": "cameras-saved", "property": "data", "value": 0}],
            "changedPropIds": ["cameras-saved.data"]}
    r = ctx.request.post(server.base + "/_dash-update-component", data=json.dumps(body),
                         headers={**csrf_headers(ctx), "Content-Type": "application/json"})
    assert r.status == 200, r.text()[:300]
    return r.json()["response"]


@pytest.mark.browser
def test_calibrated_camera_zones_are_drawn_on_the_map(browser, server, calibrated_cam002):
    ctx, page = login(browser, server, "maintenance", path="/cameras")
    # Leaflet draws one zone, CAM002's gate: not its sky zone, nor the uncalibrated cameras' zones.
    page.wait_for_function("document.querySelectorAll('path.gw-camera-zone').length === 1", timeout=15_000)
    out = _refresh_output(ctx, server)
    ctx.close()
    zones = out["cameras-zones-map"]["data"]["features"]
    assert [(f["properties"]["code"], f["properties"]["zone"]) for f in zones] == [("CAM002", "gate")]
    ring = zones[0]["geometry"]["coordinates"][0]
    assert zones[0]["geometry"]["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) == 5
    for got, want in zip(ring, GATE_LONLAT + GATE_LONLAT[:1]):
        assert got == pytest.approx(want, abs=1e-7)
    assert zones[0]["properties"]["tooltip"] == "CAM002 布控区域：gate"
    # Every camera keeps its point; the uncalibrated ones (which have zones too) only that.
    cams = out["cameras-points"]["data"]["features"]
    assert sorted(f["properties"]["code"] for f in cams) == ["CAM000", "CAM001", "CAM002", "CAM003"]
