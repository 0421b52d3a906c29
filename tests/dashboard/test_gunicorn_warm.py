"""A fresh gunicorn worker is fully set up before it serves: many parallel first requests, no 5xx.

Dash does its set-up on the first request (callbacks copied into the app, the router callback added,
the component-suite paths registered), guarded by a flag set *before* the work: while one thread
does it, the others of a gthread worker went on with half a set-up (a 500 on react-dom, "dictionary
changed size during iteration"). Here the requests are sent as soon as gunicorn's master listens,
so they queue in its backlog and reach each worker all at once the moment it starts accepting.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor

import psycopg
import redis as redis_lib
import requests

from dashboard import sessions
from tests.dashboard import griddata
from tests.dashboard.conftest import cli_dashboard, free_port, stop_cli, wait_cli_ready

PARALLEL = 96  # three times a worker's 32 threads: both workers get a full house


def _wait_listening(proc: subprocess.Popen, port: int) -> None:
    """Until gunicorn's master has bound the port (its workers may still be building the app)."""
    def listening() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    wait_cli_ready(proc, listening, "gunicorn did not listen", step=0.02)


def _suites() -> list[str]:
    """Component-suite scripts a wall loads (react-dom failed in production), named by the installed
    packages' own lists; unfingerprinted, which Dash serves like the fingerprinted names."""
    import dash_leaflet
    from dash import _dash_renderer, dcc, html

    paths = [("dash", p) for p in _dash_renderer._js_dist_dependencies[0]["relative_package_path"]["prod"]]
    paths.append(("dash", _dash_renderer._js_dist[0]["relative_package_path"]))
    for lib in (dcc, html, dash_leaflet):
        paths += [(r["namespace"], r["relative_package_path"].replace("dash.", "")) for r in lib._js_dist
                  if isinstance(r.get("relative_package_path"), str) and r["relative_package_path"].endswith(".js")]
    return [f"/_dash-component-suites/{ns}/{path}" for ns, path in paths]


def _wall_session(dash_db, dash_redis) -> dict:
    """A signed-in wall session as /login leaves it in Redis, so that no request warms the server first."""
    with psycopg.connect(dash_db[0]) as conn:
        user_id = conn.execute("SELECT id FROM app_user WHERE username = %s",
                               (griddata.ACCOUNTS["wall"][0],)).fetchone()[0]
    sid = secrets.token_urlsafe(32)
    record = {"user_id": user_id, "username": griddata.ACCOUNTS["wall"][0], "role": "wall",
              "csrf": secrets.token_urlsafe(16)}
    rds = redis_lib.Redis.from_url(dash_redis)
    rds.set(sessions.redis_key(sid), json.dumps(record, default=str), ex=600)
    rds.close()
    return {"gridwatch_session": sid}


def test_parallel_first_requests_to_fresh_gunicorn_workers_never_fail(dash_db, dash_redis, tmp_path):
    cookies, suites = _wall_session(dash_db, dash_redis), _suites()
    assert any("react-dom" in u for u in suites) and any("dash_leaflet" in u for u in suites), suites
    first = ["/wall", "/_dash-layout", "/_dash-dependencies", "/login", "/healthz", *suites]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = cli_dashboard(dash_db[0], dash_redis, tmp_path, port, "--workers", "2")
    try:
        _wait_listening(proc, port)

        def fire(path):
            r = requests.get(base + path, cookies=cookies, allow_redirects=False, timeout=90)
            return path, r.status_code, r.text[:300] if r.status_code >= 500 else ""

        with ThreadPoolExecutor(PARALLEL) as pool:
            got = list(pool.map(fire, [first[k % len(first)] for k in range(PARALLEL)]))
    finally:
        out = stop_cli(proc)
    failed = [g for g in got if g[1] >= 500]
    assert not failed, (failed[:5], out[-3000:])
    # Every request answered as a warm server answers it: the session known, the scripts served.
    assert {code for _, code, _ in got} == {200}, sorted({(p, c) for p, c, _ in got if c != 200})
    assert "Traceback" not in out and "changed size during iteration" not in out, out[-3000:]
