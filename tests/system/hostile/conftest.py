"""The hostile-input rig: the dashboard and a real ingest worker process over one seeded database.

The dashboard's own rig (tests/dashboard/conftest.py) is reused: the same seeded grid, accounts and
server class. Redis is database 12, not the dashboard tests' 13: this suite runs its own ingest worker,
which would otherwise take the entries those tests publish and read themselves.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis as redis_lib
import requests

from geodata import api_keys, db
from geodata.bus import DEAD_STREAM, INCIDENT_STREAM, INGEST_GROUP
from tests.dashboard import conftest as dashboard_rig
from tests.dashboard.conftest import ROOT, Server
from tests.dashboard.griddata import PASSWORD
from tests.geodata import conftest as geodata_rig

# Fixtures of the dashboard's and the grid importer's rigs, offered here too.
dash_db, ids = dashboard_rig.dash_db, dashboard_rig.ids
io_grid_template, shared_io_grid = geodata_rig.io_grid_template, geodata_rig.shared_io_grid

HOSTILE_REDIS_DB = 12
# Rows an accepted request would add; a refused one must leave every count as it was.
COUNTED = ("incident", "incident_report", "incident_event", "audit_log", "app_user", "api_key")


@pytest.fixture(scope="session")
def hostile_redis(server_urls) -> str:
    url = server_urls[1].rsplit("/", 1)[0] + f"/{HOSTILE_REDIS_DB}"
    with redis_lib.Redis.from_url(url) as client:
        client.flushdb()
        yield url
        client.flushdb()


@pytest.fixture(scope="session")
def rds(hostile_redis):
    client = redis_lib.Redis.from_url(hostile_redis)
    yield client
    client.close()


@pytest.fixture(scope="session")
def server(dash_db, hostile_redis, tmp_path_factory):
    srv = Server(dash_db[0], hostile_redis, tmp_path_factory.mktemp("hostile-media")).start()
    yield srv
    srv.stop()


class IngestProcess:
    """`gridwatch worker ingest` as a process of its own, as production runs it."""

    def __init__(self, db_url: str, redis_url: str, log: Path):
        env = {**os.environ, "GRIDWATCH_DATABASE_URL": db_url, "GRIDWATCH_REDIS_URL": redis_url}
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "workers.cli", "worker", "ingest"], cwd=ROOT, env=env,
                                     stdout=self._out, stderr=subprocess.STDOUT)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, redis_url: str, timeout_s: float = 60.0) -> None:
        """Until the worker has made its consumer group (and so the stream): a test that notes the
        stream's state before a request must not see the worker's start as something the request did."""
        with redis_lib.Redis.from_url(redis_url) as client:
            def ready() -> bool:
                assert self.alive(), f"the ingest worker exited: {self.log.read_text()[-2000:]}"
                try:
                    return any(g["name"].decode() == INGEST_GROUP for g in client.xinfo_groups(INCIDENT_STREAM))
                except redis_lib.ResponseError:  # no stream yet
                    return False
            assert wait_for(ready, timeout_s), f"the ingest worker made no consumer group in {timeout_s} s"

    def stop(self) -> None:
        Server.stop(self)  # the same terminate, wait, then kill, of this one process
        self._out.close()


@pytest.fixture(scope="session")
def ingest(dash_db, hostile_redis, tmp_path_factory):
    worker = IngestProcess(dash_db[0], hostile_redis, tmp_path_factory.mktemp("ingest") / "ingest.log")
    worker.wait_ready(hostile_redis)
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def api_key(dash_db) -> str:
    with db.connect(dash_db[0]) as conn:
        _, plain = api_keys.create_key(conn, f"hostile-{uuid.uuid4().hex[:6]}")
    return plain


def bearer(server, username: str = "worker1") -> dict:
    r = requests.post(server.base + "/api/v1/token", data={"username": username, "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@dataclass(frozen=True)
class Snapshot:
    """What a request could leave behind: table rows, files in the media directory, bus entries."""

    rows: dict
    files: frozenset
    stream: bytes | None  # the stream's last-generated id: the worker trims entries, so XLEN may fall
    dead: int


def snapshot(server, db_url: str, rds) -> Snapshot:
    with psycopg.connect(db_url) as conn:
        rows = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}
    files = frozenset(str(p.relative_to(server.media)) for p in server.media.rglob("*") if p.is_file())
    try:
        last = rds.xinfo_stream(INCIDENT_STREAM)["last-generated-id"]
    except redis_lib.ResponseError:  # no stream yet
        last = None
    return Snapshot(rows, files, last, rds.xlen(DEAD_STREAM))


def wait_for(check, timeout: float = 20.0, every: float = 0.1):
    """Poll `check` until it returns something truthy; that value, or the last one after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)
