"""Helpers of the fault tests: throw-away private servers, worker processes, and the counting of every
event_id in PostGIS and on the live feed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest
import redis

from geodata import migrate
from geodata.bus import INCIDENT_STREAM, LIVE_CHANNEL, InvalidMessage, LiveIncident, parse_live
from workers.services import PrivateServices

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def private_servers(tmp_path_factory, small_grid_sql):
    """A private PostGIS and Redis (append-only on) of the fault tests alone, so stopping them disturbs
    no other test; one pair for the session, since a cluster's initdb costs seconds."""
    home = tmp_path_factory.mktemp("faults-home")
    services = PrivateServices(home)
    info = services.up()
    with psycopg.connect(info["database_url"]) as conn:
        migrate.migrate(conn)
        conn.execute(small_grid_sql)
    yield services
    services.destroy()


@pytest.fixture
def own_services(private_servers):
    """(services, their URLs), both servers up: a test that failed during an outage may have left one down."""
    yield private_servers, private_servers.up()


def lattice_messages(n: int, start: int = 0, per_place: int = 1) -> list[dict]:
    """Reports at least 50 m apart inside the small grid; `per_place` reports share each place, so all
    but the first of a place merge into its case."""
    out = []
    now = datetime.now(timezone.utc).isoformat()
    for k in range(start, start + n):
        i, j = divmod(k // per_place, 38)
        out.append({"v": 1, "event_id": str(uuid.uuid4()), "source": "appeal", "matter": "DSP-NEIGHBOR",
                    "lon": 114.3002 + 0.00052 * j, "lat": 22.7002 + 0.00052 * i, "observed_at": now})
    return out


def push(client, messages):
    with client.pipeline(transaction=False) as pipe:
        for m in messages:
            pipe.xadd(INCIDENT_STREAM, {"data": json.dumps(m)})
        pipe.execute()


def start_worker(info, kind: str, *args: str, log: Path | None = None, env: dict | None = None) -> subprocess.Popen:
    """`gridwatch worker KIND ARGS` against the private servers; its output goes to `log`."""
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": info["database_url"], "GRIDWATCH_REDIS_URL": info["redis_url"],
           "PYTHONPATH": str(ROOT), **(env or {})}
    out = log.open("a") if log is not None else subprocess.DEVNULL
    try:
        return subprocess.Popen([sys.executable, "-m", "workers.cli", "worker", kind, *args], env=env, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log is not None:
            out.close()


def start_ingest(info, consumer: str, log: Path | None = None) -> subprocess.Popen:
    return start_worker(info, "ingest", "--batch-size", "100", "--claim-idle-ms", "1000", "--consumer", consumer,
                        log=log)


def stop(proc: subprocess.Popen | None) -> None:
    """SIGTERM and wait; SIGKILL when it does not end."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def counts(info) -> tuple[int, int, int]:
    """(incidents, report rows, distinct event_ids of reports)."""
    with psycopg.connect(info["database_url"]) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM incident), (SELECT count(*) FROM incident_report), "
            "(SELECT count(DISTINCT event_id) FROM incident_report)").fetchone()


def wait_for(predicate, timeout: float, what: str, step: float = 0.1, fail: bool = True):
    """Poll until predicate() is true (server outages count as not yet); fail naming `what` (or, with
    fail=False, return what it says last, for the counting to tell what is missing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (psycopg.OperationalError, redis.ConnectionError):
            pass
        time.sleep(step)
    if not fail:
        return False
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def reset(info):
    """Empty the incidents and the live outbox of the private database, and its Redis."""
    with psycopg.connect(info["database_url"]) as conn:
        conn.execute("TRUNCATE incident_event, incident_report, incident, live_outbox CASCADE")
    redis.Redis.from_url(info["redis_url"]).flushdb()


class LiveFeed(threading.Thread):
    """Everything published on gridwatch:live, read the way the dashboard does; reconnects by itself."""

    def __init__(self, redis_url: str):
        super().__init__(daemon=True, name="live-feed")
        self.redis_url = redis_url
        self.messages: list = []
        self.unreadable = 0
        self.subscribed = threading.Event()
        self.sessions = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=1)
                pubsub = client.pubsub()
                pubsub.subscribe(LIVE_CHANNEL)
                while not self.stopping.is_set():
                    m = pubsub.get_message(timeout=0.1)
                    if m is None:
                        continue
                    if m["type"] == "subscribe":
                        self.sessions += 1
                        self.subscribed.set()
                    elif m["type"] == "message":
                        try:
                            self.messages.append(parse_live(m["data"]))
                        except InvalidMessage:
                            self.unreadable += 1
            except (redis.ConnectionError, redis.TimeoutError):
                self.subscribed.clear()
                time.sleep(0.02)

    def __enter__(self) -> "LiveFeed":
        self.start()
        wait_for(self.subscribed.is_set, 10, "the live feed subscription")
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.join(5)

    def settle(self, n: int, timeout: float = 30) -> None:
        """Give the feed a moment to deliver at least n incident messages (the counting judges)."""
        wait_for(lambda: len(self.incidents()) >= n, timeout, "the live feed", fail=False)

    def incidents(self) -> list[LiveIncident]:
        return [m for m in list(self.messages) if isinstance(m, LiveIncident)]


@dataclass
class Figures:
    """Events sent, stored, lost and duplicated, in incident_report and on the live feed."""

    name: str
    sent: int
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    live_lost: int = 0
    live_duplicated: int = 0
    # The same counted per report by the event_id each live message names (docs/bus.md).
    live_event_lost: int = 0
    live_event_duplicated: int = 0
    extra: dict = field(default_factory=dict)

    def show(self) -> None:
        more = "".join(f", {k} {v}" for k, v in self.extra.items())
        print(f"\n[faults] {self.name}: sent {self.sent}, stored {self.stored}, lost {self.lost}, "
              f"duplicated {self.duplicated}; live feed lost {self.live_lost}, duplicated {self.live_duplicated}; "
              f"by event_id lost {self.live_event_lost}, duplicated {self.live_event_duplicated}{more}")


def tally(info, name: str, sent_ids: set[str], live: LiveFeed) -> Figures:
    """Count every sent event_id in incident_report and on the live feed.

    Merging must not hide a loss: an incident with n reports must have been announced once created
    and then once with each report count 2..n (one `merge` or situation message per further report);
    and each stored report of a sent event_id exactly once by the `event_id` its message names.
    """
    with psycopg.connect(info["database_url"]) as conn:
        rows = conn.execute("SELECT event_id::text, incident_id::text, attributes ? 'situation' "
                            "FROM incident_report").fetchall()
    per_event = Counter(e for e, _, _ in rows)
    fig = Figures(name, len(sent_ids))
    stored = set(per_event) & sent_ids
    fig.stored = len(stored)
    fig.lost = len(sent_ids - stored)
    fig.duplicated = sum(c - 1 for c in per_event.values())
    reports = Counter(i for e, i, _ in rows if e in sent_ids)
    # What the live feed should hold: per incident, report counts 1 (create) .. n, each exactly once.
    owed = Counter((i, k) for i, n in reports.items() for k in range(1, n + 1))
    seen = Counter((str(m.id), m.report_count) for m in live.incidents()
                   if m.action in ("create", "merge"))
    seen = Counter({k: v for k, v in seen.items() if k[0] in reports})
    fig.live_lost = sum((owed - seen).values())
    fig.live_duplicated = sum((seen - owed).values())
    # A camera situation's update may be kept as a report only, with no message: those are not owed.
    owed_events = {e for e, _, situation in rows if e in sent_ids and not situation}
    announced = Counter(str(m.event_id) for m in live.incidents() if m.event_id is not None)
    fig.live_event_lost = len(owed_events - set(announced))
    fig.live_event_duplicated = sum(n - 1 for e, n in announced.items() if e in sent_ids)
    return fig


def assert_exact(fig: Figures) -> None:
    """None lost, none twice, in PostGIS and on the live feed."""
    fig.show()
    assert (fig.stored, fig.lost, fig.duplicated) == (fig.sent, 0, 0), fig
    assert (fig.live_lost, fig.live_duplicated) == (0, 0), fig
    assert (fig.live_event_lost, fig.live_event_duplicated) == (0, 0), fig
