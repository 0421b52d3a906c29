"""Every door of a running dashboard refuses hostile requests with a reason, and nothing is left behind.

Uploads (oversized, not an image, polyglot, decompression bomb), NUL bytes and malformed numbers,
path traversal in media names, missing or foreign CSRF, another worker's ids, a cookie kept after
logout, a disabled account, parallel password guessing. For each: the status and the door's own error
body, then the same row counts, media files and bus length as before, and the ingest worker alive.
"""

from __future__ import annotations

import http.client
import io
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests

from dashboard import login_limit
from tests.dashboard.griddata import PASSWORD
from tests.dashboard.test_doors import huge_png, small_png
from tests.dashboard.test_sessions import _account, _csrf, _login, _set
from tests.system.hostile.conftest import bearer, snapshot
from tests.system.hostile.test_openapi_fuzz import door_format

TALLY = {"sent": 0, "refused": 0}


def polyglot() -> bytes:
    """A valid PNG with a ZIP (holding a page with a script) behind its IEND chunk."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.html", "<script>alert(1)</script>")
    return small_png() + buf.getvalue()


@pytest.fixture(scope="module")
def worker(server):
    return bearer(server)


@pytest.fixture
def unchanged(server, dash_db, rds, ingest):
    """Asserts, after the test, that nothing was written, no file left and the worker still runs."""
    before = snapshot(server, dash_db[0], rds)
    yield before
    after = snapshot(server, dash_db[0], rds)
    assert after.rows == before.rows, f"rows written: {before.rows} -> {after.rows}"
    assert after.files == before.files, f"files left behind: {sorted(after.files - before.files)}"
    assert after.stream == before.stream, "something reached the incident stream"
    assert ingest.alive() and server.proc.poll() is None, "a process died"


def refused(r, status: int, code: str | None = None) -> dict:
    """The answer is `status` in its door's format (and the stable `code`, when given)."""
    TALLY["sent"] += 1
    assert r.status_code == status, (r.status_code, r.text[:300])
    problem = door_format(r.request.path_url, status, r.content)
    assert problem is None, problem
    TALLY["refused"] += 1
    body = r.json()
    if code is not None:
        assert body["code"] == code, body
    return body


def report(server, headers, photo: bytes | None = None, name="p.png", **fields):
    form = {"event_id": str(uuid.uuid4()), "matter": "dispute_neighbour", "lon": "114.31", "lat": "22.66",
            "description": "hostile", **fields}
    files = {"photo": (name, photo, "image/png")} if photo is not None else None
    return requests.post(server.base + "/api/v1/reports", headers=headers, data=form, files=files, timeout=60)


@pytest.mark.parametrize("blob, status", [
    pytest.param(lambda: b"\xff\xd8" + b"\x00" * (10 * 1024 * 1024 + 10), 413, id="over-10MB"),
    pytest.param(lambda: b"\x89PNG" + b"\x00" * (12 * 1024 * 1024 + 10), 413, id="body-over-12MB"),
    pytest.param(lambda: b"#!/bin/sh\nrm -rf /\n", 400, id="not-an-image"),
    pytest.param(lambda: b"GIF89a" + b"\x00" * 64, 400, id="gif"),
    pytest.param(polyglot, 400, id="png-zip-polyglot"),
    pytest.param(lambda: huge_png(20000, 20000), 413, id="decompression-bomb"),
    pytest.param(lambda: small_png()[:60], 400, id="truncated"),
])
def test_hostile_uploads_are_refused_and_leave_nothing(server, worker, ids, unchanged, blob, status):
    data = blob()
    refused(report(server, worker, data), status)
    # The same photo on a task action: refused as well, and the task keeps its status.
    r = requests.post(server.base + "/api/v1/actions", headers=worker, timeout=60, files={"photo": ("p.png", data)},
                      data={"event_id": str(uuid.uuid4()), "incident_id": ids["task"], "action": "resolve"})
    refused(r, status)


@pytest.mark.parametrize("field, value", [
    ("description", "a\x00b"), ("matter", "dispute\x00"), ("lon", "114\x00.3"), ("event_id", "\x00"),
    ("lon", "nan"), ("lon", "inf"), ("lat", "1e999"), ("lon", "0x72"), ("lat", ""),
    ("lat", "22,66"), ("lon", "-181"), ("event_id", "not-a-uuid"), ("observed_at", "yesterday"),
    ("matter", "x" * 5000), ("description", "x" * 100_000),
])
def test_nul_bytes_and_malformed_fields_of_a_report_are_refused(server, worker, unchanged, field, value):
    refused(report(server, worker, **{field: value}), 400)


# Python's float(), int() and uuid.UUID() read full-width and other Unicode digits ("１１４" is 114) and
# underscores: each door refuses them with a 400 naming the field (dashboard/numbers.py).
FULL_WIDTH_UUID = "１２３４５６７８-1234-4234-8234-123456789012"
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize("field, value, code", [
    ("lon", "１１４.３１", "api.bad_number"), ("lat", "22.6６", "api.bad_number"), ("lon", "١١٤.٣١", "api.bad_number"),
    ("lon", "11_4.31", "api.bad_number"), ("lat", " 22.66", "api.bad_number"), ("event_id", FULL_WIDTH_UUID, "api.bad_event_id"),
    ("not_duplicate_of", FULL_WIDTH_UUID, "api.bad_not_duplicate_of"),
])
def test_full_width_digits_in_a_report_are_refused_naming_the_field(server, worker, unchanged, field, value, code):
    body = refused(report(server, worker, **{field: value}), 400, code)
    if code == "api.bad_number":
        assert field in body["error"] and repr(value) in body["error"], body


def test_full_width_digits_at_the_other_doors_are_refused_naming_the_field(server, worker, api_key, ids, unchanged):
    # The tablet API's position on duty and in the nearby-case prompt, a task action's ids.
    body = refused(requests.post(server.base + "/api/v1/duty", headers=worker, timeout=30,
                                 data={"on_duty": "1", "lon": "１１４.３", "lat": "22.6"}), 400, "api.bad_number")
    assert "lon" in body["error"], body
    body = refused(requests.get(server.base + "/api/v1/nearby", headers=worker, timeout=30,
                                params={"matter": "dispute_neighbour", "lon": "114.3", "lat": "２２.６"}), 400, "api.bad_number")
    assert "lat" in body["error"], body
    refused(requests.post(server.base + "/api/v1/actions", headers=worker, timeout=30, data={
        "event_id": str(uuid.uuid4()), "incident_id": str(ids["task"]).translate(FULL_WIDTH),
        "action": "accept"}), 400, "api.bad_action")
    # Open311: a position and request ids, each refused in GeoReport's error list naming the field.
    r = requests.post(server.base + "/open311/v2/requests.json", timeout=30, data={
        "api_key": api_key, "service_code": "dispute_neighbour", "lat": "２２.６６", "long": "114.31"})
    assert "lat" in refused(r, 400)[0]["description"]
    r = requests.get(server.base + "/open311/v2/requests.json", params={"service_request_id": FULL_WIDTH_UUID}, timeout=30)
    assert "service_request_id" in refused(r, 400)[0]["description"]
    r = requests.get(f"{server.base}/open311/v2/requests/{FULL_WIDTH_UUID}.json", timeout=30)
    assert "service_request_id" in refused(r, 400)[0]["description"]


@pytest.mark.parametrize("form", [
    {"lat": "NaN", "long": "114.3"}, {"lat": "22.6", "long": "Infinity"}, {"lat": "9e9", "long": "114.3"},
    {"lat": "22.6\x00", "long": "114.3"}, {"service_code": "dispute_neighbour\x00"},
    {"description": "\x00"}, {"media_url": "http://[::1"}, {"media_url": "javascript:alert(1)"},
    {"media_url": "file:///etc/passwd"}, {"address_string": "a\x00"}, {"lat": "", "long": ""},
])
def test_nul_bytes_and_malformed_fields_of_open311_are_refused(server, api_key, unchanged, form):
    full = {"api_key": api_key, "service_code": "dispute_neighbour", "lat": "22.66", "long": "114.31", **form}
    refused(requests.post(server.base + "/open311/v2/requests.json", data=full, timeout=30), 400)


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/open311/v2/requests.json?start_date=2026-13-45", 400),
    ("GET", "/open311/v2/requests.json?service_request_id=1%00", 400),
    ("GET", "/open311/v2/requests/%00.json", 400),
    ("GET", "/open311/v2/requests.json?status=%27%20OR%201%3D1", 400),
    ("GET", "/api/v1/tasks/..%2F..%2Fetc%2Fpasswd", 404),
    ("GET", "/api/v1/tasks/1%27%20OR%20%271%27%3D%271", 404),
    ("GET", "/api/v1/nearby?matter=x&lon=nan&lat=1", 400),
    ("POST", "/api/v1/duty?x=%00", 400),
])
def test_malformed_queries_and_ids_are_refused(server, worker, unchanged, method, path, status):
    refused(requests.request(method, server.base + path, headers=worker, timeout=30), status)


def test_path_traversal_in_media_names_serves_nothing(server, unchanged, dash_db):
    s = _login(server, "disp1")
    others_before = _audit(dash_db)[1]
    secret = server.media.parent / "outside.txt"
    secret.write_text("secret")
    try:
        cookie = "; ".join(f"{k}={v}" for k, v in s.cookies.items())
        for name in ("../outside.txt", "..%2Foutside.txt", "%2e%2e/outside.txt", "....//outside.txt",
                     "%2Fetc%2Fpasswd", "..\\outside.txt", "x%00.png", "%252e%252e%252foutside.txt"):
            # Sent as written (requests would resolve the dots itself and never send them).
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            conn.request("GET", f"/media/{name}", headers={"Cookie": cookie})
            r = conn.getresponse()
            body = r.read()
            conn.close()
            TALLY["sent"] += 1
            assert b"secret" not in body and b"root:" not in body, name
            # 404, or (a path Werkzeug does not route to /media at all) the page shell, never a file.
            assert r.status in (404, 400) or r.status == 200 and r.getheader("Content-Type", "").startswith(
                "text/html") and b"<!DOCTYPE html>" in body[:100], (name, r.status)
            TALLY["refused"] += 1
    finally:
        secret.unlink()
    # Media views, misses included, are logged: that is the one thing these requests may write.
    total, others = _audit(dash_db)
    assert others == others_before
    unchanged.rows["audit_log"] = total


def _audit(dash_db) -> tuple[int, int]:
    with psycopg.connect(dash_db[0]) as conn:
        return conn.execute("SELECT count(*), count(*) FILTER (WHERE action <> 'media_view') FROM audit_log").fetchone()


def test_missing_or_foreign_csrf_is_refused_in_the_tablets_format(server, unchanged):
    s = _login(server, "worker1")
    form = {"event_id": str(uuid.uuid4()), "matter": "dispute_neighbour", "lon": "114.31", "lat": "22.66"}
    refused(s.post(server.base + "/field/api/report", data=form, timeout=30), 403, "api.csrf")
    refused(s.post(server.base + "/field/api/report", data=form, headers={"X-CSRFToken": "forged"}, timeout=30),
            403, "api.csrf")
    refused(s.post(server.base + "/field/api/report", data=form, timeout=30,
                   headers={**_csrf(s), "Origin": "http://evil.example"}), 403, "api.csrf")
    # Another session's token does not fit this one.
    other = _login(server, "worker1")
    refused(s.post(server.base + "/field/api/duty", data={"on_duty": "1"}, headers=_csrf(other), timeout=30),
            403, "api.csrf")


def test_another_workers_ids_are_not_found(server, dash_db, ids, unchanged):
    with psycopg.connect(dash_db[0]) as conn:
        other = conn.execute("SELECT code FROM grid_worker WHERE code <> 'W001' ORDER BY code LIMIT 1").fetchone()[0]
    name = _account(dash_db, "grid_worker", worker=other)
    unchanged.rows["app_user"] += 1  # the account made for this test
    headers = bearer(server, name)
    refused(requests.get(f"{server.base}/api/v1/tasks/{ids['task']}", headers=headers, timeout=30), 404, "api.no_task")
    for action in ("accept", "start", "resolve", "return"):
        refused(requests.post(f"{server.base}/api/v1/actions", headers=headers, timeout=30, data={
            "event_id": str(uuid.uuid4()), "incident_id": ids["task"], "action": action, "note": "x"}), 404, "api.no_task")


def test_a_cookie_kept_after_logout_and_a_disabled_account_are_refused(server, dash_db, unchanged):
    name = _account(dash_db, "grid_worker", worker="W001")
    unchanged.rows["app_user"] += 1
    s = _login(server, name)
    saved, csrf = dict(s.cookies), _csrf(s)
    assert s.post(server.base + "/logout", headers=csrf, allow_redirects=False, timeout=30).status_code == 303
    form = {"event_id": str(uuid.uuid4()), "matter": "dispute_neighbour", "lon": "114.31", "lat": "22.66"}
    for path, data in (("/field/api/report", form), ("/field/api/duty", {"on_duty": "1"})):
        # Who before CSRF: the refusal says the session is gone, not that the (gone) token did not match.
        r = requests.post(server.base + path, cookies=saved, headers=csrf, data=data, timeout=30)
        refused(r, 401, "api.session_ended")
    # A Dash callback answers in plain text, with the same reason.
    r = requests.post(server.base + "/_dash-update-component", cookies=saved, headers=csrf, json={}, timeout=30)
    assert r.status_code == 401 and ("log in again" in r.text or "重新登录" in r.text), (r.status_code, r.text[:200])
    refused(requests.get(server.base + "/field/api/tasks", cookies=saved, timeout=30), 401)
    # Disabled: its live session and its bearer token both stop at once.
    s2, token = _login(server, name), bearer(server, name)
    saved2, csrf2 = dict(s2.cookies), _csrf(s2)
    _set(dash_db, name, disabled=True)
    try:
        r = s2.post(server.base + "/field/api/report", headers=_csrf(s2), data=form, timeout=30)
        # Its session is ended before the CSRF check and the refusal says so: 401, not a CSRF 403.
        refused(r, 401, "api.session_ended")
        # The session stays ended: a saved copy of its cookie finds no session behind it.
        refused(requests.post(server.base + "/field/api/duty", cookies=saved2, headers=csrf2, data={"on_duty": "1"},
                              timeout=30), 401, "api.session_ended")
        refused(report(server, token), 401, "api.token_required")
        refused(requests.post(server.base + "/api/v1/token", data={"username": name, "password": PASSWORD},
                              timeout=30), 401)
    finally:
        _set(dash_db, name, disabled=False)


def test_fifteen_wrong_and_one_right_password_at_once(server, dash_db, rds, unchanged):
    name = _account(dash_db, "grid_worker", worker="W001")
    unchanged.rows["app_user"] += 1
    passwords = ["wrong-%d" % i for i in range(15)] + [PASSWORD]

    def attempt(pw):
        return requests.post(server.base + "/api/v1/token", data={"username": name, "password": pw}, timeout=60)

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(attempt, passwords))
        wrong = [a.status_code for a in answers[:15]]
        # At most the limit's five wrong passwords were verified; every other guess got a 429 untried.
        assert wrong.count(401) <= login_limit.NAME_LIMIT and wrong.count(401) + wrong.count(429) == 15, wrong
        for a in answers[:15]:
            refused(a, a.status_code, "api.wrong_password" if a.status_code == 401 else "api.rate_limited")
        right = answers[15]
        # The right password got in only if it took one of the slots; it never opens a sixth.
        assert right.status_code in (200, 429), right.text
        assert wrong.count(401) + (right.status_code == 200) <= login_limit.NAME_LIMIT
        print(f"parallel guessing: {wrong.count(401)} verified wrong, {wrong.count(429)} refused untried, "
              f"right password {right.status_code}")
    finally:
        # This suite logs in from one address: give back its address count so later tests keep their tries.
        for key in rds.scan_iter(login_limit.ADDRESS_KEY + "*"):
            rds.delete(key)


def test_zz_tally(capsys):
    with capsys.disabled():
        print(f"\nhostile doors: {TALLY['sent']} requests sent, {TALLY['refused']} refused in their door's format")
