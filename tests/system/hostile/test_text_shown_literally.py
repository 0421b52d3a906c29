"""SQL-injection and script strings in every text field, then every page that shows them, in Chromium.

Each field gets its own tagged payload; after ingest has stored the reports, the console (dispatcher),
the tablet (grid worker), the wall and the cameras page are opened with a flag any injected script
would set and a dialog handler. Nothing may run, the text must read back literally, and the tables
the SQL would have dropped are still there with the rows counted.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
import requests

from tests.dashboard.conftest import login
from tests.system.hostile.conftest import bearer, wait_for

SCRIPT = ('<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
          '<svg onload="window.__pwned=1"></svg>')
SQL = "'); DROP TABLE incident; -- ' OR '1'='1"
# Before any page script: any injected script sets the flag, any alert() is recorded.
GUARD = "window.__pwned = 0;"


def payload(tag: str) -> str:
    return f"{tag} {SQL} {SCRIPT}"


@pytest.fixture(scope="module")
def planted(server, dash_db, ids, api_key, ingest):
    """The payloads sent through each door that takes text, and the incidents that hold them."""
    worker = bearer(server)
    report_id = str(uuid.uuid4())
    r = requests.post(server.base + "/api/v1/reports", headers=worker, timeout=30, data={
        "event_id": report_id, "matter": "dispute_neighbour", "lon": "114.321", "lat": "22.661",
        "description": payload("tablet-description")})
    assert r.status_code == 200, r.text
    r = requests.post(server.base + "/open311/v2/requests.json", timeout=30, data={
        "api_key": api_key, "service_code": "dispute_neighbour", "lat": "22.671", "long": "114.331",
        "description": payload("open311-description"), "address_string": payload("open311-address"),
        "first_name": payload("open311-name"), "media_url": 'http://example.com/a.png?"><script>window.__pwned=1</script>'})
    assert r.status_code == 201, r.text
    open311_id = r.json()[0]["service_request_id"]
    r = requests.post(server.base + "/api/v1/actions", headers=worker, timeout=30, data={
        "event_id": str(uuid.uuid4()), "incident_id": ids["task"], "action": "accept", "note": payload("tablet-note")})
    assert r.status_code == 200, r.text

    def stored():
        with psycopg.connect(dash_db[0]) as conn:
            return conn.execute("SELECT count(*) FROM incident WHERE id = ANY(%s)",
                                ([report_id, open311_id],)).fetchone()[0] == 2
    assert wait_for(stored, 30), "ingest did not store the reports"
    return {"report": report_id, "open311": open311_id, "task": ids["task"]}


def guarded(browser, server, role: str):
    ctx, page = login(browser, server, role)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    ctx.add_init_script(GUARD)
    return ctx, page, dialogs


def assert_nothing_ran(page, dialogs) -> None:
    assert page.evaluate("window.__pwned") == 0, "an injected script ran"
    assert dialogs == []
    # Not parsed as markup either: no element from the payloads exists.
    assert page.locator("img[src='x'], svg[onload], script:text('__pwned')").count() == 0


def test_the_sql_reached_the_database_as_text(planted, dash_db):
    with psycopg.connect(dash_db[0]) as conn:
        n = conn.execute("SELECT count(*) FROM incident").fetchone()[0]
        desc = conn.execute("SELECT description FROM incident WHERE id = %s", (planted["report"],)).fetchone()[0]
        note = conn.execute("SELECT note FROM incident_event WHERE incident_id = %s AND note LIKE 'tablet-note%%'",
                            (planted["task"],)).fetchone()[0]
    assert n >= 40 and desc == payload("tablet-description") and note == payload("tablet-note")


@pytest.mark.browser
def test_the_console_shows_every_payload_literally(browser, server, planted):
    ctx, page, dialogs = guarded(browser, server, "dispatcher")
    try:
        page.goto(server.base + "/console")
        page.wait_for_selector("#console-root", state="attached", timeout=15_000)
        for key, tag in (("report", "tablet-description"), ("task", "tablet-note"), ("open311", "open311-description")):
            page.evaluate("id => window.dash_clientside.set_props('console-selected', {data: id})", planted[key])
            page.wait_for_selector(f"#console-detail-body[data-incident='{planted[key]}']", state="attached",
                                   timeout=15_000)
            assert payload(tag) in page.locator("#console-detail-body").text_content(), f"{tag} not shown literally"
        # Open311's foreign media_url (shown last) is a link with its text, never an image the browser loads.
        links = page.locator("#console-detail-body a[href^='http://example.com']")
        assert links.count() >= 1 and page.locator("#console-detail-body img[src^='http://example.com']").count() == 0
        page.wait_for_timeout(500)
        assert_nothing_ran(page, dialogs)
    finally:
        ctx.close()


@pytest.mark.browser
def test_the_tablet_shows_the_note_literally(browser, server, planted):
    ctx, page, dialogs = guarded(browser, server, "grid_worker")
    try:
        page.goto(server.base + "/field")
        page.wait_for_selector(f"#field-tasks button[data-id='{planted['task']}']", timeout=15_000)
        page.click(f"#field-tasks button[data-id='{planted['task']}']")
        page.wait_for_selector("#field-task-history li", timeout=10_000)
        assert payload("tablet-note") in page.locator("#field-task-history").inner_text()
        page.wait_for_timeout(500)
        assert_nothing_ran(page, dialogs)
    finally:
        ctx.close()


@pytest.mark.browser
@pytest.mark.parametrize("role, path, root", [("wall", "/wall", "#wall-root"), ("maintenance", "/cameras", "#cameras-root")])
def test_the_wall_and_cameras_run_nothing_while_payloads_arrive_live(browser, server, planted, api_key, role, path,
                                                                      root):
    ctx, page, dialogs = guarded(browser, server, role)
    try:
        page.goto(server.base + path)
        page.wait_for_selector(root, state="attached", timeout=15_000)
        page.wait_for_timeout(1500)  # the live feed is open
        # A fresh payload arrives on the live feed while the page watches.
        r = requests.post(server.base + "/open311/v2/requests.json", timeout=30, data={
            "api_key": api_key, "service_code": "crime_crowd", "lat": "22.662", "long": "114.312",
            "description": payload(f"live-{role}")})
        assert r.status_code in (201, 404), r.text
        page.wait_for_timeout(3000)
        assert_nothing_ran(page, dialogs)
    finally:
        ctx.close()
