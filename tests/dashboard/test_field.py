"""The tablet: report while offline, survive a reload, send once when back online; act on a task."""

from __future__ import annotations

import json
import time

import psycopg
import pytest
import redis as redis_lib

from tests.dashboard.conftest import csrf_headers, login, shot
from geodata.bus import INCIDENT_STREAM


def _pending(page) -> int:
    return int(page.get_attribute("#field-pending", "data-count") or "0")


@pytest.mark.browser
def test_offline_report_survives_a_reload_and_is_sent_once(browser, server, dash_redis):
    rds = redis_lib.Redis.from_url(dash_redis)
    before = rds.xlen(INCIDENT_STREAM)
    ctx, page = login(browser, server, "grid_worker", size=(1280, 800))
    page.wait_for_selector("#field-root #field-send", timeout=15_000)
    page.wait_for_selector("#field-photo-slot input[type=file][capture=environment]", timeout=5_000)
    # The service worker must control the page before the network goes (a real tablet has had many
    # visits): wait until it is active, then load once more through it so it keeps the shell.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_selector("#field-root #field-send", timeout=15_000)
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    shot(page, "field-1280x800")

    ctx.set_offline(True)
    page.fill("#field-matter-search", "消防")
    page.select_option("#field-matter", "hazard_fire_exit")
    page.click("#field-map", position={"x": 300, "y": 150})  # no GPS here: a tap on the map places it
    page.wait_for_function("document.getElementById('field-pos').textContent.includes(',')", timeout=5_000)
    page.fill("#field-description", "离线上报：消防通道被杂物堵塞")
    page.click("#field-send")
    page.wait_for_function("document.getElementById('field-pending').getAttribute('data-count') === '1'",
                           timeout=10_000)
    assert "待发送 1 条" in page.inner_text("#field-pending")
    shot(page, "field-offline-pending-1280x800")
    # Offline reload: the service worker serves the page's last good shell, the outbox is still there.
    page.reload(timeout=15_000)
    page.wait_for_selector("#field-root #field-send", timeout=15_000)
    page.wait_for_function("document.getElementById('field-pending').getAttribute('data-count') === '1'",
                           timeout=10_000)
    shot(page, "field-offline-reloaded-1280x800")
    assert rds.xlen(INCIDENT_STREAM) == before

    ctx.set_offline(False)
    page.goto(server.base + "/field")
    page.wait_for_selector("#field-root #field-send", timeout=15_000)
    page.wait_for_function("document.getElementById('field-pending').getAttribute('data-count') === '0'",
                           timeout=15_000)
    entries = rds.xrange(INCIDENT_STREAM)[before:]
    mine = [json.loads(e[1][b"data"]) for e in entries
            if "离线上报" in json.loads(e[1][b"data"]).get("description", "")]
    assert len(mine) == 1
    msg = mine[0]
    assert msg["source"] == "grid_worker" and msg["matter"] == "hazard_fire_exit" and msg["reporter"] == "W001"
    assert 114.30 < msg["lon"] < 114.40 and 22.65 < msg["lat"] < 22.75

    # Sending the same event again (a retry after a lost answer) creates nothing new.
    r = ctx.request.post(server.base + "/field/api/report", headers=csrf_headers(ctx), form={
        "event_id": msg["event_id"], "matter": "hazard_fire_exit", "lon": "114.33", "lat": "22.70"})
    assert r.json() == {"ok": True, "event_id": msg["event_id"], "duplicate": True}
    assert rds.xlen(INCIDENT_STREAM) == before + 1
    ctx.close()
    rds.close()


def _inside(inner: dict, outer: dict) -> bool:
    return (outer["x"] <= inner["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
            and outer["y"] <= inner["y"] and inner["y"] + inner["height"] <= outer["y"] + outer["height"])


def _check_task_map(page, db_url: str, task_id: str):
    """The open task's map: a pin at the task's position and a dot at the worker's, both in view."""
    with psycopg.connect(db_url) as conn:
        task = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM incident WHERE id = %s", (task_id,)).fetchone()
        me = conn.execute("SELECT ST_X(last_geom), ST_Y(last_geom) FROM grid_worker WHERE code = 'W001'").fetchone()
    pin = page.locator("#field-task-map .gw-task-pin[data-kind=task]")
    dot = page.locator("#field-task-map .gw-task-pin[data-kind=me]")
    pin.wait_for(timeout=10_000)
    dot.wait_for(timeout=10_000)
    # The test tiles are WGS84, so the display position is the stored one.
    assert (float(pin.get_attribute("data-lng")), float(pin.get_attribute("data-lat"))) == pytest.approx(task, abs=1e-6)
    assert (float(dot.get_attribute("data-lng")), float(dot.get_attribute("data-lat"))) == pytest.approx(me, abs=1e-6)
    box = page.locator("#field-task-map").bounding_box()
    assert box["height"] >= 300 and box["width"] >= 600  # a map to read on a 10" tablet, not a thumbnail
    # Framed once the hidden panel opened: both markers lie inside the visible map, not at its origin.
    page.wait_for_function("""() => {
        const m = document.getElementById('field-task-map').getBoundingClientRect();
        return [...document.querySelectorAll('#field-task-map .gw-task-pin')].every(e => {
            const r = e.getBoundingClientRect();
            return r.left >= m.left && r.right <= m.right && r.top >= m.top && r.bottom <= m.bottom; });
    }""", timeout=5_000)
    assert _inside(pin.bounding_box(), box) and _inside(dot.bounding_box(), box)
    shot(page, "field-task-map-800x1280")
    # The tablet shifts its own GPS fix onto GCJ-02 tiles with the same formula as grid/gcj02.py.
    from grid import gcj02

    for lon, lat in [(114.35, 22.70), (116.39, 39.91), (2.35, 48.85)]:
        js = page.evaluate("([x, y]) => window.gridwatch.field.gcj02(x, y)", [lon, lat])
        py = gcj02.wgs84_to_gcj02([lon], [lat])
        assert js == pytest.approx([float(py[0][0]), float(py[1][0])], abs=1e-9)


@pytest.mark.browser
def test_worker_accepts_a_task_on_a_portrait_tablet(browser, server, dash_db, ids):
    ctx, page = login(browser, server, "grid_worker", size=(800, 1280))
    page.wait_for_selector(f"#field-tasks button[data-id='{ids['task']}']", timeout=15_000)
    shot(page, "field-800x1280")
    page.click(f"#field-tasks button[data-id='{ids['task']}']")
    page.wait_for_selector("#field-task:not([hidden])", timeout=5_000)
    page.wait_for_selector("#field-task-history li", timeout=10_000)
    _check_task_map(page, dash_db[0], ids["task"])
    page.fill("#field-task-note", "已到现场")
    page.click("#field-act-accept")
    deadline = time.monotonic() + 10
    status = None
    while time.monotonic() < deadline:
        with psycopg.connect(dash_db[0]) as conn:
            status = conn.execute("SELECT status FROM incident WHERE id = %s", (ids["task"],)).fetchone()[0]
        if status == "accepted":
            break
        time.sleep(0.2)
    assert status == "accepted"
    with psycopg.connect(dash_db[0]) as conn:
        ev = conn.execute("SELECT actor, note, data->>'client_event_id' IS NOT NULL FROM incident_event "
                          "WHERE incident_id = %s AND action = 'accept'", (ids["task"],)).fetchall()
    assert ev == [("worker1", "已到现场", True)]
    ctx.close()


@pytest.mark.browser
def test_photos_are_checked_by_decoding(browser, server, dash_redis):
    import uuid

    import cv2
    import numpy as np

    ctx, page = login(browser, server, "grid_worker", size=(1280, 800))
    ok, png = cv2.imencode(".png", np.full((40, 60, 3), 128, np.uint8))
    assert ok
    base = {"matter": "dispute_neighbour", "lon": "114.31", "lat": "22.66", "description": "带照片"}
    good = ctx.request.post(server.base + "/field/api/report", headers=csrf_headers(ctx), multipart={
        **base, "event_id": str(uuid.uuid4()),
        "photo": {"name": "p.png", "mimeType": "image/png", "buffer": png.tobytes()}})
    assert good.status == 200 and good.json()["ok"] is True
    bad = ctx.request.post(server.base + "/field/api/report", headers=csrf_headers(ctx), multipart={
        **base, "event_id": str(uuid.uuid4()),
        "photo": {"name": "p.jpg", "mimeType": "image/jpeg", "buffer": b"not an image at all"}})
    assert bad.status == 400 and bad.json()["code"] == "api.bad_photo"
    outside = ctx.request.post(server.base + "/field/api/report", headers=csrf_headers(ctx), multipart={
        **base, "event_id": str(uuid.uuid4()), "lon": "114.60", "lat": "22.66"})
    assert outside.status == 200 and outside.json()["outside"] is True  # accepted, flagged, never dropped
    rds = redis_lib.Redis.from_url(dash_redis)
    last = json.loads(rds.xrevrange(INCIDENT_STREAM, count=2)[1][1][b"data"])  # the one before "outside"
    rds.close()
    assert last["media"] and last["media"][0].startswith("field/") and last["media"][0].endswith(".png")
    ctx.close()


@pytest.mark.browser
def test_the_outbox_backs_off_on_server_errors_and_drops_refusals(browser, server, dash_redis):
    from tests.dashboard.griddata import ACCOUNTS, PASSWORD

    # No service worker: page.route does not see the requests a service worker makes.
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="block")
    page = ctx.new_page()
    page.goto(server.base + "/login")
    page.fill("#login-username", ACCOUNTS["grid_worker"][0])
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#field-root #field-send", timeout=15_000)
    page.route("**/field/api/report", lambda route: route.fulfill(status=503, body="busy"))
    page.select_option("#field-matter", "hazard_fire_exit")
    page.click("#field-map", position={"x": 300, "y": 150})
    page.wait_for_function("document.getElementById('field-pos').textContent.includes(',')", timeout=5_000)
    page.fill("#field-description", "outbox backoff")
    page.click("#field-send")
    # page.evaluate awaits the outbox's promise (wait_for_function would take the promise as truthy).
    deadline = time.monotonic() + 10
    items = []
    while time.monotonic() < deadline:
        items = page.evaluate("window.gridwatch.field.outbox()")
        if items and items[0].get("tries"):
            break
        time.sleep(0.1)
    (item,) = items
    assert item["tries"] == 1 and item["next"] > item["created"]  # paused, not hammered
    # Flushing again during the pause sends nothing: still one try.
    page.evaluate("window.gridwatch.field.flush()")
    assert page.evaluate("window.gridwatch.field.outbox().then(x => x[0].tries)") == 1
    # A refusal is final: dropped from the outbox and shown as failed with the server's reason.
    page.unroute("**/field/api/report")
    page.route("**/field/api/report", lambda route: route.fulfill(
        status=400, content_type="application/json", body=json.dumps({"ok": False, "error": "refused-here"})))
    page.evaluate("""window.gridwatch.field.outbox().then(x => new Promise(ok => {
        const r = indexedDB.open('gridwatch-field', 1);
        r.onsuccess = () => { const t = r.result.transaction('outbox', 'readwrite');
                              x[0].next = 0; t.objectStore('outbox').put(x[0]); t.oncomplete = ok; }; }))""")
    page.evaluate("window.gridwatch.field.flush()")
    page.wait_for_function("document.getElementById('field-pending').getAttribute('data-count') === '0'",
                           timeout=10_000)
    assert "refused-here" in page.inner_text("#field-msg") and "发送失败" in page.inner_text("#field-msg")
    ctx.close()
