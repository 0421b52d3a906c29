"""An open live stream ends when its session does: logout, or the account disabled, within a few seconds."""

from __future__ import annotations

import threading
import time

import requests

from dashboard.live import RECHECK_S
from tests.dashboard.test_sessions import _account, _csrf, _login, _set

CUT_WITHIN_S = RECHECK_S + 4  # a recheck period, a beat, and a loaded machine's slack


class Stream:
    """/live read in a thread: when it ended, and the named events it carried."""

    def __init__(self, server, session: requests.Session):
        self.events: list[str] = []
        self.ended_at: float | None = None
        self._resp = session.get(server.base + "/live", stream=True, timeout=30)
        assert self._resp.status_code == 200, self._resp.text
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for line in self._resp.iter_lines(decode_unicode=True):
                if line and line.startswith("event: "):
                    self.events.append(line[len("event: "):])
        except (requests.RequestException, OSError, AttributeError, ValueError):
            pass  # close() from the test ends the read this way (urllib3 drops the socket under it)
        self.ended_at = time.monotonic()

    def wait_started(self) -> None:
        deadline = time.monotonic() + 10
        while "hello" not in self.events and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "hello" in self.events

    def wait_end(self, timeout: float) -> float | None:
        self._thread.join(timeout)
        return self.ended_at

    def close(self) -> None:
        self._resp.close()


def test_logout_cuts_the_open_stream_and_only_that_one(server, dash_db):
    name = _account(dash_db, "dispatcher")
    leaving, staying = _login(server, name), _login(server, name)
    cut, kept = Stream(server, leaving), Stream(server, staying)
    try:
        cut.wait_started(), kept.wait_started()
        t0 = time.monotonic()
        assert leaving.post(server.base + "/logout", headers=_csrf(leaving), allow_redirects=False,
                            timeout=30).status_code in (302, 303)
        ended = cut.wait_end(CUT_WITHIN_S + 5)
        assert ended is not None, "the stream of the logged-out session is still open"
        print(f"live stream cut {ended - t0:.1f} s after logout")
        assert ended - t0 <= CUT_WITHIN_S and cut.events[-1] == "ended"
        # The other session of the same account keeps its stream: a beat arrives after the cut.
        beats = kept.events.count("beat")
        time.sleep(RECHECK_S + 1)
        assert kept.ended_at is None and kept.events.count("beat") > beats
        # And the logged-out cookie cannot open a new one.
        assert leaving.get(server.base + "/live", timeout=10, allow_redirects=False).status_code == 401
    finally:
        cut.close(), kept.close()


def test_disabling_the_account_cuts_its_open_stream(server, dash_db):
    name = _account(dash_db, "dispatcher")
    s = _login(server, name)
    stream = Stream(server, s)
    try:
        stream.wait_started()
        t0 = time.monotonic()
        _set(dash_db, name, disabled=True)
        ended = stream.wait_end(CUT_WITHIN_S + 5)
        assert ended is not None, "the disabled account's stream is still open"
        print(f"live stream cut {ended - t0:.1f} s after the account was disabled")
        assert ended - t0 <= CUT_WITHIN_S and stream.events[-1] == "ended"
        assert s.get(server.base + "/live", timeout=10, allow_redirects=False).status_code == 401
    finally:
        stream.close()
