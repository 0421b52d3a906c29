"""Every machine door refuses bad input with a reason in its own format, and leaves nothing behind.

Over HTTP against the real server: photo limits (header first, pixel count, polyglots), NUL bytes,
malformed URLs, unknown paths under /open311/ and /api/, the Open311 service definition, public
status notes, and no orphan photo in the media directory after a refused request.
"""

from __future__ import annotations

import struct
import uuid
import zlib

import cv2
import numpy as np
import pytest
import redis
import requests

from geodata import api_keys, db
from geodata.bus import INCIDENT_STREAM
from tests.dashboard.griddata import PASSWORD
from workers.ingest import IngestConfig, IngestWorker


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def huge_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG that declares width x height pixels but weighs a few kilobytes."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    comp = zlib.compressobj(9)
    data = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + _chunk(b"IDAT", data) + _chunk(b"IEND", b""))


def small_png() -> bytes:
    ok, png = cv2.imencode(".png", np.full((40, 60, 3), 128, np.uint8))
    assert ok
    return png.tobytes()


@pytest.fixture(scope="module")
def api_key(dash_db) -> str:
    with db.connect(dash_db[0]) as conn:
        _, plain = api_keys.create_key(conn, f"doors-test-{uuid.uuid4().hex[:6]}")
    return plain


@pytest.fixture(scope="module")
def worker(server) -> dict:
    r = requests.post(server.base + "/api/v1/token", data={"username": "worker1", "password": PASSWORD}, timeout=10)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def _files(server) -> set:
    return {p for p in server.media.rglob("*") if p.is_file()}


def _report(server, worker, photo: bytes, **fields):
    form = {"event_id": str(uuid.uuid4()), "matter": "dispute_neighbour", "lon": "114.31", "lat": "22.66",
            "description": "doors", **fields}
    return requests.post(server.base + "/api/v1/reports", headers=worker, data=form, timeout=30,
                         files={"photo": ("p.png", photo, "image/png")})


def test_a_photo_declaring_too_many_pixels_is_refused_from_its_header(server, dash_redis, worker):
    bomb = huge_png(8000, 8000)  # 64 megapixels in a few kilobytes
    assert len(bomb) < 100_000
    rds = redis.Redis.from_url(dash_redis)
    before, files = rds.xlen(INCIDENT_STREAM), _files(server)
    r = _report(server, worker, bomb)
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["code"] == "api.photo_pixels" and "8000" in body["error"] and "40" in body["error"]
    assert rds.xlen(INCIDENT_STREAM) == before and _files(server) == files
    # The 48 KB, 20000x20000 PNG that lifted the dashboard to 2.7 GB: Pillow's own guard sees it first.
    r = _report(server, worker, huge_png(20000, 20000))
    assert r.status_code == 413 and r.json()["code"] == "api.photo_bomb", r.text
    assert _files(server) == files


@pytest.mark.parametrize("blob, code", [
    (small_png() + b"PK\x03\x04" + b"\x00" * 40, "api.photo_trailing"),  # a PNG with a ZIP behind it
    (small_png()[:-30], "api.bad_photo"),                                  # truncated
    (b"GIF89a" + b"\x00" * 64, "api.bad_photo"),                          # not JPEG or PNG
    (b"<html><script>alert(1)</script></html>", "api.bad_photo"),
], ids=["polyglot", "truncated", "gif", "html"])
def test_non_images_and_polyglots_are_refused(server, worker, blob, code):
    files = _files(server)
    r = _report(server, worker, blob)
    assert r.status_code == 400 and r.json()["code"] == code, r.text
    assert _files(server) == files


def test_a_refused_request_leaves_no_photo_behind(server, worker, ids):
    files = _files(server)
    # Refused by the bus's validation after the photo was read: a time that is no time.
    r = _report(server, worker, small_png(), observed_at="yesterday-ish")
    assert r.status_code == 400, r.text
    # Refused by the transition: a dispatched task cannot be resolved.
    r = requests.post(server.base + "/api/v1/actions", headers=worker, timeout=10, data={
        "event_id": str(uuid.uuid4()), "incident_id": ids["alarm"], "action": "resolve", "note": "x"},
        files={"photo": ("p.png", small_png(), "image/png")})
    assert r.status_code == 409, r.text
    assert _files(server) == files
    ok = _report(server, worker, small_png())
    assert ok.status_code == 200 and len(_files(server) - files) == 1  # an accepted photo is stored


def test_nul_bytes_are_refused_at_every_door(server, dash_redis, worker, api_key, ids):
    rds = redis.Redis.from_url(dash_redis)
    before = rds.xlen(INCIDENT_STREAM)
    base = {"api_key": api_key, "service_code": "dispute_neighbour", "lat": "22.66", "long": "114.31"}
    for field in ("service_code", "description", "address_string"):
        r = requests.post(server.base + "/open311/v2/requests.json", data={**base, field: "a\x00b"}, timeout=10)
        assert r.status_code == 400, (field, r.text)
        (err,) = r.json()
        assert err["code"] == 400 and field in err["description"] and "NUL" in err["description"]
    r = requests.get(server.base + "/open311/v2/requests.json?service_code=%00", timeout=10)
    assert r.status_code == 400 and "service_code" in r.json()[0]["description"]
    r = requests.post(server.base + "/api/v1/actions", headers=worker, timeout=10, data={
        "event_id": str(uuid.uuid4()), "incident_id": ids["alarm"], "action": "accept", "note": "on my way\x00"})
    assert r.status_code == 400 and r.json()["ok"] is False and "note" in r.json()["error"], r.text
    r = requests.post(server.base + "/api/v1/reports", headers=worker, timeout=10, data={
        "event_id": str(uuid.uuid4()), "matter": "dispute_neighbour", "lon": "114.31", "lat": "22.66",
        "description": "x\x00"})
    assert r.status_code == 400 and "description" in r.json()["error"]
    assert rds.xlen(INCIDENT_STREAM) == before


@pytest.mark.parametrize("url, words", [
    ("http://[::1", "media_url"),
    ("javascript:alert(1)", "http"),
    ("https://photos.example/" + "a" * 2100, "2048"),
    ("https:///nohost.jpg", "host"),
], ids=["broken-ipv6", "javascript", "too-long", "no-host"])
def test_bad_media_urls_are_refused_with_a_reason(server, api_key, url, words):
    r = requests.post(server.base + "/open311/v2/requests.json", timeout=10, data={
        "api_key": api_key, "service_code": "dispute_neighbour", "lat": "22.66", "long": "114.31", "media_url": url})
    assert r.status_code == 400, r.text
    (err,) = r.json()
    assert words in err["description"]


def test_media_names_with_nul_are_not_found(server, browser):
    from tests.dashboard.test_access import api_login

    ctx = api_login(browser, server, "disp1")
    try:
        r = ctx.request.get(server.base + "/media/field/x%00.png")
        assert r.status == 404
        r = ctx.request.get(server.base + "/media/..%2f..%2fetc%2fpasswd")
        assert r.status == 404
    finally:
        ctx.close()


@pytest.mark.parametrize("path, method", [
    ("/open311/v2/nothing.json", "GET"), ("/open311/v2/requests/x/y.json", "GET"), ("/open311/", "GET"),
    ("/open311/v2/nothing.json", "POST"), ("/api/v2/tasks", "GET"), ("/api/v1/nothing", "GET"),
    ("/api/v1/nothing", "POST"), ("/api/", "GET"),
])
def test_unknown_machine_paths_are_404s_in_the_apis_own_format(server, path, method):
    r = requests.request(method, server.base + path, timeout=10)
    assert r.status_code == 404, r.text[:200]
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    if path.startswith("/open311/"):
        assert body[0]["code"] == 404 and path in body[0]["description"]
    else:
        assert body["ok"] is False and path in body["error"]


def test_a_known_path_with_a_wrong_method_is_a_405_in_the_apis_format(server, worker):
    r = requests.get(server.base + "/api/v1/actions", headers=worker, timeout=10)
    assert r.status_code == 405 and "POST" in r.headers["Allow"] and r.json()["ok"] is False
    r = requests.delete(server.base + "/open311/v2/services.json", timeout=10)
    assert r.status_code == 405 and r.json()[0]["code"] == 405


def test_open311_xml_suffix_gets_its_404_in_xml(server):
    r = requests.get(server.base + "/open311/v2/nothing.xml", timeout=10)
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/xml")
    assert "<code>404</code>" in r.text and "<errors>" in r.text


def test_the_service_definition_a_georeport_client_asks_for(server):
    r = requests.get(server.base + "/open311/v2/services/dispute_neighbour.json", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json() == {"service_code": "dispute_neighbour", "attributes": []}
    r = requests.get(server.base + "/open311/v2/services/no_such.json", timeout=10)
    assert r.status_code == 404 and "no_such" in r.json()[0]["description"]
    r = requests.get(server.base + "/open311/v2/services/maint_camera_offline.json", timeout=10)
    assert r.status_code == 404  # maintenance is not a citizens' service


def _ingest(dash_db, dash_redis):
    IngestWorker(dash_db[0], dash_redis, IngestConfig(block_ms=50), consumer="doors-test").run(max_idle_s=0.5)


def test_status_notes_never_show_another_reports_text(server, dash_db, dash_redis, api_key, worker):
    # A citizen's request, then a grid worker's report of the same matter at the same place: it merges,
    # and the merge's history row carries the worker's private text as its note.
    r = requests.post(server.base + "/open311/v2/requests.json", timeout=10, data={
        "api_key": api_key, "service_code": "hazard_fire_exit", "lat": "22.6612", "long": "114.3377"})
    assert r.status_code == 201
    rid = r.json()[0]["service_request_id"]
    _ingest(dash_db, dash_redis)
    secret = "informant 张三 phone 13800000000"
    rep = requests.post(server.base + "/api/v1/reports", headers=worker, timeout=10, data={
        "event_id": str(uuid.uuid4()), "matter": "hazard_fire_exit", "lon": "114.3377", "lat": "22.66121",
        "description": secret})
    assert rep.status_code == 200, rep.text
    _ingest(dash_db, dash_redis)
    with db.connect(dash_db[0]) as conn:
        notes = [r["note"] for r in conn.execute(
            "SELECT e.note FROM incident_event e JOIN incident_report r ON r.incident_id = e.incident_id "
            "WHERE r.event_id = %s", (rid,)).fetchall()]
    assert secret in notes  # the merge happened and its note is the private text
    (req,) = requests.get(f"{server.base}/open311/v2/requests/{rid}.json", timeout=10).json()
    listed = requests.get(server.base + "/open311/v2/requests.json", timeout=10).json()
    assert secret not in str(req) and secret not in str(listed)
    assert req["status_notes"]  # the status's fixed label: public, and says something


def test_a_console_filter_the_dropdowns_never_offer_is_a_400_naming_it(browser, server):
    from tests.dashboard.test_access import api_login, csrf

    ctx = api_login(browser, server, "disp1")
    try:
        deps = ctx.request.get(server.base + "/_dash-dependencies").json()
        dep = next(d for d in deps if "console-queue.children" in d["output"])
        values = {"console-filter-priority": "abc", "console-filter-status": None, "console-filter-family": None,
                  "console-filter-overdue": [], "console-interval": 0, "console-done": 0}
        inputs = [{"id": i["id"], "property": i["property"], "value": values.get(i["id"])} for i in dep["inputs"]]
        outputs = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]}
                   for o in dep["output"].strip(".").split("...")]
        body = {"output": dep["output"], "outputs": outputs, "inputs": inputs, "state": [],
                "changedPropIds": ["console-filter-priority.value"]}
        r = ctx.request.post(server.base + "/_dash-update-component", data=body, headers=csrf(ctx))
        assert r.status == 400 and "priority" in r.text(), r.text()[:300]
        for i in inputs:
            if i["id"] == "console-filter-priority":
                i["value"] = 2
        assert ctx.request.post(server.base + "/_dash-update-component", data=body, headers=csrf(ctx)).status == 200
    finally:
        ctx.close()
