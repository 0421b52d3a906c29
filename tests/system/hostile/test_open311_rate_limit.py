"""Open311's rate limit: a fixed window per API key and per client address, atomic under parallel requests.

A server of its own with small limits (4 a minute per key, 10 per address) and a Redis database of its
own, flushed before each test, so neither the other tests' traffic nor an earlier run counts here.
"""

from __future__ import annotations

import http.client
import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis as redis_lib
import requests

from geodata import api_keys, db
from geodata.bus import INCIDENT_STREAM
from tests.dashboard.conftest import Server

PER_KEY, PER_ADDRESS = 4, 10
RATE_REDIS_DB = 11


@pytest.fixture(scope="module")
def rate_redis(server_urls) -> str:
    base = server_urls[1].rsplit("/", 1)[0]
    return f"{base}/{RATE_REDIS_DB}"


@pytest.fixture(scope="module")
def limited(dash_db, rate_redis, tmp_path_factory):
    srv = Server(dash_db[0], rate_redis, tmp_path_factory.mktemp("rate-media"),
                 open311_rates=(f"{PER_KEY}/minute", f"{PER_ADDRESS}/minute")).start()
    yield srv
    srv.stop()
    redis_lib.Redis.from_url(rate_redis).flushdb()


@pytest.fixture
def fresh(rate_redis):
    """The limit's Redis database emptied: every test (and every repeat) starts with full windows."""
    client = redis_lib.Redis.from_url(rate_redis)
    client.flushdb()
    yield client
    client.close()


def new_key(dash_db) -> str:
    with db.connect(dash_db[0]) as conn:
        return api_keys.create_key(conn, f"rate-{uuid.uuid4().hex[:6]}")[1]


def post(server, key: str) -> requests.Response:
    form = {"api_key": key, "service_code": "dispute_neighbour", "lat": "22.66", "long": "114.31",
            "description": "rate limit"}
    return requests.post(server.base + "/open311/v2/requests.json", data=form, timeout=30)


def assert_refused(r) -> None:
    assert r.status_code == 429, r.text
    body = r.json()
    assert body[0]["code"] == 429 and "too many requests" in body[0]["description"]
    assert 0 < int(r.headers["Retry-After"]) <= 60


def test_a_key_gets_its_window_then_429_with_retry_after(limited, dash_db, fresh):
    key, other = new_key(dash_db), new_key(dash_db)
    answers = [post(limited, key) for _ in range(PER_KEY + 1)]
    assert [a.status_code for a in answers] == [201] * PER_KEY + [429]
    assert_refused(answers[-1])
    # Another key from the same address still has its own window.
    assert post(limited, other).status_code == 201
    # Only the accepted requests reached the bus.
    assert fresh.xlen(INCIDENT_STREAM) == PER_KEY + 1


def test_an_address_gets_its_window_on_every_operation(limited, fresh):
    codes = [requests.get(limited.base + "/open311/v2/services.json", timeout=30).status_code
             for _ in range(PER_ADDRESS + 2)]
    assert codes == [200] * PER_ADDRESS + [429, 429]
    assert_refused(requests.get(limited.base + "/open311/v2/requests.json", timeout=30))
    # Another client address (127.0.0.2 reaches the same loopback server) is not held back by this one.
    conn = http.client.HTTPConnection("127.0.0.1", limited.port, timeout=30, source_address=("127.0.0.2", 0))
    conn.request("GET", "/open311/v2/services.json")
    r = conn.getresponse()
    assert r.status == 200 and isinstance(json.loads(r.read()), list)
    conn.close()


def test_parallel_requests_with_one_key_get_exactly_the_window(limited, dash_db, fresh):
    key = new_key(dash_db)
    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = sorted(r.status_code for r in pool.map(lambda _: post(limited, key), range(16)))
    assert codes == [201] * PER_KEY + [429] * (16 - PER_KEY)
    assert fresh.xlen(INCIDENT_STREAM) == PER_KEY
