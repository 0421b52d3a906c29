"""Dashboard test rig: one seeded database, a Redis db, the app server in a subprocess, real Chromium."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
import redis as redis_lib
from psycopg import sql

from tests.dashboard import griddata

ROOT = Path(__file__).resolve().parents[2]
SERVE = Path(__file__).resolve().parent / "serve.py"
SHOTS = ROOT / "test-artifacts" / "screenshots"
DASH_REDIS_DB = 13  # its own Redis database: the per-test `redis_url` fixture flushes 15


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        self.proc = subprocess.Popen([sys.executable, str(SERVE), self.db_url, self.redis_url, str(self.port),
                                      str(self.media), *(self.open311_rates or ())], cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dashboard server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dashboard server did not start within 30 s")

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


@pytest.fixture(scope="session")
def dash_db(admin_url, template_db):
    """A database cloned from the migrated template and filled with the small test grid."""
    name = f"gw_dash_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template_db)))
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    info["dbname"] = name
    url = psycopg.conninfo.make_conninfo(**info)
    ids = griddata.seed(url)
    yield url, ids
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def flushed_redis_db(server_urls, db: int):
    """Yield the URL of Redis database `db` on the test server, flushed before and after (for fixtures)."""
    url = server_urls[1]
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    test_url = f"{base}/{db}"
    client = redis_lib.Redis.from_url(test_url)
    client.flushdb()
    yield test_url
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def dash_redis(server_urls) -> str:
    """A Redis database of its own for the session, flushed before and after."""
    yield from flushed_redis_db(server_urls, DASH_REDIS_DB)


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


def login(browser, server: Server, role: str, *, size=(1920, 1080), username: str | None = None):
    """A new browser context logged in as the seeded account of `role`; returns (context, page)."""
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = ctx.new_page()
    page.goto(server.base + "/login")
    page.fill("#login-username", username or griddata.ACCOUNTS[role][0])
    page.fill("#login-password", griddata.PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("domcontentloaded")
    return ctx, page


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
