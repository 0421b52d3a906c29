"""The console in a storm: queues capped at 200 rows that say "+N" for the rest, "acknowledge all" for
alarms (checked on the server: role, scope, the newest alarm the list showed), and snapshots whose file is
gone shown as "snapshot missing" rather than a broken image. Its own database and server: it adds
hundreds of cases."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import cv2
import numpy as np
import psycopg
import pytest

from geodata.bus.messages import Source
from tests.dashboard import griddata
from tests.dashboard.conftest import csrf_headers, login, shot
from tests.dashboard.fit import assert_fits
from tests.dashboard.own_rig import ingest, message, own_dashboard
from video.media import media_names

SIZE = (1600, 900)
CAP = 200
ALARMS = 230    # priority-1 camera events in street 440310002: alarms, and the verification queue's rows
REPORTS = 210   # grid workers' reports there: the incident queue
STEP = 0.002    # 200 m apart, four times the merge radius: each report is a case of its own
STREET2 = (114.351, 22.651)  # 坑梓社区 (440310002001), the other supervisor's street


def _lattice(n: int) -> list[tuple[float, float]]:
    cols = 24
    return [(STREET2[0] + STEP * (k % cols), STREET2[1] + STEP * (k // cols)) for k in range(n)]


@pytest.fixture(scope="module")
def rig(admin_url, template_db, dash_redis, tmp_path_factory):
    media = tmp_path_factory.mktemp("queues-media")
    with own_dashboard(admin_url, template_db, dash_redis, media, "gw_queues") as (url, ids, srv):
        ingest(url, [message("crime_intrusion", lon, lat, source=Source.CAMERA, description="storm")
                     for lon, lat in _lattice(ALARMS)])
        ingest(url, [message("dispute_neighbour", lon, lat, description="queue") for lon, lat in _lattice(REPORTS)])
        yield url, ids, srv


def _count(url: str, query: str, params=()) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchone()[0]


def _console(browser, srv, username: str):
    ctx, page = login(browser, srv, "supervisor", size=SIZE, username=username)
    page.wait_for_selector("#console-root", timeout=30_000)  # a supervisor lands on the console
    page.wait_for_selector("#console-verification-table tbody tr", timeout=30_000)
    return ctx, page


def _table(page, table: str) -> dict:
    # The "+N" line ends the list: scrolled to, it is in view inside the panel.
    return page.evaluate("""(id) => {
        const t = document.getElementById(id), pane = t.closest('.gw-console-scroll');
        const foot = t.querySelector('tfoot td');
        if (foot) foot.scrollIntoView({block: 'end'});
        const p = pane.getBoundingClientRect(), f = foot && foot.getBoundingClientRect();
        return {rows: t.querySelectorAll('tbody tr').length, more: foot ? foot.textContent : null,
                inView: !!f && f.height > 0 && f.top >= p.top - 1 && f.bottom <= p.bottom + 1 && f.bottom <= innerHeight};
    }""", table)


@pytest.mark.browser
def test_queues_list_200_rows_and_say_how_many_more(browser, rig):
    url, _ids, srv = rig
    waiting = _count(url, "SELECT count(*) FROM incident WHERE street_code = '440310002' AND status = 'reported' "
                          "AND queue = 'verification'")
    working = _count(url, "SELECT count(*) FROM incident WHERE street_code = '440310002' AND status NOT IN "
                          "('closed', 'cancelled') AND NOT (status = 'reported' AND queue = 'verification')")
    assert waiting == ALARMS and working > CAP
    ctx, page = _console(browser, srv, griddata.OTHER_SUPERVISOR[0])
    try:
        page.wait_for_function(f"document.getElementById('console-tab-count-verification').textContent === '({waiting})'",
                               timeout=60_000)
        ver = _table(page, "console-verification-table")
        assert ver["rows"] == CAP and ver["inView"], ver
        assert ver["more"].startswith(f"+{waiting - CAP} ") and f"共 {waiting} 条" in ver["more"], ver
        assert_fits(page, allow_scroll=True)
        shot(page, "console-capped-verification-1600x900")
        # The incident queue (its tab's pane, read in place): 200 rows, "+N" and the whole count on the tab.
        page.wait_for_function(f"document.getElementById('console-tab-count-incidents').textContent === '({working})'",
                               timeout=60_000)
        inc = page.evaluate("""() => { const t = document.getElementById('console-queue-table');
            const foot = t.querySelector('tfoot td');
            return {rows: t.querySelectorAll('tbody tr').length, more: foot ? foot.textContent : null}; }""")
        assert inc["rows"] == CAP and inc["more"].startswith(f"+{working - CAP} "), inc
    finally:
        ctx.close()


def _alarms_acked(url: str, actor: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT target FROM audit_log WHERE action = 'alarm_ack' AND actor = %s",
                                           (actor,))}


def _callback_body(ctx, srv, seen) -> dict:
    deps = ctx.request.get(srv.base + "/_dash-dependencies").json()
    dep = next(d for d in deps if any(i["id"] == "console-ack-all" for i in d["inputs"]))
    value = {"console-ack-all": 1, "console-done": 0, "console-alarm-seen": seen}
    inputs = [[] if i["id"].startswith("{") else {"id": i["id"], "property": i["property"], "value": value.get(i["id"])}
              for i in dep["inputs"]]
    state = [{"id": s["id"], "property": s["property"], "value": value.get(s["id"])} for s in dep["state"]]
    outputs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1].split("@")[0]}
               for o in dep["output"].strip(".").split("...")]
    return {"output": dep["output"], "outputs": outputs, "inputs": inputs, "state": state,
            "changedPropIds": ["console-ack-all.n_clicks"]}


@pytest.mark.browser
def test_acknowledge_all_takes_the_alarms_shown_in_scope_and_no_newer_one(browser, rig):
    url, ids, srv = rig
    ctx, page = _console(browser, srv, griddata.OTHER_SUPERVISOR[0])
    try:
        page.wait_for_function(f"document.getElementById('console-ack-all').textContent.includes('{ALARMS}')",
                               timeout=60_000)
        listed = page.eval_on_selector_all("#console-alarms li", "ls => ls.map(l => l.textContent)")
        assert listed[-1] == f"+{ALARMS - 20}" and len(listed) == 21
        # The list stops refreshing (as if the click came at once), then a new alarm arrives unseen.
        page.evaluate("window.dash_clientside.set_props('console-interval', {disabled: true})")
        newer = message("crime_crowd", STREET2[0] + 0.0301, STREET2[1] + 0.09, source=Source.CAMERA)
        assert ingest(url, [newer]).created == 1
        page.click("#console-ack-all")
        page.wait_for_function(f"document.getElementById('console-msg').textContent.includes('已确认 {ALARMS} 条警报')",
                               timeout=60_000)
        acked = _alarms_acked(url, griddata.OTHER_SUPERVISOR[0])
        with psycopg.connect(url) as conn:
            in_street = {r[0] for r in conn.execute(
                "SELECT id::text FROM incident WHERE description = 'storm' AND street_code = '440310002'")}
        assert acked == in_street and len(acked) == ALARMS
        assert str(newer.event_id) not in acked        # arrived after the list: not acknowledged unseen
        assert ids["alarm"] not in acked               # another street's alarm: outside the scope
        # One audit row per alarm, with the role, as acknowledging one by one writes.
        assert _count(url, "SELECT count(*) FROM audit_log WHERE action = 'alarm_ack' AND actor = %s "
                           "AND data->>'role' = 'supervisor'", (griddata.OTHER_SUPERVISOR[0],)) == ALARMS
        # The list is redrawn from the database: only the newer alarm is left.
        page.wait_for_function("document.querySelectorAll('#console-alarms li button').length === 1", timeout=60_000)
        assert "（1）" in page.inner_text("#console-ack-all")
        assert_fits(page, allow_scroll=True)
        shot(page, "console-ack-all-1600x900")

        # The server checks what the browser sends: a made-up "newest shown" is refused by name ...
        body = _callback_body(ctx, srv, "yesterday")
        r = ctx.request.post(srv.base + "/_dash-update-component", data=json.dumps(body),
                             headers={**csrf_headers(ctx), "Content-Type": "application/json"})
        assert r.status == 400 and "ISO 8601" in r.text()
        # ... and a far-future one still acknowledges nothing outside the user's scope.
        body = _callback_body(ctx, srv, datetime(2999, 1, 1, tzinfo=timezone.utc).isoformat())
        r = ctx.request.post(srv.base + "/_dash-update-component", data=json.dumps(body),
                             headers={**csrf_headers(ctx), "Content-Type": "application/json"})
        assert r.status == 200
        assert r.json()["response"]["console-msg"]["children"] == "已确认 1 条警报"
        assert ids["alarm"] not in _alarms_acked(url, griddata.OTHER_SUPERVISOR[0])
    finally:
        ctx.close()
    # A role without the console is refused before anything is written.
    wctx, _page = login(browser, srv, "grid_worker", size=SIZE)
    try:
        before = _count(url, "SELECT count(*) FROM audit_log WHERE action = 'alarm_ack'")
        body = _callback_body(wctx, srv, datetime(2999, 1, 1, tzinfo=timezone.utc).isoformat())
        r = wctx.request.post(srv.base + "/_dash-update-component", data=json.dumps(body),
                              headers={**csrf_headers(wctx), "Content-Type": "application/json"})
        assert r.status == 403
        assert _count(url, "SELECT count(*) FROM audit_log WHERE action = 'alarm_ack'") == before
    finally:
        wctx.close()


def _jpeg() -> bytes:
    ok, jpg = cv2.imencode(".jpg", np.dstack([np.full((90, 160), v, np.uint8) for v in (60, 120, 200)]))
    assert ok
    return jpg.tobytes()


BROKEN = "() => Array.from(document.images).filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)"


@pytest.mark.browser
def test_a_snapshot_whose_file_is_missing_says_so_instead_of_a_broken_image(browser, rig):
    url, ids, srv = rig
    # One camera event whose snapshot is on disk, beside the seeded one whose files were never written.
    present = media_names("CAM001", f"present-{uuid.uuid4().hex[:6]}", datetime.now(timezone.utc))
    (srv.media / present[0]).parent.mkdir(parents=True, exist_ok=True)
    (srv.media / present[0]).write_bytes(_jpeg())
    shown = message("hazard_fire_exit", 114.3121, 22.6652, source=Source.CAMERA, media=tuple(present))
    assert ingest(url, [shown]).created == 1
    missing_snapshot = griddata.VERIFICATION_MEDIA[0]
    assert not (srv.media / missing_snapshot).exists()
    ctx, page = _console(browser, srv, griddata.ACCOUNTS["supervisor"][0])
    try:
        # No redraw from the server halfway: the last step swaps a file under a row already drawn.
        page.evaluate("window.dash_clientside.set_props('console-interval', {disabled: true})")
        rows = {r[0]: r[1] for r in page.eval_on_selector_all(
            "#console-verification-table tbody tr", "rs => rs.map(r => [JSON.parse(r.id).index, "
            "r.querySelector('td').innerHTML])")}
        assert 'data-media-missing="1"' in rows[ids["verification"]] and "抓拍缺失" in rows[ids["verification"]]
        assert "<img" in rows[str(shown.event_id)]
        page.wait_for_function(f"document.querySelector(\"img.gw-thumb[src='/media/{present[0]}']\").naturalWidth === 160",
                               timeout=45_000)
        # The selected case's large snapshot: the placeholder too.
        page.click("#console-verification-table tr:has-text('人员异常聚集')")
        page.wait_for_selector(f"#console-detail-body[data-incident='{ids['verification']}']", timeout=45_000)
        assert page.inner_text("#console-detail-body .gw-evidence-missing") == "抓拍缺失"
        assert page.locator("#console-snapshot").count() == 0
        # A file removed after the list was drawn: the browser's 404 turns into the drawn card, not the icon.
        (srv.media / present[0]).unlink()
        page.evaluate("""(src) => { const i = document.querySelector(`img.gw-thumb[src='${src}']`);
                                   i.src = src + '?again'; }""", f"/media/{present[0]}")
        page.wait_for_selector("img.gw-thumb[data-media-missing='1']", timeout=45_000)
        page.wait_for_function(f"({BROKEN})().length === 0", timeout=45_000)
        assert page.get_attribute("img.gw-thumb[data-media-missing='1']", "alt") == "图片缺失"
        shot(page, "console-snapshot-missing-1600x900")
        # The route itself: a JSON 404 naming the file, and the miss is in the access log.
        r = ctx.request.get(srv.base + f"/media/{missing_snapshot}")
        assert r.status == 404 and r.headers["content-type"].startswith("application/json")
        assert r.json()["code"] == "media.not_found" and missing_snapshot in r.json()["error"]
        assert _count(url, "SELECT count(*) FROM audit_log WHERE action = 'media_view' AND target = %s",
                      (missing_snapshot,)) >= 1
    finally:
        ctx.close()
