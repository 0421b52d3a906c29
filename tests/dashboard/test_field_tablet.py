"""The tablet at 800x1280 and 1280x800: my sub-grids, my tasks numbered on the map as in the list, my
position, a task's place, photos and countdown; the nearby-case prompt with both answers, through ingest."""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime, timezone

import cv2
import numpy as np
import psycopg
import pytest
import redis as redis_lib

from geodata import db
from geodata.bus import INCIDENT_STREAM
from geodata.bus import stream
from tests.dashboard.conftest import login, shot
from tests.dashboard.fit import assert_fits
from tests.dashboard.griddata import ACCOUNTS, PASSWORD
from workers.ingest import Ingestor

SIZES = [(800, 1280), (1280, 800)]
TASK_AT = (114.3060, 22.6580)  # in worker1's sub-grid (六和社区第1网格)


def _free_spot(db_url: str) -> tuple[float, float]:
    """A point in worker1's community (六和社区, 440310001001) with no case within 150 m, so a test run
    again (or after others) sees only the cases it made."""
    with psycopg.connect(db_url) as conn:
        for i in range(400):
            lon, lat = 114.3030 + 0.0025 * (i % 18), 22.6530 + 0.0025 * (i // 18)
            busy = conn.execute("SELECT EXISTS (SELECT 1 FROM incident WHERE ST_DWithin(geom::geography, "
                                "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, 150))", (lon, lat)).fetchone()[0]
            if not busy:
                return lon, lat
    raise AssertionError("no free spot left in the test community")


def _png() -> bytes:
    ok, png = cv2.imencode(".png", np.dstack([np.full((60, 90), v, np.uint8) for v in (40, 160, 220)]))
    assert ok
    return png.tobytes()


def _ingest(db_url: str, entries: list[stream.Entry]):
    """Run the ingest worker's own batch step on these entries (the real Ingestor, real PostGIS)."""
    with db.connect(db_url, autocommit=True) as conn:
        outcome, rejected = Ingestor(conn).process(entries)
    assert rejected == []
    return outcome


def _seed_case(db_url: str, matter: str, lon: float, lat: float, description: str, media=()) -> str:
    """An open case made the way every case is: a grid worker's report through ingest."""
    event_id = str(uuid.uuid4())
    raw = {"v": 1, "event_id": event_id, "source": "grid_worker", "matter": matter, "lon": lon, "lat": lat,
           "observed_at": datetime.now(timezone.utc).isoformat(), "description": description, "reporter": "W003",
           "media": list(media)}
    outcome = _ingest(db_url, [stream.Entry(b"0-1", {b"data": json.dumps(raw, ensure_ascii=False).encode()})])
    assert outcome.created == 1
    return event_id


def _sent(rds, text: str, timeout: float = 15.0) -> tuple[stream.Entry, dict]:
    """The stream entry the tablet sent whose description contains `text`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for eid, fields in rds.xrange(INCIDENT_STREAM):
            body = json.loads(fields[b"data"])
            if text in body.get("description", ""):
                return stream.Entry(eid, fields), body
        time.sleep(0.2)
    raise AssertionError(f"no report with {text!r} reached the stream")


def _row(db_url: str, incident_id: str) -> dict | None:
    with psycopg.connect(db_url, row_factory=psycopg.rows.dict_row) as conn:
        return conn.execute("SELECT status, report_count, attributes, matter_code, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                            "FROM incident WHERE id = %s", (incident_id,)).fetchone()


def _small_buttons(page) -> list[str]:
    """Every visible button (and Leaflet's zoom links) under 48 px either way."""
    return page.evaluate("""() => [...document.querySelectorAll(
            '#field-root button, #field-root .leaflet-bar a, #field-root .leaflet-interactive[role=button]')]
        .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&
                       !e.closest('[hidden]'); })
        .filter(e => { const r = e.getBoundingClientRect(); return r.width < 47.5 || r.height < 47.5; })
        .map(e => (e.id || e.className || e.tagName) + ' ' + Math.round(e.getBoundingClientRect().width) + 'x' +
                  Math.round(e.getBoundingClientRect().height))""")


def _check_fits(page, name: str):
    # The task list scrolls inside its panel; the page itself never scrolls and nothing is cut.
    assert_fits(page, allow_scroll=True)
    assert _small_buttons(page) == [], name


@pytest.fixture(scope="module")
def photo_task(server, dash_db):
    """A task of worker1 with a photo on disk: a report of W003 in worker1's sub-grid, dispatched to W001."""
    png = _png()
    name = f"field/test/{uuid.uuid4().hex}.png"
    path = server.media / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    iid = _seed_case(dash_db[0], "dispute_neighbour", *TASK_AT, "二楼住户噪音扰民，已多次协调", media=[name])
    with psycopg.connect(dash_db[0]) as conn:
        worker = conn.execute("SELECT worker_code, due_at FROM incident WHERE id = %s", (iid,)).fetchone()
    assert worker[0] == "W001" and worker[1] is not None
    return iid, name


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_map_shows_my_sub_grids_and_numbered_tasks_and_a_task_its_place_photos_countdown(
        browser, server, dash_db, photo_task, size):
    db_url = dash_db[0]
    task_id, photo = photo_task
    ctx, page = login(browser, server, "grid_worker", size=size)
    with psycopg.connect(db_url, row_factory=psycopg.rows.dict_row) as conn:
        tasks = conn.execute("SELECT id::text AS id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM incident "
                             "WHERE worker_code = 'W001' AND status IN ('dispatched', 'accepted', 'in_progress')"
                             ).fetchall()
        grids = conn.execute("SELECT count(*) AS n FROM sub_grid_assignment WHERE worker_code = 'W001' "
                             "AND valid_to IS NULL").fetchone()["n"]
        place = conn.execute(
            "SELECT s.name AS street, c.name AS community, b.code AS base FROM incident i "
            "JOIN street s ON s.code = i.street_code JOIN community c ON c.code = i.community_code "
            "JOIN base_grid b ON b.code = i.base_grid_code WHERE i.id = %s", (task_id,)).fetchone()
        me = conn.execute("SELECT ST_X(last_geom) AS lon, ST_Y(last_geom) AS lat FROM grid_worker "
                          "WHERE code = 'W001'").fetchone()
    # Every open task of mine is a row and a marker, with the same number.
    page.wait_for_function(f"document.querySelectorAll('#field-map .gw-task-num').length === {len(tasks)}",
                           timeout=10_000)
    rows = page.eval_on_selector_all("#field-tasks button[data-id]", "bs => bs.map(b => [b.dataset.id, b.dataset.n, "
                                     "b.querySelector('.gw-task-n').textContent])")
    marks = page.eval_on_selector_all("#field-map .gw-task-num", "ms => ms.map(m => [m.dataset.id, m.textContent, "
                                      "+m.dataset.lng, +m.dataset.lat])")
    assert sorted(r[0] for r in rows) == sorted(t["id"] for t in tasks)
    assert [r[1] for r in rows] == [str(i) for i in range(1, len(rows) + 1)] and all(r[1] == r[2] for r in rows)
    where = {t["id"]: (t["lon"], t["lat"]) for t in tasks}  # the test tiles are WGS84: display = stored
    numbers = {r[0]: r[1] for r in rows}
    for iid, n, lng, lat in marks:
        assert n == numbers[iid]
        assert (lng, lat) == pytest.approx(where[iid], abs=1e-6)
    # My sub-grids are outlined (green), and my last known position is shown (no GPS allowed here).
    outlines = page.locator("#field-map .leaflet-overlay-pane path[stroke='#52c41a']")
    assert outlines.count() == grids >= 1
    box = page.locator("#field-map").bounding_box()
    ob = outlines.first.bounding_box()
    assert ob["width"] > 100 and ob["height"] > 100 and ob["x"] < box["x"] + box["width"] and ob["y"] < box["y"] + box["height"]
    dot = page.locator("#field-map .gw-task-pin[data-kind=me]")
    dot.wait_for(timeout=10_000)
    assert (float(dot.get_attribute("data-lng")), float(dot.get_attribute("data-lat"))) == pytest.approx(
        (me["lon"], me["lat"]), abs=1e-6)
    # The map is the screen's largest part, not a thumbnail.
    assert box["width"] * box["height"] >= 0.25 * size[0] * size[1]
    tag = f"{size[0]}x{size[1]}"
    shot(page, f"field-tablet-map-{tag}")
    _check_fits(page, f"map {tag}")

    # A task: place, description, photos and a running countdown; a tap on its marker opens it too.
    page.click(f"#field-map .gw-task-num[data-id='{task_id}']")
    page.wait_for_selector("#field-task:not([hidden])", timeout=5_000)
    assert page.inner_text("#field-task-num") == numbers[task_id]
    text = page.inner_text("#field-task-place")
    assert place["street"] in text and place["community"] in text and place["base"] in text
    assert "二楼住户噪音扰民" in page.inner_text("#field-task-body")
    page.wait_for_selector(f"#field-task-photos img[src='/media/{photo}']", timeout=10_000)
    page.wait_for_function("document.querySelector('#field-task-photos img').naturalWidth === 90", timeout=10_000)
    with psycopg.connect(db_url) as conn:
        due = conn.execute("SELECT due_at FROM incident WHERE id = %s", (task_id,)).fetchone()[0]
    left = float(page.get_attribute("#field-task-due", "data-seconds"))
    assert left == pytest.approx((due - datetime.now(timezone.utc)).total_seconds(), abs=5)
    assert re.fullmatch(r"剩余 (\d+d )?\d\d:\d\d:\d\d", page.inner_text("#field-task-due"))
    page.wait_for_function(f"+document.getElementById('field-task-due').dataset.seconds <= {left - 1}", timeout=5_000)
    shot(page, f"field-tablet-task-{tag}")
    _check_fits(page, f"task {tag}")
    ctx.close()


def _report(page, matter: str, text: str, with_photo: bool, locate: bool = True):
    page.select_option("#field-matter", matter)
    if locate:
        page.click("#field-gps")
        page.wait_for_function("document.getElementById('field-pos').textContent.includes(',')", timeout=20_000)
    page.fill("#field-description", text)
    if with_photo:
        page.set_input_files("#field-photo-slot input", files=[{"name": "p.png", "mimeType": "image/png",
                                                                "buffer": _png()}])
    page.click("#field-send")
    page.wait_for_selector("#field-nearby:not([hidden]) .gw-field-nearby-case", timeout=10_000)


@pytest.mark.browser
def test_nearby_case_the_same_merges_the_report_and_its_photo_into_it(browser, server, dash_db, dash_redis):
    db_url = dash_db[0]
    SAME_AT = _free_spot(db_url)
    case = _seed_case(db_url, "hazard_fire_exit", *SAME_AT, "楼道堆放纸箱，堵塞消防通道")
    ctx = browser.new_context(viewport={"width": 800, "height": 1280}, permissions=["geolocation"],
                              geolocation={"longitude": SAME_AT[0] + 0.0001, "latitude": SAME_AT[1]})
    page = ctx.new_page()
    page.goto(server.base + "/login")
    page.fill("#login-username", ACCOUNTS["grid_worker"][0])
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#field-root #field-send", timeout=15_000)
    # Geolocation granted: my position on the map is the browser's, not the server's last one.
    page.wait_for_function("""() => { const d = document.querySelector('#field-map .gw-task-pin[data-kind=me]');
        return d && Math.abs(+d.dataset.lng - %f) < 1e-6; }""" % (SAME_AT[0] + 0.0001), timeout=10_000)
    _report(page, "hazard_fire_exit", "纸箱还在，补拍一张", with_photo=True)
    shown = page.eval_on_selector_all("#field-nearby-list .gw-field-nearby-case", "cs => cs.map(c => c.dataset.id)")
    assert shown == [case]
    assert "楼道堆放纸箱" in page.inner_text("#field-nearby-list") and "10 米" in page.inner_text("#field-nearby-list")
    # The case is on the map beside the prompt, where it is stored.
    ring = page.locator(f"#field-map .gw-nearby-mark[data-id='{case}']")
    ring.wait_for(timeout=5_000)
    page.wait_for_function("""() => {
        const m = document.getElementById('field-map').getBoundingClientRect();
        const r = document.querySelector('#field-map .gw-nearby-mark').getBoundingClientRect();
        return r.left >= m.left && r.right <= m.right && r.top >= m.top && r.bottom <= m.bottom; }""", timeout=5_000)
    shot(page, "field-tablet-nearby-800x1280")
    _check_fits(page, "nearby 800x1280")
    page.click("#field-nearby-same")
    page.wait_for_selector("#field-nearby", state="hidden", timeout=5_000)
    rds = redis_lib.Redis.from_url(dash_redis)
    entry, body = _sent(rds, "纸箱还在")
    rds.close()
    assert "not_duplicate_of" not in body["attributes"] and len(body["media"]) == 1
    outcome = _ingest(db_url, [entry])
    assert (outcome.merged, outcome.created) == (1, 0)
    assert _row(db_url, case)["report_count"] == 2 and _row(db_url, body["event_id"]) is None
    with psycopg.connect(db_url) as conn:
        note, media = conn.execute("SELECT note, media FROM incident_event WHERE incident_id = %s AND action = 'merge'",
                                   (case,)).fetchone()
    assert note == "纸箱还在，补拍一张" and media == body["media"]
    assert (server.media / media[0]).is_file()
    ctx.close()


@pytest.mark.browser
def test_nearby_case_a_different_one_makes_a_new_case_that_never_merges_into_it(browser, server, dash_db, dash_redis):
    db_url = dash_db[0]
    DIFFERENT_AT = _free_spot(db_url)
    case = _seed_case(db_url, "hazard_fire_exit", *DIFFERENT_AT, "电动车停放在楼梯口")
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, permissions=["geolocation"],
                              geolocation={"longitude": DIFFERENT_AT[0], "latitude": DIFFERENT_AT[1] + 0.0001})
    page = ctx.new_page()
    page.goto(server.base + "/login")
    page.fill("#login-username", ACCOUNTS["grid_worker"][0])
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#field-root #field-send", timeout=15_000)
    _report(page, "hazard_fire_exit", "另一处：消防栓被遮挡", with_photo=False)
    shown = page.eval_on_selector_all("#field-nearby-list .gw-field-nearby-case", "cs => cs.map(c => c.dataset.id)")
    assert shown == [case]
    shot(page, "field-tablet-nearby-1280x800")
    _check_fits(page, "nearby 1280x800")
    page.click("#field-nearby-different")
    page.wait_for_selector("#field-nearby", state="hidden", timeout=5_000)
    rds = redis_lib.Redis.from_url(dash_redis)
    entry, body = _sent(rds, "消防栓被遮挡")
    rds.close()
    assert body["attributes"]["not_duplicate_of"] == [case]
    outcome = _ingest(db_url, [entry])
    assert (outcome.merged, outcome.created) == (0, 1)
    new = _row(db_url, body["event_id"])
    assert new["status"] in ("dispatched", "reported") and new["attributes"]["not_duplicate_of"] == [case]
    assert _row(db_url, case)["report_count"] == 1
    # Asked again at the same place, the tablet now shows both open cases: the new one did not vanish.
    page.fill("#field-description", "")
    _report(page, "hazard_fire_exit", "第三次", with_photo=False, locate=False)  # the same point again
    shown = page.eval_on_selector_all("#field-nearby-list .gw-field-nearby-case", "cs => cs.map(c => c.dataset.id)")
    assert sorted(shown) == sorted([case, body["event_id"]])
    page.click("#field-nearby-cancel")
    page.wait_for_selector("#field-nearby", state="hidden", timeout=5_000)
    assert page.evaluate("window.gridwatch.field.outbox().then(x => x.length)") == 0
    ctx.close()


@pytest.mark.browser
def test_nearby_cases_are_only_those_the_worker_may_see(browser, server, dash_db):
    """A case in another street at the same point is not shown to worker1 (the endpoint's scope)."""
    db_url = dash_db[0]
    # 坑梓社区 (440310002001) is another street's: W005's ground.
    other_at = (114.3700 + 0.001 * (uuid.uuid4().int % 20), 22.7000)
    other = _seed_case(db_url, "hazard_fire_exit", *other_at, "别的街道")
    ctx, page = login(browser, server, "grid_worker", size=(1280, 800))
    page.wait_for_selector("#field-root #field-send", timeout=15_000)
    r = ctx.request.get(server.base + f"/field/api/nearby?matter=hazard_fire_exit&lon={other_at[0]}&lat={other_at[1]}")
    assert r.status == 200 and r.json() == {"ok": True, "cases": []}
    assert _row(db_url, other)["status"] in ("dispatched", "reported")  # it is there, open: out of scope only
    # At my community's spot, my community's case is found, by the page's route and by the bearer API.
    here = _free_spot(db_url)
    mine = _seed_case(db_url, "hazard_fire_exit", *here, "本社区")
    r = ctx.request.get(server.base + f"/field/api/nearby?matter=hazard_fire_exit&lon={here[0]}&lat={here[1] + 0.0001}")
    assert [c["id"] for c in r.json()["cases"]] == [mine]
    assert r.json()["cases"][0]["distance_m"] == pytest.approx(11.1, abs=0.2)
    token = ctx.request.post(server.base + "/api/v1/token", data={"username": "worker1", "password": PASSWORD}).json()
    api = ctx.request.get(server.base + f"/api/v1/nearby?matter=hazard_fire_exit&lon={here[0]}&lat={here[1]}",
                          headers={"Authorization": f"Bearer {token['token']}"})
    assert api.status == 200 and [c["id"] for c in api.json()["cases"]] == [mine]
    # Another matter at the same place is not "the same".
    r = ctx.request.get(server.base + f"/field/api/nearby?matter=dispute_neighbour&lon={here[0]}&lat={here[1]}")
    assert r.json()["cases"] == []
    bad = ctx.request.get(server.base + "/field/api/nearby?matter=hazard_fire_exit&lon=x&lat=1")
    assert bad.status == 400
    ctx.close()


def test_a_burst_of_live_events_reloads_the_task_list_a_few_times_not_once_each(browser, server):
    """A storm publishes hundreds of messages a second and each is a reason to reload the list: the
    tablet reloads once at a time, queues one more, and waits a second between reloads."""
    ctx, page = login(browser, server, "grid_worker", size=(1280, 800))
    try:
        page.wait_for_selector("#field-root #field-send", timeout=15_000)
        page.wait_for_function("window.gridwatch.field.es && window.gridwatch.field.es.readyState === 1",
                               timeout=15_000)
        page.wait_for_timeout(1200)  # the reload of the page's start is done and a gap has passed
        asked: list[float] = []
        page.on("request", lambda r: asked.append(time.monotonic()) if "/field/api/tasks" in r.url else None)
        t0 = time.monotonic()
        page.evaluate("""() => { const es = window.gridwatch.field.es;
          for (let i = 0; i < 300; i++) es.dispatchEvent(new MessageEvent(i % 3 ? 'message' : 'batch', {data: '{}'})); }""")
        page.wait_for_timeout(3500)
        # The first at once, the queued one a second later; nothing else asked meanwhile.
        assert 1 <= len(asked) <= 3 and asked[0] - t0 < 1.0, [round(a - t0, 2) for a in asked]
        assert all(b - a >= 0.9 for a, b in zip(asked, asked[1:])), [round(a - t0, 2) for a in asked]
        # And the list still comes: the last reload drew it.
        assert page.locator("#field-tasks .gw-task").count() >= 1
    finally:
        ctx.close()


def test_a_task_whose_details_fail_to_load_asks_again_while_it_stays_open(browser, server):
    """A weak signal or a busy server: the first answer for the task's details is lost (a 503 here, put
    in the way by the browser), and the page asks again until its history and photos are shown."""
    ctx, page = login(browser, server, "grid_worker", size=(1280, 800))
    try:
        page.wait_for_selector("#field-tasks .gw-task", timeout=15_000)
        asked: list[str] = []

        def flaky(route):
            asked.append(route.request.url)
            if len(asked) == 1:
                route.fulfill(status=503, body="busy")
            else:
                route.continue_()
        page.route("**/field/api/task/*", flaky)
        page.locator("#field-tasks .gw-task").first.click()
        page.wait_for_selector("#field-task-history li", timeout=15_000)
        assert len(asked) == 2 and asked[0] == asked[1]
    finally:
        ctx.close()
