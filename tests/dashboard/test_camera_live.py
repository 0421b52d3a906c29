"""A camera's live view end to end: a real camera worker on a clip, Redis, PostGIS, the dashboard, Chromium.

The worker publishes frames only while the dashboard's watch key lives; the browser gets them as MJPEG
from /cameras/<code>/live, with the age beside them and a notice when they are stale or missing.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
import redis as redis_lib

from dashboard import access
from dashboard.camera_live import STALE_S, state_of
from geodata import camera_frames, users
from tests.dashboard import griddata
from tests.dashboard.conftest import ROOT, Server, login, seeded_db
from tests.rig import flushed_redis_db, wait_for
from tests.video import clips
from workers.camera import HEALTH_KEY

LIVE_REDIS_DB = 9  # its own Redis database: the dashboard rig's is 13, per-test fixtures flush 15
# The goal is 2 s, measured by benchmarks/live_view.py; a test machine shared by many runs (load 15 on two
# cores) gets slack. Measured by the page itself (click -> first image, data-first-ms), not from here.
FIRST_IMAGE_S = 8.0
# The module's dashboard lets an unrefreshed watch lapse after 3 s instead of production's 10, so the test
# of a closed view waits less; the view still refreshes it every second (a third of it).
LIVE_WATCH_TTL_S = 3


@pytest.fixture(scope="module")
def live_db(admin_url, template_db):
    """The dashboard's small grid with a stream for CAM001 and CAM002 (a clip standing in for a camera)."""
    yield from seeded_db(admin_url, template_db, "gw_live")


@pytest.fixture(scope="module")
def clip(tmp_path_factory, live_db):
    path = clips.scene_clip(tmp_path_factory.mktemp("live_clips") / "scene-live.mp4", 8.0)
    with psycopg.connect(live_db[0]) as conn:
        conn.execute("UPDATE camera SET url = %s WHERE code IN ('CAM001', 'CAM002')", (str(path),))
    return path


@pytest.fixture(scope="module")
def live_redis(server_urls) -> str:
    yield from flushed_redis_db(server_urls[1], LIVE_REDIS_DB)


@pytest.fixture(scope="module")
def live_server(live_db, live_redis, tmp_path_factory):
    # serve.py reads the setting from its environment, inherited from ours while it starts.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRIDWATCH_LIVE_WATCH_TTL_S", str(LIVE_WATCH_TTL_S))
        srv = Server(live_db[0], live_redis, tmp_path_factory.mktemp("live_media")).start()
    yield srv
    srv.stop()


def start_worker(db_url, redis_url, media, code, worker_id) -> subprocess.Popen:
    """`gridwatch worker camera` for one camera, in its own process."""
    env = dict(os.environ, GRIDWATCH_DATABASE_URL=db_url, GRIDWATCH_REDIS_URL=redis_url,
               GRIDWATCH_MEDIA_DIR=str(media), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "workers.cli", "worker", "camera", "--cameras", code,
                             "--lease-seconds", "3", "--worker-id", worker_id], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def wait_running(redis_url, code) -> None:
    """Until the worker reads frames of `code` (its health hash names a last frame)."""
    client = redis_lib.Redis.from_url(redis_url)
    assert wait_for(lambda: client.hget(HEALTH_KEY.format(code=code), "last_frame_at"), 40), f"{code} never ran"
    client.close()


@pytest.fixture(scope="module")
def worker(live_db, live_redis, clip, tmp_path_factory):
    """A camera worker holding CAM001 for the whole module."""
    proc = start_worker(live_db[0], live_redis, tmp_path_factory.mktemp("worker_media"), "CAM001", "LV1")
    try:
        wait_running(live_redis, "CAM001")
        yield proc
    finally:
        stop_worker(proc)


def browser_login(browser, server, username: str, path: str):
    return login(browser, server, "", size=(1600, 1000), username=username, path=path)


def http_login(browser, server, username: str | None):
    """A request context with a session of `username` (None: anonymous)."""
    ctx = browser.new_context()
    if username is None:
        return ctx
    token = re.search(r'name="csrf_token" value="([^"]+)"', ctx.request.get(server.base + "/login").text()).group(1)
    r = ctx.request.post(server.base + "/login", form={"username": username, "password": griddata.PASSWORD,
                                                        "csrf_token": token}, max_redirects=0)
    assert r.status == 303, r.text()
    return ctx


def open_stream(server, ctx, code: str, timeout: float = 10.0) -> tuple[http.client.HTTPConnection,
                                                                          http.client.HTTPResponse]:
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in ctx.cookies())
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    conn.request("GET", f"/cameras/{code}/live", headers={"Cookie": cookie})
    return conn, conn.getresponse()


def audit_rows(db_url, actor: str, code: str) -> list[dict]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT data FROM audit_log WHERE action = 'camera_live' AND actor = %s AND target = %s "
                            "ORDER BY id", (actor, code)).fetchall()
    return [{"data": r[0]} for r in rows]


def text_bodies(responses) -> list[str]:
    """The bodies of every finished text, script and JSON response the page received."""
    out = []
    for r in responses:
        kind = r.headers.get("content-type", "")
        if "multipart" in kind or not any(k in kind for k in ("text", "json", "javascript")):
            continue
        try:
            out.append(r.text())
        except Exception:  # a response the page dropped (navigation) has no body left: nothing to read
            continue
    return out


def test_a_click_on_cameras_shows_a_fresh_picture_logged_and_without_the_stream_url(
        browser, live_server, live_db, worker, clip):
    responses = []
    ctx, page = browser_login(browser, live_server, griddata.ACCOUNTS["dispatcher"][0], "/cameras")
    page.on("response", lambda r: responses.append(r))
    try:
        page.reload()  # now with every answer recorded: the page, its layout and its callbacks
        button = page.locator(".gw-live-open[data-camera='CAM001']")
        button.wait_for(timeout=20_000)
        before = len(audit_rows(live_db[0], "disp1", "CAM001"))
        button.click()
        page.wait_for_selector("#gw-live-modal[data-first-ms]", timeout=2 * FIRST_IMAGE_S * 1000)
        assert int(page.get_attribute("#gw-live-modal", "data-first-ms")) <= FIRST_IMAGE_S * 1000
        width = page.eval_on_selector("#gw-live-img", "img => img.naturalWidth")
        assert width == 480  # the clip's own width (analysis width 640 does not upscale)
        src = page.get_attribute("#gw-live-img", "src")
        assert src.startswith("/cameras/CAM001/live?")
        page.wait_for_selector("#gw-live-modal[data-state='live']", timeout=10_000)
        age = float(page.get_attribute("#gw-live-modal", "data-age"))
        assert 0 <= age <= 2.0
        assert "秒前" in page.inner_text(".gw-live-state")
        rows = audit_rows(live_db[0], "disp1", "CAM001")
        assert len(rows) == before + 1 and rows[-1]["data"]["role"] == "dispatcher"
        # Neither the page nor any answer it got names the camera's stream (path, file name).
        html_now = page.content()
        bodies = text_bodies(responses) + [html_now]
        assert len(bodies) > 5
        for body in bodies:
            assert str(clip) not in body and clip.name not in body
        page.click(".gw-live-close")
        assert page.locator("#gw-live-modal").count() == 0
    finally:
        ctx.close()


def test_console_case_and_map_open_the_view_for_a_supervisor_of_the_area(browser, live_server, live_db, worker):
    ctx, page = browser_login(browser, live_server, griddata.ACCOUNTS["supervisor"][0], "/console")
    try:
        # The map: cameras of the supervisor's street only, each with the button in its popup.
        marker = page.locator("path.gw-live-cam-CAM001")
        marker.wait_for(timeout=20_000)
        assert page.locator("path.gw-live-cam-CAM003").count() == 0  # the other street's camera
        popup = page.locator(".gw-live-popup .gw-live-open[data-camera='CAM001']")
        for attempt in range(6):
            # A click while the map still fits its bounds (zoom animation) is lost, and a worker's name label
            # may lie over the marker: after a real click, hand the click to the marker itself (Leaflet's handler).
            if attempt % 2 == 0:
                marker.click(force=True)
            else:
                marker.dispatch_event("click")
            try:
                popup.wait_for(timeout=2000)
                break
            except PlaywrightTimeout:
                continue
        popup.click(timeout=5000)
        page.wait_for_selector("#gw-live-modal[data-camera='CAM001'][data-first-ms]", timeout=2 * FIRST_IMAGE_S * 1000)
        page.click(".gw-live-close")
        # A camera case (the seeded CAM000 event): the button in its detail; CAM000 has no worker.
        page.wait_for_selector("#console-verification-table tbody tr", timeout=15_000)
        page.locator("#console-verification-table tbody tr").filter(has_text="人员异常聚集").first.click()
        button = page.locator("#console-detail-body .gw-live-open[data-camera='CAM000']")
        button.wait_for(timeout=10_000)
        button.click()
        page.wait_for_selector("#gw-live-modal[data-camera='CAM000'][data-state='no_worker']", timeout=10_000)
        assert page.eval_on_selector("#gw-live-img", "img => img.naturalWidth") == 0
        assert "没有摄像机处理进程应答" in page.inner_text(".gw-live-state")
    finally:
        ctx.close()


@pytest.mark.parametrize("who,code,status", [
    (None, "CAM001", 401),
    ("wall1", "CAM001", 403),
    ("worker1", "CAM001", 403),
    ("sup2", "CAM001", 404),      # another street's supervisor
    ("sup1", "CAM003", 404),      # a camera outside the supervisor's street
    ("disp1", "NO-SUCH", 404),
    ("disp1", "bad%20code", 404),    # not a camera code at all
])
def test_who_may_not_watch_is_refused_and_nothing_is_logged(browser, live_server, live_db, who, code, status):
    ctx = http_login(browser, live_server, who)
    try:
        before = audit_rows(live_db[0], who or "", code)
        for path in (f"/cameras/{code}/live/status", f"/cameras/{code}/live"):
            r = ctx.request.get(live_server.base + path, max_redirects=0)
            assert r.status == status, (path, who, r.status)
        assert audit_rows(live_db[0], who or "", code) == before
    finally:
        ctx.close()
    assert "wall" not in access.LIVE_VIEW_ROLES and "grid_worker" not in access.LIVE_VIEW_ROLES


def _read_until_closed(resp, limit_s: float) -> float | None:
    """Seconds until the stream ends, or None when it is still sending after limit_s."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        try:
            chunk = resp.read1(65536)
        except (TimeoutError, OSError):
            continue
        if not chunk:
            return time.monotonic() - start
    return None


@pytest.mark.parametrize("how", ["logout", "disable"])
def test_an_open_stream_ends_with_its_session_or_account(browser, live_server, live_db, worker, how):
    name = f"lv_{how}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(live_db[0]) as conn:
        users.create_user(conn, name, griddata.PASSWORD, "maintenance")
    ctx = http_login(browser, live_server, name)
    conn, resp = open_stream(live_server, ctx, "CAM001", timeout=3.0)
    try:
        assert resp.status == 200 and resp.getheader("Content-Type").startswith("multipart/x-mixed-replace")
        first = b""
        deadline = time.monotonic() + FIRST_IMAGE_S
        while b"\xff\xd8" not in first and time.monotonic() < deadline:
            try:
                first += resp.read1(65536)
            except (TimeoutError, OSError):
                pass
        assert b"Content-Type: image/jpeg" in first and b"\xff\xd8" in first
        assert _read_until_closed(resp, 1.5) is None  # still streaming
        if how == "logout":
            tok = next(c["value"] for c in ctx.cookies() if c["name"] == "_csrf_token")
            assert ctx.request.post(live_server.base + "/logout", headers={"X-CSRFToken": tok},
                                    max_redirects=0).status in (302, 303)
        else:
            with psycopg.connect(live_db[0]) as db:
                users.set_disabled(db, name, True)
        ended = _read_until_closed(resp, 6.0)
        assert ended is not None and ended <= 5.0, ended
    finally:
        conn.close()
        ctx.close()
    assert len(audit_rows(live_db[0], name, "CAM001")) == 1


def test_the_view_says_stale_when_the_worker_stops(browser, live_server, live_db, live_redis, clip, tmp_path):
    proc = start_worker(live_db[0], live_redis, tmp_path / "media", "CAM002", "LV2")
    ctx = None
    try:
        wait_running(live_redis, "CAM002")
        ctx, page = browser_login(browser, live_server, griddata.ACCOUNTS["admin"][0], "/cameras")
        page.locator(".gw-live-open[data-camera='CAM002']").click(timeout=20_000)
        page.wait_for_selector("#gw-live-modal[data-state='live'][data-first-ms]", timeout=2 * FIRST_IMAGE_S * 1000)
        client = redis_lib.Redis.from_url(live_redis)
        watch_key = camera_frames.WATCH_KEY.format(code="CAM002")
        # The key lives, with the server's TTL (the setting reached the relay), not production's.
        assert 0 < client.ttl(watch_key) <= LIVE_WATCH_TTL_S
        stop_worker(proc)
        stopped = time.monotonic()
        page.wait_for_selector("#gw-live-modal[data-state='stale']", timeout=8000)
        assert time.monotonic() - stopped <= 8.0
        assert float(page.get_attribute("#gw-live-modal", "data-age")) > 2.0
        assert "过时" in page.inner_text(".gw-live-state")
        # Closing the view ends the watch: its key expires with nobody refreshing it.
        page.click(".gw-live-close")
        assert wait_for(lambda: not client.exists(watch_key), LIVE_WATCH_TTL_S + 6)
        client.close()
    finally:
        stop_worker(proc)
        if ctx is not None:
            ctx.close()


@pytest.mark.parametrize("head,started,now,expected", [
    (None, None, 100.0, ("no_worker", None)),
    (None, 98.0, 100.0, ("waiting", None)),
    (None, 90.0, 100.0, ("no_worker", None)),
    ((3, 99.5), 90.0, 100.0, ("live", 0.5)),
    ((3, 100.0 - STALE_S - 0.5), 90.0, 100.0, ("stale", STALE_S + 0.5)),
    ((3, 60.0), 99.0, 100.0, ("waiting", None)),   # a picture from before this watch: not "now"
    ((3, 60.0), 90.0, 100.0, ("stale", 40.0)),
])
def test_the_views_state(head, started, now, expected):
    assert state_of(head, started, now) == expected


def test_parallel_opens_never_pass_the_per_account_limit(live_redis):
    """The limit of open views is one step in Redis: 20 opens at once let at most MAX_VIEWS_PER_USER in."""
    from concurrent.futures import ThreadPoolExecutor

    from dashboard import access, camera_live

    client = redis_lib.Redis.from_url(live_redis)
    user = access.SessionUser(username="disp-race", role="dispatcher", id=987654)
    client.delete(camera_live.VIEWERS_KEY.format(user_id=user.id))
    try:
        now = time.time()
        with ThreadPoolExecutor(20) as pool:
            got = list(pool.map(lambda i: camera_live._take_slot(
                redis_lib.Redis.from_url(live_redis), user, f"view-{i}", now), range(20)))
        assert 1 <= sum(got) <= camera_live.MAX_VIEWS_PER_USER, got
        # Refused views leave nothing behind: the set holds exactly the views let in.
        assert client.zcard(camera_live.VIEWERS_KEY.format(user_id=user.id)) == sum(got)
        # One after another, the limit is exact.
        client.delete(camera_live.VIEWERS_KEY.format(user_id=user.id))
        seq = [camera_live._take_slot(client, user, f"seq-{i}", now) for i in range(6)]
        assert seq == [True] * camera_live.MAX_VIEWS_PER_USER + [False] * (6 - camera_live.MAX_VIEWS_PER_USER)
    finally:
        client.delete(camera_live.VIEWERS_KEY.format(user_id=user.id))
        client.close()


def test_the_watch_ttl_is_a_setting_with_the_production_default(monkeypatch, tmp_path):
    from dashboard.config import DashboardSettings, from_settings
    from geodata.settings import Settings

    settings = Settings(database_url="postgresql://db/x", redis_url="redis://r/0", home=tmp_path)
    monkeypatch.delenv("GRIDWATCH_LIVE_WATCH_TTL_S", raising=False)
    assert from_settings(settings, DashboardSettings()).live_watch_ttl_s == camera_frames.WATCH_TTL_S == 10
    monkeypatch.setenv("GRIDWATCH_LIVE_WATCH_TTL_S", "3")
    assert from_settings(settings, DashboardSettings()).live_watch_ttl_s == 3
    # Refreshed every third of it: below 2 s one late refresh (a busy server) would end a watch still open.
    monkeypatch.setenv("GRIDWATCH_LIVE_WATCH_TTL_S", "1")
    with pytest.raises(ValueError):
        DashboardSettings()
