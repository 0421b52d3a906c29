"""The console on one 1600x900 screen, worked with the keyboard: thumbnails, J/K, V and X, who holds a case.

Its own camera events (street 440310002, a priority-2 matter so they raise no alarm) keep the seeded
verification event for test_console.py, whichever runs first in the session.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from tests.dashboard import griddata
from tests.dashboard.conftest import login, shot
from tests.dashboard.fit import assert_fits
from video.media import media_names

SIZE = (1600, 900)
# Generous waits (ms): the shared test machine is often loaded many times over; nothing here is timed.
WAIT = 30_000
COMMUNITY, STREET = "440310002001", "440310002"
BASE, SUB = "440310002001001", "44031000200101"  # primary worker W005 (网格员5)
MATTER = griddata.MATTERS[3]  # 消防通道堵塞, priority 2


def _snapshot(path, shade: int) -> bytes:
    import cv2
    import numpy as np

    frame = np.full((180, 320, 3), (30, 40 + shade, 120), np.uint8)
    cv2.rectangle(frame, (100, 40), (220, 150), (0, 200, 255), 4)
    ok, jpg = cv2.imencode(".jpg", frame)
    assert ok
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jpg.tobytes())
    return jpg.tobytes()


@pytest.fixture(scope="module")
def desk_cases(server, dash_db):
    """Three camera events with snapshots waiting for verification, and one returned case nobody holds."""
    now = datetime.now(timezone.utc)
    made = {"events": [], "snapshots": []}
    with psycopg.connect(dash_db[0]) as conn:
        for n in range(3):
            iid = uuid.uuid4()
            snap, clip = media_names("CAM003", f"desk-{iid.hex[:12]}", now)
            _snapshot(server.media / snap, 40 * n)
            griddata._incident(conn, iid, MATTER, "reported", 114.355 + 0.002 * n, 22.655,
                               (BASE, SUB), COMMUNITY, STREET, None, now - timedelta(minutes=10 + n),
                               queue="verification", source="camera", camera="CAM003", media=[snap, clip])
            made["events"].append(str(iid))
            made["snapshots"].append(snap)
        iid = uuid.uuid4()
        griddata._incident(conn, iid, MATTER, "returned", 114.361, 22.66, (BASE, SUB), COMMUNITY, STREET, None,
                           now - timedelta(hours=2), queue="community", source="grid_worker")
        made["unassigned"] = str(iid)
        conn.commit()
    return made


def _rows_in_order(page, table: str) -> list[str]:
    return page.evaluate(f"""() => Array.from(document.querySelectorAll('#{table} tbody tr.gw-row'))
                               .map(tr => JSON.parse(tr.id).index)""")


def _selected(page) -> str | None:
    return page.evaluate("""() => { const tr = document.querySelector('#console-verification-table tr.gw-selected');
                                     return tr ? JSON.parse(tr.id).index : null; }""")


def _shown(page, incident_id: str) -> None:
    page.wait_for_function("id => document.getElementById('console-detail-body')?.dataset.incident === id",
                           arg=incident_id, timeout=WAIT)


def _assert_columns_hold_their_content(page) -> None:
    """No tab or button runs out of its column (under the next one, where no clip would catch it)."""
    out = page.evaluate("""() => {
        const bad = [];
        for (const col of document.querySelectorAll('#console-root > div')) {
            const c = col.getBoundingClientRect();
            for (const el of col.querySelectorAll('.gw-tab, .gw-actions button, .gw-console-keys')) {
                const r = el.getBoundingClientRect();
                if (r.width && (r.left < c.left - 1 || r.right > c.right + 1 || r.bottom > c.bottom + 1))
                    bad.push(el.textContent);
            }
        }
        return bad;
    }""")
    assert out == []


def _history(url: str, incident_id: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT actor, action, from_status, to_status, note FROM incident_event "
                            "WHERE incident_id = %s ORDER BY id", (incident_id,)).fetchall()


@pytest.mark.browser
def test_console_fits_1600x900_without_page_scroll(browser, server, desk_cases):
    ctx, page = login(browser, server, "dispatcher", size=SIZE)
    page.wait_for_selector("#console-verification-table tbody tr", timeout=WAIT)
    page.wait_for_selector("#console-map .leaflet-interactive", timeout=WAIT)
    # One of this module's events, whose snapshot is on disk (the seeded one's is written only by
    # test_console.py: without it the desk shows "snapshot missing", not an image).
    first = desk_cases["events"][0]
    page.locator(f"#console-verification-table tbody tr[id*='{first}']").click()
    _shown(page, first)
    page.wait_for_selector("#console-snapshot", timeout=WAIT)
    page.wait_for_function("document.getElementById('console-snapshot').complete", timeout=WAIT)
    shot(page, "console-1600x900")
    # The page itself never scrolls at 1600x900; each panel that holds more scrolls inside.
    assert page.evaluate("[document.documentElement.scrollHeight, document.documentElement.scrollWidth]") \
        <= [900, 1600]
    assert_fits(page, allow_scroll=True)
    _assert_columns_hold_their_content(page)
    # Every tab's panel fits as well (the map column and the desk stay where they are).
    for n, tab in enumerate(("incidents", "workload", "grid", "analysis"), start=2):
        page.keyboard.press(str(n))
        page.wait_for_selector(f"#console-pane-{tab}.gw-active", timeout=5_000)
        page.wait_for_timeout(300)
        assert_fits(page, allow_scroll=True)
        shot(page, f"console-tab-{tab}-1600x900")
    ctx.close()


@pytest.mark.browser
def test_verification_queue_shows_each_snapshot_as_a_thumbnail(browser, server, desk_cases):
    ctx, page = login(browser, server, "dispatcher", size=SIZE)
    page.wait_for_selector("#console-verification-table tbody tr", timeout=WAIT)
    for iid, snap in zip(desk_cases["events"], desk_cases["snapshots"]):
        row = page.locator(f"#console-verification-table tr.gw-row[id*='{iid}']")
        thumb = row.locator("img.gw-thumb")
        assert thumb.get_attribute("src") == f"/media/{snap}"
        # Loaded from the dashboard's /media route: a real decoded image, not a broken icon.
        page.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=thumb.element_handle(),
                               timeout=WAIT)
        box = thumb.bounding_box()
        assert 80 <= box["width"] <= 120 and 40 <= box["height"] <= 70
    # The selected event shows the same snapshot large beside the list.
    page.locator(f"#console-verification-table tr.gw-row[id*='{desk_cases['events'][0]}']").click()
    _shown(page, desk_cases["events"][0])
    large = page.locator("#console-snapshot").bounding_box()
    assert large["width"] >= 3 * 96
    assert page.get_attribute("#console-snapshot", "src") == f"/media/{desk_cases['snapshots'][0]}"
    shot(page, "console-thumbnails-1600x900")
    ctx.close()


@pytest.mark.browser
def test_keyboard_only_verification(browser, server, dash_db, desk_cases):
    url = dash_db[0]
    ctx, page = login(browser, server, "dispatcher", size=SIZE)
    page.wait_for_selector("#console-verification-table tbody tr", timeout=WAIT)
    assert "J/↓" in page.inner_text("#console-keys") and "X" in page.inner_text("#console-keys")
    ours = set(desk_cases["events"])
    order = _rows_in_order(page, "console-verification-table")
    assert ours <= set(order)
    page.locator("body").focus()
    # J moves down from the top, K back up: the highlight and the detail follow.
    page.keyboard.press("j")
    page.wait_for_function("() => !!document.querySelector('#console-verification-table tr.gw-selected')",
                           timeout=WAIT)
    assert _selected(page) == order[0]
    target = next(i for i in order if i in ours)
    for _ in range(order.index(target)):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert _selected(page) == target
    _shown(page, target)
    shot(page, "console-keys-selected-1600x900")
    page.keyboard.press("v")
    page.wait_for_function("document.getElementById('console-msg').textContent.includes('已完成')", timeout=WAIT)
    # It leaves the queue and the highlight moves on to the case that took its place.
    page.wait_for_function(f"!document.querySelector('#console-verification-table tr.gw-row[id*=\"{target}\"]')",
                           timeout=WAIT)
    page.wait_for_function("() => !!document.querySelector('#console-verification-table tr.gw-selected')",
                           timeout=WAIT)
    # Move to another of our events and cancel it as a false alarm with X.
    second = None
    for _ in range(len(order)):
        if _selected(page) in ours:
            second = _selected(page)
            break
        page.keyboard.press("j")
    assert second and second != target
    _shown(page, second)
    page.keyboard.press("x")
    page.wait_for_function(f"!document.querySelector('#console-verification-table tr.gw-row[id*=\"{second}\"]')",
                           timeout=WAIT)
    shot(page, "console-keys-done-1600x900")
    ctx.close()
    # The transition history says who did what, through the one transition function.
    verified = _history(url, target)
    assert verified[-1][:4] == ("disp1", "verify", "reported", "dispatched")
    cancelled = _history(url, second)
    assert cancelled[-1][:4] == ("disp1", "cancel", "reported", "cancelled")
    assert cancelled[-1][4] == "误报"
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT status, worker_code FROM incident WHERE id = %s", (target,)).fetchone() == \
            ("dispatched", "W005")  # routed to the primary worker of its sub-grid
        assert conn.execute("SELECT status FROM incident WHERE id = %s", (second,)).fetchone() == ("cancelled",)


@pytest.mark.browser
def test_worker_column_names_the_worker_or_the_queue(browser, server, desk_cases):
    ctx, page = login(browser, server, "dispatcher", size=SIZE)
    page.wait_for_selector("#console-verification-table tbody tr", timeout=WAIT)
    waiting = page.locator("#console-verification-table tr.gw-row .gw-holder").all_inner_texts()
    assert waiting and set(waiting) == {"待核实（核实队列）"}
    page.keyboard.press("2")
    page.wait_for_selector("#console-pane-incidents.gw-active #console-queue-table tbody tr", timeout=WAIT)
    holders = dict(zip(_rows_in_order(page, "console-queue-table"),
                       page.locator("#console-queue-table tr.gw-row .gw-holder").all_inner_texts()))
    assert holders[desk_cases["unassigned"]] == "待派遣（社区队列）"
    assigned = [h for h in holders.values() if h.startswith("网格员")]
    assert assigned  # seeded cases held by 网格员1..6
    assert "网格" not in holders.values() and all(h.strip() for h in holders.values())
    shot(page, "console-incidents-1600x900")
    ctx.close()


@pytest.mark.browser
def test_console_fits_1600x900_in_english(browser, server, desk_cases):
    ctx, page = login(browser, server, "dispatcher", size=SIZE, path="/lang/en?next=/console")
    page.wait_for_selector("#console-verification-table tbody tr", timeout=WAIT)
    assert "Keys:" in page.inner_text("#console-keys")
    for n, tab in enumerate(("verification", "incidents", "workload", "grid", "analysis"), start=1):
        page.keyboard.press(str(n))
        page.wait_for_selector(f"#console-pane-{tab}.gw-active", timeout=5_000)
        page.wait_for_timeout(300)
        assert_fits(page, allow_scroll=True)
        _assert_columns_hold_their_content(page)
    shot(page, "console-en-1600x900")
    ctx.close()


def _queue_cases(url: str, ids: list[str]) -> set[tuple]:
    with psycopg.connect(url) as conn:
        return set(conn.execute("SELECT i.status, m.family, m.priority FROM incident i "
                                "JOIN matter m ON m.code = i.matter_code WHERE i.id = ANY(%s::uuid[])",
                                (ids,)).fetchall())


@pytest.mark.browser
def test_filters_picked_with_the_mouse_filter_the_queue_and_leave_the_keys_to_it(browser, server, dash_db):
    """A dispatcher narrows the incident queue with the mouse, then works it with the keys: each pick
    redraws the queue with only matching cases, and J/K move through it at once (the dropdown just used
    does not keep the keys)."""
    ctx, page = login(browser, server, "dispatcher", size=SIZE)
    try:
        page.wait_for_selector("#console-verification-table tbody tr", timeout=WAIT)
        page.keyboard.press("2")
        page.wait_for_selector("#console-pane-incidents.gw-active #console-queue-table tbody tr", timeout=WAIT)
        everything = _rows_in_order(page, "console-queue-table")
        assert len({s for s, _, _ in _queue_cases(dash_db[0], everything)}) > 1  # a filter has work to do
        picks = [("console-filter-status", "已分拨", lambda c: c[0] == "dispatched"),
                 ("console-filter-family", "排除安全隐患", lambda c: c[0] == "dispatched" and c[1] == "hazard")]
        for dropdown, option, holds in picks:
            before = _rows_in_order(page, "console-queue-table")
            page.click(f"#{dropdown}")
            page.get_by_role("option", name=option, exact=True).click()
            page.wait_for_function("before => { const ids = Array.from(document.querySelectorAll("
                                   "'#console-queue-table tbody tr.gw-row')).map(tr => JSON.parse(tr.id).index);"
                                   " return ids.length && ids.join() !== before.join(); }", arg=before, timeout=WAIT)
            rows = _rows_in_order(page, "console-queue-table")
            cases = _queue_cases(dash_db[0], rows)
            assert cases and all(holds(c) for c in cases), (option, cases)
            assert page.inner_text(f"#{dropdown}").strip().startswith(option)
            # The keys are the queue's again: J highlights the first row, J the second, K the first.
            page.wait_for_function("() => !document.activeElement.closest('.gw-filters')", timeout=WAIT)
            for key, at in (("j", 0), ("j", 1), ("k", 0)):
                page.keyboard.press(key)
                want = rows[min(at, len(rows) - 1)]
                page.wait_for_function("id => document.querySelector('#console-queue-table tr.gw-selected')"
                                       "?.id.includes(id)", arg=want, timeout=WAIT)
        shot(page, "console-filtered-1600x900")
    finally:
        ctx.close()
