"""/live under load: a client too slow for the feed is resynced, not cut off, and nothing is dropped
unannounced; the account rechecks of many open streams cost one query per account per period."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import psycopg

from dashboard.live import ACCOUNT_TTL_S, CLIENT_QUEUE, AccountChecks
from geodata import db, users
from geodata.bus import LiveEarlyWarning, publish_live
from tests.dashboard.test_sessions import _account, _login, _set
from tests.system.hostile.test_live_cut import CUT_WITHIN_S, Stream

FLOOD = 3 * CLIENT_QUEUE  # messages sent while the client reads nothing
PAD = "x" * 3000  # so the flood outgrows the socket buffers and the stream's queue
MARK_ID = 10**9  # the id of the messages sent after the flood, to see the stream go on
EVENT = re.compile(rb"(?:event: (\w+)\n)?data: (.*)\n")


class RawStream:
    """/live over a plain socket with a tiny receive buffer: a client on a slow link."""

    def __init__(self, server, cookies: dict):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", server.port))
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        # HTTP/1.0: no chunked framing between the events.
        self.sock.sendall(f"GET /live HTTP/1.0\r\nHost: 127.0.0.1:{server.port}\r\nCookie: {cookie}\r\n"
                          "Accept: text/event-stream\r\n\r\n".encode())
        self.buf = b""
        self.closed = False

    def read_for(self, seconds: float, until: bytes | None = None) -> None:
        """Read what arrives for `seconds` (or until `until` is in what was read)."""
        deadline = time.monotonic() + seconds
        self.sock.settimeout(0.2)
        while time.monotonic() < deadline and not (until and until in self.buf):
            try:
                got = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            if not got:
                self.closed = True
                return
            self.buf += got

    def events(self) -> list[tuple[str, dict]]:
        return [((m.group(1) or b"message").decode(), json.loads(m.group(2))) for m in EVENT.finditer(self.buf)]

    def close(self) -> None:
        self.sock.close()


def test_a_client_too_slow_for_the_feed_is_resynced_and_keeps_its_stream(server, rds):
    s = _login(server, "disp1")  # a dispatcher is sent every message
    stream = RawStream(server, dict(s.cookies))
    try:
        stream.read_for(15, until=b"event: hello")
        assert b"200 OK" in stream.buf.split(b"\r\n", 1)[0] and b"event: hello" in stream.buf, stream.buf[:300]
        at = datetime.now(timezone.utc)
        flood = [LiveEarlyWarning(at=at, id=i, kind="repeat", status="open", details={"pad": PAD})
                 for i in range(FLOOD)]
        for k in range(0, FLOOD, 500):
            publish_live(rds, flood[k:k + 500])
        # The relay takes the flood off Redis while this client reads nothing.
        time.sleep(3)
        # Now it reads again; marks are sent until one arrives, so the stream is known to go on.
        reader = threading.Thread(target=stream.read_for, args=(120, b'"id":%d' % MARK_ID), daemon=True)
        reader.start()
        while reader.is_alive():
            publish_live(rds, [LiveEarlyWarning(at=datetime.now(timezone.utc), id=MARK_ID, kind="repeat",
                                                status="open")])
            reader.join(0.5)
        stream.read_for(2.5)  # and a beat or two behind it
    finally:
        stream.close()
    events = stream.events()
    names = Counter(name for name, _ in events)
    # Pub/sub is shared by the whole Redis server: only this test's messages are counted as delivered.
    # Messages that were queued together come as one `batch` event, a list (dashboard/live.py).
    messages = [m for name, d in events if name in ("message", "batch") for m in (d if name == "batch" else [d])]
    delivered = [d["id"] for d in messages if d.get("type") == "early_warning" and d["id"] != MARK_ID]
    got = set(delivered)
    assert len(delivered) == len(got), "a message was delivered twice"
    dropped = sum(d["dropped"] for name, d in events if name == "resync")
    last_resync = max(i for i, (name, _) in enumerate(events) if name == "resync")
    print(f"\nslow client: {FLOOD} sent, {len(got)} delivered, {dropped} dropped in {names['resync']} resync(s)")
    assert not stream.closed and "ended" not in names, names
    assert names["resync"] >= 1, names
    # Every message of the flood was either delivered or counted in a resync notice: none lost unannounced.
    assert len(got) + dropped == FLOOD, (len(got), dropped)
    # After the resync the stream went on: the mark and beats came behind it.
    after = [name for name, d in events[last_resync + 1:]]
    assert "beat" in after and any(m.get("id") == MARK_ID for name, d in events[last_resync + 1:]
                                   for m in (d if name == "batch" else [d])), after[:20]


def test_many_streams_of_one_account_ask_postgis_once_per_period(dash_db):
    names = [_account(dash_db, "dispatcher") for _ in range(2)]
    with psycopg.connect(dash_db[0]) as conn:
        ids = [conn.execute("SELECT id FROM app_user WHERE username = %s", (n,)).fetchone()[0] for n in names]
    asked = Counter()

    def load(account_id: int) -> bool:
        # The query access.account makes, on a real connection, counted.
        asked[account_id] += 1
        with db.connect(dash_db[0]) as conn:
            u = users.user_by_id(conn, account_id)
        return u is not None and not u.disabled

    checks = AccountChecks(load)
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            for period in range(1, 4):
                # Sixteen streams, eight per account, rechecking at the same moment.
                answers = list(pool.map(lambda i: checks.enabled(ids[i % 2]), range(16)))
                assert all(answers)
                assert asked == {ids[0]: period, ids[1]: period}, asked
                time.sleep(ACCOUNT_TTL_S + 0.1)
            _set(dash_db, names[0], disabled=True)
            # The next period's answer sees the change, for every stream of that account.
            answers = list(pool.map(lambda i: checks.enabled(ids[i % 2]), range(16)))
        assert answers == [False, True] * 8
        assert asked == {ids[0]: 4, ids[1]: 4}, asked
    finally:
        _set(dash_db, names[0], disabled=False)


def test_disabling_an_account_cuts_all_its_streams_sharing_one_check(server, dash_db):
    streams = 3  # a wall of three screens
    name = _account(dash_db, "wall")
    sessions = [_login(server, name) for _ in range(streams)]
    opened = [Stream(server, s) for s in sessions]
    try:
        for st in opened:
            st.wait_started()
        t0 = time.monotonic()
        _set(dash_db, name, disabled=True)
        # One shared answer may be up to ACCOUNT_TTL_S old when a stream rechecks: that much later at worst.
        within = CUT_WITHIN_S + ACCOUNT_TTL_S
        ended = [st.wait_end(within + 5) for st in opened]
        assert all(e is not None for e in ended), "a stream of the disabled account is still open"
        print(f"\n{streams} streams cut {', '.join(f'{e - t0:.1f}' for e in ended)} s after the account was disabled")
        assert all(e - t0 <= within for e in ended) and all(st.events[-1] == "ended" for st in opened)
    finally:
        for st in opened:
            st.close()
