"""The console: a dispatcher verifies a camera event; a supervisor moves a base grid with a preview."""

from __future__ import annotations

import time

import psycopg
import pytest

from tests.dashboard.conftest import login, shot
from tests.dashboard.griddata import VERIFICATION_MEDIA


def _wait_db(url: str, query: str, params, expected, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(url) as conn:
            got = conn.execute(query, params).fetchone()
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def _pick(page, dropdown_id: str, text: str):
    page.click(f"#{dropdown_id}")
    page.get_by_role("option", name=text).first.click()


def _write_evidence(media_dir) -> tuple[bytes, bytes]:
    """The verification event's snapshot and clip, written where the camera worker would put them."""
    import cv2
    import numpy as np

    from video.media import write_clip

    snap_rel, clip_rel = VERIFICATION_MEDIA
    frames = [np.full((120, 160, 3), (40, 60 + 8 * i, 90), np.uint8) for i in range(15)]
    for f in frames:
        cv2.rectangle(f, (50, 30), (90, 100), (0, 0, 255), 3)
    (media_dir / clip_rel).parent.mkdir(parents=True, exist_ok=True)
    assert write_clip(frames, media_dir / clip_rel, 5.0) == 15
    ok, jpg = cv2.imencode(".jpg", frames[0])
    assert ok
    (media_dir / snap_rel).write_bytes(jpg.tobytes())
    return jpg.tobytes(), (media_dir / clip_rel).read_bytes()


@pytest.mark.browser
def test_dispatcher_verifies_a_camera_event(browser, server, dash_db, ids):
    _, clip_bytes = _write_evidence(server.media)
    snap_rel, clip_rel = VERIFICATION_MEDIA
    ctx, page = login(browser, server, "dispatcher")
    page.wait_for_selector("#console-verification-table tbody tr", timeout=15_000)
    shot(page, "console-1920x1080")
    page.locator("#console-verification-table tbody tr").filter(has_text="人员异常聚集").first.click()
    page.wait_for_selector("#console-detail-body", timeout=10_000)
    # The camera event shows its clip beside its snapshot, both through the logged /media route.
    page.wait_for_selector("#console-detail-body video#console-clip[controls]", timeout=10_000)
    assert page.get_attribute("#console-clip", "src") == f"/media/{clip_rel}"
    assert page.get_attribute("#console-snapshot", "src") == f"/media/{snap_rel}"
    # readyState >= 1 (HAVE_METADATA): the browser fetched the clip and can play it (VP8 .webm).
    page.wait_for_function("document.getElementById('console-clip').readyState >= 1", timeout=10_000)
    assert page.evaluate("document.getElementById('console-clip').duration") > 2.5  # 15 frames at 5 fps
    shot(page, "console-evidence-1920x1080")
    got = ctx.request.get(server.base + f"/media/{clip_rel}")
    assert got.status == 200 and got.body() == clip_bytes
    viewed = _wait_db(dash_db[0], "SELECT count(*) > 0 FROM audit_log WHERE action = 'media_view' AND actor = %s "
                      "AND target = %s", ("disp1", clip_rel), (True,))
    assert viewed == (True,)
    with psycopg.connect(dash_db[0]) as conn:
        row = conn.execute("SELECT data->>'role' FROM audit_log WHERE action = 'media_view' AND target = %s "
                           "ORDER BY id DESC LIMIT 1", (clip_rel,)).fetchone()
    assert row == ("dispatcher",)
    page.fill("#console-note", "画面确认有人员聚集")
    page.get_by_role("button", name="核实分拨").click()
    page.wait_for_function("document.getElementById('console-msg').textContent.includes('已完成')", timeout=10_000)
    got = _wait_db(dash_db[0], "SELECT status, worker_code FROM incident WHERE id = %s", (ids["verification"],),
                   ("dispatched", "W001"))
    assert got == ("dispatched", "W001")  # routed to the primary worker of its sub-grid
    with psycopg.connect(dash_db[0]) as conn:
        ev = conn.execute("SELECT actor, action, note FROM incident_event WHERE incident_id = %s "
                          "ORDER BY id DESC LIMIT 1", (ids["verification"],)).fetchone()
    assert ev == ("disp1", "verify", "画面确认有人员聚集")
    # the verification queue no longer lists it
    page.wait_for_function("!document.getElementById('console-verification').textContent.includes('人员异常聚集')",
                           timeout=10_000)
    shot(page, "console-verified-1920x1080")
    # The intrusion alarm is acknowledged here; the wall's alarm list no longer has it.
    page.locator("#console-alarms li").filter(has_text="闯入禁区").get_by_role("button").click()
    page.wait_for_function("!document.getElementById('console-alarms').textContent.includes('闯入禁区')",
                           timeout=10_000)
    with psycopg.connect(dash_db[0]) as conn:
        acked = conn.execute("SELECT actor FROM audit_log WHERE action = 'alarm_ack' AND target = %s",
                             (ids["alarm"],)).fetchone()
    assert acked == ("disp1",)
    page.click("#app-logout")
    page.wait_for_url("**/login")
    ctx.close()


@pytest.mark.browser
def test_supervisor_moves_a_base_grid(browser, server, dash_db):
    base, target = "440310001001002", "44031000100102"
    ctx, page = login(browser, server, "supervisor", size=(1366, 768))
    page.wait_for_selector("#console-map .leaflet-interactive", timeout=15_000)
    # A click on the map at the base grid's centre (Leaflet reports it as the map's clickData).
    page.evaluate("([lat, lng]) => window.dash_clientside.set_props('console-map', "
                  "{clickData: {latlng: {lat, lng}, layerPoint: [0, 0], containerPoint: [0, 0]}})",
                  [22.6625, 114.3375])
    page.wait_for_function(f"document.getElementById('console-base-label').textContent.includes('{base}')",
                           timeout=10_000)
    page.keyboard.press("4")  # the grid changes tab holds the move form
    _pick(page, "console-move-target", "六和社区第2网格")
    page.click("#console-move-preview")
    page.wait_for_function("document.getElementById('console-move-msg').textContent.includes('将移动')",
                           timeout=10_000)
    preview = page.inner_text("#console-move-msg")
    page.click("#console-move-confirm")
    page.wait_for_function("document.getElementById('console-move-msg').textContent.includes('请填写原因')",
                           timeout=10_000)
    page.fill("#console-move-reason", "工作量平衡")
    page.click("#console-move-confirm")
    page.wait_for_function("document.getElementById('console-move-msg').textContent.includes('已调整')",
                           timeout=10_000)
    # The map and the selection are redrawn from the database: the base grid now shows its new sub-grid.
    page.wait_for_function(f"document.getElementById('console-base-label').textContent.endsWith('{target}')",
                           timeout=10_000)
    shot(page, "console-moved-1366x768")
    ctx.close()
    assert "将移动" in preview
    with psycopg.connect(dash_db[0]) as conn:
        assert conn.execute("SELECT sub_grid_code FROM base_grid WHERE code = %s", (base,)).fetchone() == (target,)
        audit = conn.execute("SELECT actor, reason, data FROM audit_log WHERE action = 'move_base_grid' "
                             "AND target = %s", (base,)).fetchone()
        left = conn.execute("SELECT count(*) FROM incident WHERE base_grid_code = %s AND sub_grid_code <> %s "
                            "AND status NOT IN ('closed', 'cancelled')", (base, target)).fetchone()[0]
        # geodata.operations re-dispatches the working incidents through the one transition function.
        redispatched = conn.execute(
            "SELECT e.incident_id::text, e.actor, e.note, i.worker_code FROM incident_event e "
            "JOIN incident i ON i.id = e.incident_id WHERE i.base_grid_code = %s AND e.action = 'redispatch'",
            (base,)).fetchall()
    assert audit[:2] == ("sup1", "工作量平衡")
    assert audit[2]["to_sub_grid"] == target and audit[2]["workload"]  # the operation's plan, audited
    moved = [m["incident_id"] for m in audit[2]["moves"] if m["redispatch"]]
    assert moved and sorted(r[0] for r in redispatched) == sorted(moved)
    assert all(r[1:] == ("sup1", "工作量平衡", "W002") for r in redispatched)  # to the target's primary worker
    assert len(audit[2]["incident_events"]) == len(moved)
    assert left == 0  # its open incidents followed it
    assert "工作量" in preview and "→" in preview  # the preview shows workload before and after


@pytest.mark.browser
def test_supervisor_cannot_move_outside_its_street(browser, server, dash_db):
    ctx, page = login(browser, server, "supervisor")
    page.wait_for_selector("#console-map .leaflet-interactive", timeout=15_000)
    page.evaluate("([lat, lng]) => window.dash_clientside.set_props('console-map', "
                  "{clickData: {latlng: {lat, lng}, layerPoint: [0, 0], containerPoint: [0, 0]}})",
                  [22.70, 114.375])  # street 440310002: not sup1's
    page.wait_for_function("document.getElementById('console-base-label').textContent.includes('超出')",
                           timeout=10_000)
    ctx.close()


@pytest.mark.browser
def test_console_map_labels_sub_grids_with_their_workers(browser, server):
    ctx, page = login(browser, server, "dispatcher")
    labels = page.locator("#console-map .leaflet-tooltip.gw-worker-label")
    labels.first.wait_for(timeout=15_000)
    # Permanent: every sub-grid of the test grid carries its label with no hover at all.
    page.wait_for_function("document.querySelectorAll('#console-map .leaflet-tooltip.gw-worker-label').length === 6",
                           timeout=10_000)
    texts = labels.all_inner_texts()
    names = {n for text in texts for n in text.split("/")}
    assert {"网格员1", "网格员3", "网格员5"} <= names and all(n.startswith("网格员") for n in names)
    assert all(labels.nth(i).is_visible() for i in range(labels.count()))
    # Six sub-grids leave room for every label at any zoom: none is held back as dense.
    assert page.locator("#console-map .gw-worker-label-dense").count() == 0
    # A district-wide dispatcher of the real district has ~150 sub-grids: their labels are "dense" and show
    # from zoom 14 on. The same label function on a scratch Leaflet map, zoomed out and then in:
    shown = page.evaluate("""() => {
        const div = document.createElement('div');
        div.style.cssText = 'width:400px;height:300px;position:fixed;left:0;top:0';
        document.body.appendChild(div);
        const map = L.map(div).setView([22.70, 114.35], 12);
        L.geoJSON({type: 'Feature', properties: {workers: '甲/乙', dense: true},
                   geometry: {type: 'Polygon', coordinates: [[[114.34, 22.69], [114.36, 22.69], [114.36, 22.71],
                                                             [114.34, 22.69]]]}},
                  {onEachFeature: window.gridwatch.map.subGridLabel}).addTo(map);
        const tip = () => div.querySelector('.leaflet-tooltip.gw-worker-label-dense');
        const far = getComputedStyle(tip()).display;
        map.setZoom(15, {animate: false});
        const near = getComputedStyle(tip()).display;
        const text = tip().textContent;
        map.remove(); div.remove();
        return [far, near, text];
    }""")
    assert shown == ["none", "block", "甲/乙"]
    shot(page, "console-worker-labels-1920x1080")
    ctx.close()


@pytest.mark.browser
@pytest.mark.parametrize("path, map_id", [("/console", "console-map"), ("/cameras", "cameras-map")])
def test_panning_a_map_raises_no_script_error(browser, server, path, map_id):
    ctx, page = login(browser, server, "dispatcher")
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.base + path)
    page.wait_for_selector(f"#{map_id}.leaflet-container", timeout=15_000)
    box = page.evaluate("id => { const r = document.getElementById(id).getBoundingClientRect();"
                        " return [r.x + r.width / 2, r.y + r.height / 2]; }", map_id)
    page.mouse.move(*box)
    page.mouse.down()
    page.mouse.move(box[0] + 120, box[1] + 60, steps=8)
    page.mouse.up()
    page.wait_for_timeout(1000)
    ctx.close()
    # dash-leaflet's viewport tracking threw on every pan of a map given bounds but no centre.
    assert errors == []
