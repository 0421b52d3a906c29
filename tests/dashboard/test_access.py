"""Every page, callback and route, called as every role (and anonymously), answers as access.py says."""

from __future__ import annotations

import http.client
import json
import re

import psycopg
import pytest

from dashboard import access
from tests.dashboard import griddata

ROLES = list(griddata.ACCOUNTS)
ALLOWED = (200, 204)


def api_login(browser, server, username: str | None):
    """A browser context with a session for `username` (None: anonymous), logged in over HTTP."""
    ctx = browser.new_context()
    if username is None:
        return ctx
    page = ctx.request.get(server.base + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text()).group(1)
    r = ctx.request.post(server.base + "/login", form={"username": username, "password": griddata.PASSWORD,
                                                        "csrf_token": token}, max_redirects=0)
    assert r.status == 303, r.text()
    return ctx


def csrf(ctx) -> dict:
    return {"X-CSRFToken": next((c["value"] for c in ctx.cookies() if c["name"] == "_csrf_token"), "")}


@pytest.fixture(scope="module")
def sessions(browser, server):
    made = {role: api_login(browser, server, griddata.ACCOUNTS[role][0]) for role in ROLES}
    made[None] = api_login(browser, server, None)
    yield made
    for ctx in made.values():
        ctx.close()


@pytest.fixture(scope="module")
def callbacks(sessions, server):
    deps = sessions["admin"].request.get(server.base + "/_dash-dependencies").json()
    return [d for d in deps if not d.get("clientside_function") and "_pages_" not in d["output"]]


def _prop(dep_id: str, prop: str, value=None):
    if dep_id.startswith("{"):
        return []  # a pattern-matching ALL input with no matching components
    return {"id": dep_id, "property": prop, "value": value}


def _payload(dep: dict) -> dict:
    outs = [o for o in dep["output"].strip(".").split("...")]
    outputs = []
    for o in outs:
        oid, prop = o.rsplit(".", 1)
        outputs.append({"id": oid, "property": prop.split("@")[0]})
    inputs = [_prop(i["id"], i["property"]) for i in dep["inputs"]]
    first = dep["inputs"][0]
    return {"output": dep["output"], "outputs": outputs if len(outputs) > 1 else outputs[0], "inputs": inputs,
            "state": [_prop(s["id"], s["property"]) for s in dep["state"]],
            "changedPropIds": [f"{first['id']}.{first['property']}"]}


def _page_of_callback(dep: dict) -> str:
    first = dep["output"].strip(".").split("...")[0]
    return first.split("-", 1)[0]


def test_every_callback_answers_by_the_table(sessions, callbacks, server):
    assert len(callbacks) >= 10  # wall, console and cameras callbacks are all registered
    for dep in callbacks:
        page = _page_of_callback(dep)
        assert page in access.PAGE_ROLES, f"callback output {dep['output']} is not prefixed by a page name"
        for role, ctx in sessions.items():
            r = ctx.request.post(server.base + "/_dash-update-component", data=json.dumps(_payload(dep)),
                                 headers={**csrf(ctx), "Content-Type": "application/json"})
            if role is None:
                expected = {401, 403}
            elif access.may_open(role, page):
                expected = set(ALLOWED)
            else:
                expected = {403}
            assert r.status in expected, f"{dep['output']} as {role}: {r.status} {r.text()[:200]}"


def test_every_page_answers_by_the_table(sessions, server):
    for page, path in access.PAGE_PATHS.items():
        for role, ctx in sessions.items():
            r = ctx.request.get(server.base + path, max_redirects=0)
            if role is None:
                assert r.status == 303 and "/login" in r.headers["location"], (path, r.status)
            elif page == "home":
                assert r.status == 303 and r.headers["location"].endswith(access.LANDING[role])
            elif access.may_open(role, page):
                assert r.status == 200, (path, role, r.status)
            else:
                assert r.status == 403, (path, role, r.status)


def test_page_router_refuses_a_page_the_role_may_not_open(sessions, server):
    """Client-side navigation goes through Dash's router callback; the layout itself refuses."""
    body = {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/console"},
                       {"id": "_pages_location", "property": "search", "value": ""}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}
    for role in ROLES:
        ctx = sessions[role]
        r = ctx.request.post(server.base + "/_dash-update-component", data=json.dumps(body),
                             headers={**csrf(ctx), "Content-Type": "application/json"})
        assert r.status == 200
        shows_console = "console-root" in r.text()
        assert shows_console == access.may_open(role, "console"), role


def _route_calls(ids):
    return {
        "/login": ("GET", "/login", None),
        "/healthz": ("GET", "/healthz", None),
        "/field-sw.js": ("GET", "/field-sw.js", None),
        "/logout": ("POST", "/logout", {}),
        "/lang/<lang_code>": ("GET", "/lang/zh", None),
        "/live": ("STREAM", "/live", None),
        "/media/<path:name>": ("GET", "/media/none/missing.jpg", None),
        # No such camera: allowed roles get 404 at once (no stream to hold open); tests/dashboard/test_camera_live.py
        # watches real ones.
        "/cameras/<code>/live": ("GET", "/cameras/NO-SUCH-CAM/live", None),
        "/cameras/<code>/live/status": ("GET", "/cameras/NO-SUCH-CAM/live/status", None),
        "/field/api/tasks": ("GET", "/field/api/tasks", None),
        "/field/api/task/<incident_id>": ("GET", f"/field/api/task/{ids['task']}", None),
        "/field/api/report": ("POST", "/field/api/report", {"event_id": "not-a-uuid"}),
        "/field/api/action": ("POST", "/field/api/action", {"event_id": "x"}),
        "/field/api/duty": ("POST", "/field/api/duty", {"on_duty": "1"}),
        "/field/api/nearby": ("GET", "/field/api/nearby?matter=hazard_fire_exit&lon=114.31&lat=22.66", None),
        "/reports/csv": ("GET", "/reports/csv?from=2026-01-05&to=2026-01-11&level=street", None),
        "/reports/print": ("GET", "/reports/print?from=2026-01-05&to=2026-01-11&level=street", None),
    }


def _stream_status(server, ctx) -> int:
    # Read the status line only: the stream itself never ends.
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in ctx.cookies())
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    conn.request("GET", "/live", headers={"Cookie": cookie})
    status = conn.getresponse().status
    conn.close()
    return status


def test_every_route_answers_by_the_table(browser, server, ids):
    calls = _route_calls(ids)
    assert set(calls) == set(access.ROUTE_ROLES), "a route of access.ROUTE_ROLES has no call in this test"
    for role in ROLES + [None]:
        # One session per role; /logout ends the session it is called with, so it is called last. (A login per
        # call, 140 argon2 checks on the server, was most of this test's time.)
        ctx = api_login(browser, server, griddata.ACCOUNTS[role][0] if role else None)
        for rule, (method, url, form) in sorted(calls.items(), key=lambda c: c[0] == "/logout"):
            if method == "STREAM":
                status = _stream_status(server, ctx)
            elif method == "GET":
                status = ctx.request.get(server.base + url, max_redirects=0).status
            else:
                status = ctx.request.post(server.base + url, form=form, headers=csrf(ctx), max_redirects=0).status
            roles = access.ROUTE_ROLES[rule]
            if roles is access.PUBLIC:
                assert status == 200, (rule, role, status)
            elif role is None:
                assert status in (401, 403), (rule, role, status)
            elif role in roles:
                assert status not in (401, 403), (rule, role, status)
            else:
                assert status == 403, (rule, role, status)
        ctx.close()


def test_media_views_are_logged(sessions, server, dash_db):
    ctx = sessions["maintenance"]
    ctx.request.get(server.base + "/media/snapshots/CAM001/latest.jpg")
    with psycopg.connect(dash_db[0]) as conn:
        row = conn.execute("SELECT actor, target FROM audit_log WHERE action = 'media_view' "
                           "AND target = 'snapshots/CAM001/latest.jpg' ORDER BY id DESC LIMIT 1").fetchone()
    assert row == ("maint1", "snapshots/CAM001/latest.jpg")


def test_state_changing_requests_need_the_csrf_token(sessions, server):
    ctx = sessions["grid_worker"]
    r = ctx.request.post(server.base + "/field/api/duty", form={"on_duty": "1"})
    assert r.status == 403
    r = ctx.request.post(server.base + "/field/api/duty", form={"on_duty": "1"},
                         headers={**csrf(ctx), "Origin": "http://evil.example"})
    assert r.status == 403
    r = ctx.request.post(server.base + "/field/api/duty", form={"on_duty": "1"}, headers=csrf(ctx))
    assert r.status == 200 and r.json()["on_duty"] is True


def test_session_cookie_flags(browser, server):
    ctx = api_login(browser, server, "disp1")
    cookie = next(c for c in ctx.cookies() if c["name"] == "gridwatch_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain HTTP in tests; Secure is set when served with TLS
    ctx.close()


def test_login_is_rate_limited(browser, server):
    ctx = browser.new_context()
    statuses = []
    for _ in range(7):
        token = re.search(r'name="csrf_token" value="([^"]+)"', ctx.request.get(server.base + "/login").text()).group(1)
        r = ctx.request.post(server.base + "/login", form={"username": "admin1", "password": "wrong-password",
                                                            "csrf_token": token}, max_redirects=0)
        statuses.append(r.status)
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
    # Even the right password is refused while limited.
    token = re.search(r'name="csrf_token" value="([^"]+)"', ctx.request.get(server.base + "/login").text()).group(1)
    r = ctx.request.post(server.base + "/login", form={"username": "admin1", "password": griddata.PASSWORD,
                                                        "csrf_token": token}, max_redirects=0)
    assert r.status == 429
    ctx.close()


def test_supervisor_sees_only_its_street(sessions, server, ids):
    body = {"output": "..console-verification.children...console-queue.children...console-alarms.children..."
                      "console-workload.children...console-ack-all.children...console-ack-all.disabled..."
                      "console-alarm-seen.data..",
            "outputs": [{"id": i, "property": "children"} for i in
                        ("console-verification", "console-queue", "console-alarms", "console-workload")]
                       + [{"id": "console-ack-all", "property": "children"},
                          {"id": "console-ack-all", "property": "disabled"},
                          {"id": "console-alarm-seen", "property": "data"}],
            "inputs": [{"id": i, "property": p, "value": v} for i, p, v in (
                ("console-filter-status", "value", None), ("console-filter-family", "value", None),
                ("console-filter-priority", "value", None), ("console-filter-overdue", "value", []),
                ("console-interval", "n_intervals", None), ("console-done", "data", 0))],
            "changedPropIds": ["console-done.data"], "state": []}
    seen = {}
    for name in ("sup1", "sup2"):
        ctx = api_login(sessions["admin"].browser, server, name)
        r = ctx.request.post(server.base + "/_dash-update-component", data=json.dumps(body),
                             headers={**csrf(ctx), "Content-Type": "application/json"})
        assert r.status == 200
        seen[name] = r.text()
        ctx.close()
    assert ids["verification"] in seen["sup1"]  # street 440310001
    assert ids["verification"] not in seen["sup2"]  # street 440310002
