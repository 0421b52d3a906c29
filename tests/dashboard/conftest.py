"""Dashboard test rig: one seeded database, a Redis db, the app server in a subprocess, real Chromium."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest

from geodata.bus import LiveIncident
from geodata.db import web_role_url
from tests.dashboard import griddata
from tests.rig import cloned_db, flushed_redis_db
from workers.services import free_port

ROOT = Path(__file__).resolve().parents[2]
SERVE = Path(__file__).resolve().parent / "serve.py"
SHOTS = ROOT / "test-artifacts" / "screenshots"
DASH_REDIS_DB = 13  # its own Redis database: the per-test `redis_url` fixture flushes 15



class Server:
    """The dashboard in a subprocess; can be stopped and started again on the same port."""

    def __init__(self, db_url: str, redis_url: str, media: Path, port: int | None = None, *,
                 open311_rates: tuple[str, str] | None = None):
        self.db_url, self.redis_url, self.media = db_url, redis_url, media
        self.open311_rates = open311_rates  # (per key, per address) in Flask-Limiter notation; None: defaults
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Server":
        """Start and wait until /healthz answers."""
        # As production runs it: logged in as the dashboard's own role (no bus signing key, migration 0020).
        self.proc = subprocess.Popen([sys.executable, str(SERVE), web_role_url(self.db_url), self.redis_url,
                                      str(self.port),
                                      str(self.media), *(self.open311_rates or ())], cwd=ROOT)
        # 60 s, not 30: on a two-core box shared with other runs (load 20 and more) it took over 30 s.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dashboard server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        # A server that never answered must not outlive the test run (it holds a database and a port).
        self.stop()
        raise RuntimeError("dashboard server did not start within 60 s")

    def stop(self) -> None:
        """Terminate the server process (this one only)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


def cli_dashboard(db_url: str, redis_url: str, home: Path, port: int, *extra: str) -> subprocess.Popen:
    """`gridwatch dashboard` (gunicorn) on `port` in a subprocess, its output piped as text."""
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": db_url, "GRIDWATCH_REDIS_URL": redis_url,
           "GRIDWATCH_WEB_DATABASE_URL": web_role_url(db_url),
           "GRIDWATCH_HOME": str(home), "GRIDWATCH_SESSION_IDLE_MINUTES": "60"}
    return subprocess.Popen([sys.executable, "-m", "workers.cli", "dashboard", "--port", str(port), *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_cli_ready(proc: subprocess.Popen, ready, what: str, step: float, timeout: float = 60.0) -> None:
    """Until ready() is true; a probe that cannot connect yet (OSError, requests' errors included) is
    asked again. Fails with the process's output if it exits, and kills it if it never gets ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read()
        try:
            if ready():
                return
        except OSError:
            pass  # not listening yet, or listening while its worker still builds the app
        time.sleep(step)
    proc.kill()
    raise AssertionError(f"{what} within {timeout:.0f} s")


def stop_cli(proc: subprocess.Popen) -> str:
    """Terminate a `gridwatch dashboard` process (killed if it lingers); its output."""
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate(timeout=5)
    return out


def seeded_db(admin_url: str, template_db: str, prefix: str):
    """Yield (URL, ids) of a database cloned from the migrated template and filled with the small test grid."""
    with cloned_db(admin_url, template_db, prefix) as url:
        yield url, griddata.seed(url)


@pytest.fixture(scope="session")
def dash_db(admin_url, template_db):
    """A database cloned from the migrated template and filled with the small test grid."""
    yield from seeded_db(admin_url, template_db, "gw_dash")


@pytest.fixture(scope="session")
def dash_redis(server_urls) -> str:
    """A Redis database of its own for the session, flushed before and after."""
    yield from flushed_redis_db(server_urls[1], DASH_REDIS_DB)


@pytest.fixture(scope="session")
def server(dash_db, dash_redis, tmp_path_factory):
    """The dashboard serving the seeded database for the whole session."""
    srv = Server(dash_db[0], dash_redis, tmp_path_factory.mktemp("media")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def ids(dash_db) -> dict:
    """Ids of the seeded verification event, alarm and worker task."""
    return dash_db[1]


def login(browser, server: Server, role: str, *, size=(1920, 1080), username: str | None = None,
          path: str = "/"):
    """A new browser context logged in as the seeded account of `role`, its page opened at `path` (the
    role's landing page by default); returns (context, page).

    The form is posted by the context's own request client, which shares the page's cookies: drawing the
    login page and then a landing page the test leaves at once cost a second or more per login under load.
    Each call still gets a session of its own (a shared, saved one would carry a language switched or a
    logout made by another test). The form itself is still filled in a browser by test_field.py and
    test_reports_charts.py.
    """
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    form = ctx.request.get(server.base + "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text()).group(1)
    r = ctx.request.post(server.base + "/login", max_redirects=0, form={
        "username": username or griddata.ACCOUNTS[role][0], "password": griddata.PASSWORD, "csrf_token": token})
    assert r.status == 303, f"login of {username or role} refused: {r.status} {r.text()[:200]}"
    page = ctx.new_page()
    page.goto(server.base + path, wait_until="domcontentloaded")
    return ctx, page


def wait_wall_live(page, timeout_ms: int) -> None:
    """Until a freshly loaded wall says "live" and its /live stream is open and has said hello.

    The status shows "live" from the first paint for a second's grace, before /live may be open; a
    message published then would be lost (pub/sub keeps nothing). The server opens the stream only once
    it holds the page's queue, and sends `hello` first.
    """
    page.wait_for_selector("#wall-status[data-state=live]", timeout=timeout_ms)
    page.wait_for_function("(() => { const s = window.gridwatch && window.gridwatch.live; "
                           "return !!(s && s.es && s.es.readyState === 1 && s.lastBeat > 0); })()",
                           timeout=timeout_ms)


def live_wall(browser, server: Server):
    """A wall logged in on its live layer and connected to /live; returns (context, page). Generous: a
    loaded machine renders slowly."""
    ctx, page = login(browser, server, "wall", path="/wall?layer=live")
    try:
        wait_wall_live(page, 40_000)
    except BaseException:
        ctx.close()
        raise
    return ctx, page


def live_create(incident_id, lon: float, lat: float = 22.71) -> LiveIncident:
    """A live `create` of an open fire-exit case in 六和社区's street, as ingest publishes it."""
    return LiveIncident(at=datetime.now(timezone.utc), id=incident_id, action="create", status="reported",
                        matter_code="hazard_fire_exit", priority=2, lon=lon, lat=lat,
                        community_code="440310001002", street_code="440310001")


def shot(page, name: str) -> Path:
    """Save a screenshot under test-artifacts/screenshots and print its path."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


def csrf_headers(ctx) -> dict:
    """The CSRF header a page script would send, read from the context's cookie."""
    tok = next((c["value"] for c in ctx.cookies() if c["name"] == "_csrf_token"), "")
    return {"X-CSRFToken": tok}
