"""Sessions end on logout, accounts answer as stored now, and the login limit holds under parallel tries."""

from __future__ import annotations

import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import redis as redis_lib
import requests

from dashboard import login_limit, sessions
from geodata import users
from tests.dashboard import griddata


def _login(server, username: str, password: str = griddata.PASSWORD) -> requests.Session:
    """A requests session logged in through the login form (asserts success)."""
    s = requests.Session()
    page = s.get(server.base + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = s.post(server.base + "/login", data={"username": username, "password": password, "csrf_token": token},
               allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    return s


def _csrf(s: requests.Session) -> dict:
    return {"X-CSRFToken": s.cookies.get("_csrf_token", "")}


def _account(dash_db, role: str, *, worker: str | None = None, scope: str | None = None) -> str:
    """A fresh account of `role` (its own name, so its limits and state touch no other test)."""
    name = f"{role[:6]}-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dash_db[0], row_factory=psycopg.rows.dict_row) as conn:
        users.create_user(conn, name, griddata.PASSWORD, role, worker_code=worker, scope_code=scope)
    return name


def _set(dash_db, name: str, **cols) -> None:
    with psycopg.connect(dash_db[0]) as conn:
        for col, value in cols.items():
            assert col in ("disabled", "role", "scope_code")
            conn.execute(f"UPDATE app_user SET {col} = %s WHERE username = %s", (value, name))


def test_a_saved_cookie_is_refused_after_logout(server):
    worker = _login(server, "worker1")
    saved = {"gridwatch_session": worker.cookies["gridwatch_session"]}
    assert requests.get(server.base + "/field/api/tasks", cookies=saved, timeout=10).status_code == 200
    r = worker.post(server.base + "/logout", headers=_csrf(worker), allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert requests.get(server.base + "/field/api/tasks", cookies=saved, timeout=10).status_code == 401

    disp = _login(server, "disp1")
    saved = {"gridwatch_session": disp.cookies["gridwatch_session"]}
    assert requests.get(server.base + "/console", cookies=saved, allow_redirects=False, timeout=10).status_code == 200
    disp.post(server.base + "/logout", headers=_csrf(disp), timeout=10)
    r = requests.get(server.base + "/console", cookies=saved, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and "/login" in r.headers["location"]


def test_the_session_lives_in_redis_with_the_idle_timeout_and_the_cookie_holds_only_its_id(server, dash_redis):
    s = requests.Session()
    s.get(server.base + "/login", timeout=10)
    token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(server.base + "/login", timeout=10).text).group(1)
    r = s.post(server.base + "/login", data={"username": "disp1", "password": griddata.PASSWORD,
                                             "csrf_token": token}, allow_redirects=False, timeout=30)
    set_cookie = r.headers["Set-Cookie"]
    # A browser-session cookie: no Expires/Max-Age, so nothing lives for ten years.
    assert "gridwatch_session=" in set_cookie and "expires" not in set_cookie.lower()
    assert "max-age" not in set_cookie.lower()
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    sid = s.cookies["gridwatch_session"]
    assert "disp1" not in sid and len(sid) >= 40
    rds = redis_lib.Redis.from_url(dash_redis)
    key = sessions.redis_key(sid)
    ttl = rds.ttl(key)
    assert 0 < ttl <= 60 * 60  # serve.py runs with a 60-minute idle timeout
    rds.expire(key, 30)
    # Each use sets the idle clock back to the full timeout, without a new cookie.
    r = s.get(server.base + "/console", allow_redirects=False, timeout=10)
    assert r.status_code == 200 and "gridwatch_session" not in r.headers.get("Set-Cookie", "")
    assert rds.ttl(key) > 30 * 60
    # The idle timeout ends it: the key gone, the cookie is refused.
    rds.delete(key)
    assert s.get(server.base + "/console", allow_redirects=False, timeout=10).status_code == 303
    rds.close()


def test_the_wall_session_has_the_longer_idle_timeout(server, dash_redis):
    wall = _login(server, "wall1")
    rds = redis_lib.Redis.from_url(dash_redis)
    # serve.py keeps the default wall timeout of 30 days, and 60 minutes for every other role.
    assert 29 * 24 * 3600 < rds.ttl(sessions.redis_key(wall.cookies["gridwatch_session"])) <= 30 * 24 * 3600
    rds.close()


def test_login_gives_a_new_session_id(server):
    s = requests.Session()
    page = s.get(server.base + "/login", timeout=10)
    before = s.cookies["gridwatch_session"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    s.post(server.base + "/login", data={"username": "disp1", "password": griddata.PASSWORD, "csrf_token": token},
           allow_redirects=False, timeout=30)
    assert s.cookies["gridwatch_session"] != before
    # The anonymous session it replaced is gone: no fixation.
    assert requests.get(server.base + "/console", cookies={"gridwatch_session": before},
                        allow_redirects=False, timeout=10).status_code == 303


def test_a_disabled_account_is_refused_at_once_with_its_sessions_and_tokens(server, dash_db):
    name = _account(dash_db, "grid_worker", worker="W001")
    browser = _login(server, name)
    token = requests.post(server.base + "/api/v1/token", data={"username": name, "password": griddata.PASSWORD},
                          timeout=30).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert browser.get(server.base + "/field/api/tasks", timeout=10).status_code == 200
    assert requests.get(server.base + "/api/v1/tasks", headers=bearer, timeout=10).status_code == 200
    _set(dash_db, name, disabled=True)
    assert browser.get(server.base + "/field/api/tasks", timeout=10).status_code == 401
    assert requests.get(server.base + "/api/v1/tasks", headers=bearer, timeout=10).status_code == 401
    _set(dash_db, name, disabled=False)
    # Re-enabled, the account must log in again: the refusal ended that session and that token for good.
    assert browser.get(server.base + "/field/api/tasks", timeout=10).status_code == 401
    assert requests.get(server.base + "/api/v1/tasks", headers=bearer, timeout=10).status_code == 401
    assert _login(server, name).get(server.base + "/field/api/tasks", timeout=10).status_code == 200


def test_a_role_or_scope_change_takes_effect_at_once(server, dash_db):
    name = _account(dash_db, "grid_worker", worker="W001")
    browser = _login(server, name)
    token = requests.post(server.base + "/api/v1/token", data={"username": name, "password": griddata.PASSWORD},
                          timeout=30).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    _set(dash_db, name, role="wall")
    assert browser.get(server.base + "/field/api/tasks", timeout=10).status_code == 403
    assert requests.get(server.base + "/api/v1/tasks", headers=bearer, timeout=10).status_code == 403
    assert browser.get(server.base + "/wall", allow_redirects=False, timeout=10).status_code == 200

    sup = _account(dash_db, "supervisor", scope="440310001")
    s = _login(server, sup)
    assert s.get(server.base + "/console", allow_redirects=False, timeout=10).status_code == 200
    _set(dash_db, sup, role="maintenance")
    assert s.get(server.base + "/console", allow_redirects=False, timeout=10).status_code == 403


def _parallel_logins(server, name: str, passwords: list[str]) -> list[int]:
    """POST every password for `name` at the same moment, each from its own session; their statuses."""
    sessions = []
    for _ in passwords:
        s = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(server.base + "/login", timeout=10).text).group(1)
        sessions.append((s, token))

    def attempt(i):
        s, token = sessions[i]
        return s.post(server.base + "/login", data={"username": name, "password": passwords[i], "csrf_token": token},
                      allow_redirects=False, timeout=60).status_code

    with ThreadPoolExecutor(len(passwords)) as pool:
        return list(pool.map(attempt, range(len(passwords))))


def test_parallel_wrong_passwords_are_verified_at_most_limit_times(server, dash_db):
    name = _account(dash_db, "dispatcher")
    statuses = _parallel_logins(server, name, ["wrong-password"] * 20)
    assert statuses.count(401) == login_limit.NAME_LIMIT, statuses
    assert statuses.count(429) == 20 - login_limit.NAME_LIMIT, statuses


def test_the_right_password_among_parallel_guesses_leaves_at_most_limit_failures(server, dash_db):
    name = _account(dash_db, "dispatcher")
    statuses = _parallel_logins(server, name, ["wrong-password"] * 15 + [griddata.PASSWORD])
    # Only a verified attempt answers 401 or 303: at most NAME_LIMIT wrong guesses reach argon2.
    assert statuses.count(401) <= login_limit.NAME_LIMIT, statuses
    assert statuses.count(401) + statuses.count(303) <= login_limit.NAME_LIMIT + 1, statuses
    assert set(statuses) <= {401, 303, 429} and statuses.count(429) >= 15 - login_limit.NAME_LIMIT, statuses
    # The window holds for the right password too, now that the guesses are used up.
    assert _parallel_logins(server, name, [griddata.PASSWORD]) == [429]


def test_parallel_token_requests_are_verified_at_most_limit_times(server, dash_db):
    name = _account(dash_db, "grid_worker", worker="W001")

    def attempt(_):
        return requests.post(server.base + "/api/v1/token", data={"username": name, "password": "wrong-password"},
                             timeout=60).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(attempt, range(20)))
    assert statuses.count(401) == login_limit.NAME_LIMIT, statuses
    assert statuses.count(429) == 20 - login_limit.NAME_LIMIT, statuses


def test_the_limiter_counts_atomically_per_name_and_per_address(redis_url):
    r = redis_lib.Redis.from_url(redis_url)

    def take(i):
        return login_limit.take_attempt(r, "alice", "10.0.0.1")

    with ThreadPoolExecutor(40) as pool:
        granted = list(pool.map(take, range(40)))
    assert granted.count(True) == login_limit.NAME_LIMIT
    assert 0 < r.ttl(login_limit.name_key("alice", "10.0.0.1")) <= login_limit.WINDOW_S
    # Names are counted case-blind: ALICE is alice.
    assert login_limit.take_attempt(r, "ALICE", "10.0.0.1") is False
    # A success hands its attempt back; failures keep theirs until the window ends.
    assert all(login_limit.take_attempt(r, "carol", "10.0.0.1") for _ in range(login_limit.NAME_LIMIT))
    login_limit.give_back(r, "carol", "10.0.0.1")
    assert login_limit.take_attempt(r, "carol", "10.0.0.1") is True
    assert login_limit.take_attempt(r, "carol", "10.0.0.1") is False

    # One address spraying many names is stopped by its own limit.
    with ThreadPoolExecutor(40) as pool:
        sprayed = list(pool.map(lambda i: login_limit.take_attempt(r, f"name{i % 200}-{i}", "10.0.0.2"),
                                range(login_limit.ADDRESS_LIMIT + 30)))
    assert sprayed.count(True) == login_limit.ADDRESS_LIMIT
    assert login_limit.take_attempt(r, "bob", "10.0.0.3") is True  # another address is untouched
    r.close()


def test_another_workers_task_is_not_found_whatever_the_action(server, ids, dash_db):
    # A second worker account on another grid worker: worker1's task is not theirs.
    with psycopg.connect(dash_db[0]) as conn:
        other = conn.execute("SELECT code FROM grid_worker WHERE code <> 'W001' ORDER BY code LIMIT 1").fetchone()[0]
    name = _account(dash_db, "grid_worker", worker=other)
    s = _login(server, name)
    for action in ("accept", "start", "resolve", "return"):
        r = s.post(server.base + "/field/api/action", headers=_csrf(s), timeout=10, data={
            "event_id": str(uuid.uuid4()), "incident_id": ids["task"], "action": action, "note": "x"})
        body = r.json()
        assert r.status_code == 404, (action, r.status_code, body)
        assert "params" not in body and "status" not in body and body["code"] == "api.no_task", body
    assert s.get(server.base + f"/field/api/task/{ids['task']}", timeout=10).status_code == 404


@pytest.fixture(autouse=True)
def _no_leftover_login_limits(dash_redis):
    """The suite logs in from one address: clear its per-address count so other tests keep their tries."""
    yield
    rds = redis_lib.Redis.from_url(dash_redis)
    for key in rds.scan_iter(login_limit.ADDRESS_KEY + "*"):
        rds.delete(key)
    rds.close()
