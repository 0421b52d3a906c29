"""Open311 GeoReport v2 and the bearer-token tablet API, over HTTP against the real server."""

from __future__ import annotations

import json
import uuid

import pytest
import redis
import requests

from geodata import api_keys, db
from tests.dashboard.griddata import PASSWORD
from geodata.bus import INCIDENT_STREAM, parse_incident
from workers.ingest import IngestConfig, IngestWorker


@pytest.fixture(scope="module")
def api_key(dash_db) -> str:
    with db.connect(dash_db[0]) as conn:
        _, plain = api_keys.create_key(conn, f"open311-test-{uuid.uuid4().hex[:6]}")
    return plain


def ingest(dash_db, dash_redis):
    IngestWorker(dash_db[0], dash_redis, IngestConfig(block_ms=50), consumer="api-test").run(max_idle_s=0.5)


def test_services_are_the_matters_list_without_maintenance(server):
    r = requests.get(server.base + "/open311/v2/services.json", timeout=10)
    assert r.status_code == 200
    services = {s["service_code"]: s for s in r.json()}
    assert "dispute_neighbour" in services and "maint_camera_offline" not in services
    assert services["dispute_neighbour"]["service_name"] == "邻里纠纷"
    assert services["dispute_neighbour"]["metadata"] is False


def test_a_request_becomes_a_dispatched_incident_readable_by_its_id(server, dash_db, dash_redis, api_key):
    r = requests.post(server.base + "/open311/v2/requests.json", data={
        "api_key": api_key, "service_code": "dispute_neighbour", "lat": "22.66", "long": "114.31",
        "description": "楼道堆放杂物", "media_url": "https://photos.example/p/1.jpg"}, timeout=10)
    assert r.status_code == 201, r.text
    rid = r.json()[0]["service_request_id"]
    uuid.UUID(rid)
    # Answered at once; readable as soon as ingest has taken it.
    assert requests.get(f"{server.base}/open311/v2/requests/{rid}.json", timeout=10).status_code == 404
    ingest(dash_db, dash_redis)
    got = requests.get(f"{server.base}/open311/v2/requests/{rid}.json", timeout=10)
    assert got.status_code == 200
    (req,) = got.json()
    assert req["status"] == "open" and req["service_code"] == "dispute_neighbour"
    assert req["agency_responsible"] and "网格" in req["agency_responsible"]
    assert req["media_url"] == "https://photos.example/p/1.jpg"
    assert (req["lat"], req["long"]) == pytest.approx((22.66, 114.31))
    assert req["expected_datetime"] is not None  # dispatched at once: the deadline is known
    listed = requests.get(server.base + "/open311/v2/requests.json",
                          params={"status": "open", "service_code": "dispute_neighbour"}, timeout=10).json()
    assert rid in {x["service_request_id"] for x in listed}
    closed = requests.get(server.base + "/open311/v2/requests.json", params={"status": "closed"}, timeout=10).json()
    assert rid not in {x["service_request_id"] for x in closed}


@pytest.mark.parametrize("form, status, words", [
    ({"api_key": "gw_wrong", "service_code": "dispute_neighbour", "lat": "22.66", "long": "114.31"}, 403, "api_key"),
    ({"api_key": None, "service_code": "dispute_neighbour", "lat": "22.66", "long": "114.31"}, 403, "api_key"),
    ({"service_code": "no_such", "lat": "22.66", "long": "114.31"}, 404, "service_code"),
    ({"service_code": "dispute_neighbour", "lat": "95", "long": "114.31"}, 400, "lat"),
    ({"service_code": "dispute_neighbour", "lat": "22.66"}, 400, "long"),
    ({"service_code": "dispute_neighbour", "lat": "abc", "long": "114.31"}, 400, "number"),
    ({"service_code": "dispute_neighbour", "lat": "22.66", "long": "114.31", "media_url": "ftp://x/y"}, 400, "media_url"),
])
def test_bad_requests_get_the_specs_error_list(server, api_key, form, status, words):
    # None means: leave the field out.
    form = {k: v for k, v in {"api_key": api_key, **form}.items() if v is not None}
    r = requests.post(server.base + "/open311/v2/requests.json", data=form, timeout=10)
    assert r.status_code == status
    (err,) = r.json()
    assert err["code"] == status and words in err["description"]


@pytest.mark.parametrize("extra, words", [
    ({"media_url": "https://photos.example/a\\b.jpg"}, "media[0]"),
    ({"address_string": "坪山大道" * 8_000}, "bytes"),
], ids=["backslash-in-media-url", "too-big"])
def test_what_ingest_would_dead_letter_is_refused_at_the_door(server, dash_redis, api_key, extra, words):
    rds = redis.Redis.from_url(dash_redis)
    before = rds.xlen(INCIDENT_STREAM)
    r = requests.post(server.base + "/open311/v2/requests.json", data={
        "api_key": api_key, "service_code": "dispute_neighbour", "lat": "22.66", "long": "114.31", **extra},
        timeout=10)
    # The bus's own reason, in the spec's error list, and nothing on the stream.
    assert r.status_code == 400, r.text
    (err,) = r.json()
    assert err["code"] == 400 and words in err["description"]
    assert rds.xlen(INCIDENT_STREAM) == before


def test_xml_is_refused_clearly_and_outside_points_are_accepted(server, dash_redis, api_key):
    r = requests.get(server.base + "/open311/v2/services.xml", timeout=10)
    assert r.status_code == 400 and "json" in r.json()[0]["description"]
    before = redis.Redis.from_url(dash_redis).xlen(INCIDENT_STREAM)
    r = requests.post(server.base + "/open311/v2/requests.json", data={
        "api_key": api_key, "service_code": "hazard_fire_exit", "lat": "23.5", "long": "113.5"}, timeout=10)
    assert r.status_code == 201
    entries = redis.Redis.from_url(dash_redis).xrange(INCIDENT_STREAM)[before:]
    msg = parse_incident(entries[-1][1][b"data"])
    assert msg.source == "open311" and str(msg.event_id) == r.json()[0]["service_request_id"]


def _token(server, username, password=PASSWORD):
    return requests.post(server.base + "/api/v1/token", data={"username": username, "password": password}, timeout=10)


def test_bearer_token_serves_the_tablet_api_without_cookies_or_csrf(server, dash_redis):
    r = _token(server, "worker1")
    assert r.status_code == 200, r.text
    token = r.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    tasks = requests.get(server.base + "/api/v1/tasks", headers=auth, timeout=10)
    assert tasks.status_code == 200 and isinstance(tasks.json()["tasks"], list)
    event_id = str(uuid.uuid4())
    rep = requests.post(server.base + "/api/v1/reports", headers=auth, timeout=10, data={
        "event_id": event_id, "matter": "hazard_fire_exit", "lon": "114.31", "lat": "22.66", "description": "api"})
    assert rep.status_code == 200 and rep.json()["ok"] is True
    last = json.loads(redis.Redis.from_url(dash_redis).xrevrange(INCIDENT_STREAM, count=1)[0][1][b"data"])
    assert last["event_id"] == event_id and last["reporter"] == "W001"
    assert requests.delete(server.base + "/api/v1/token", headers=auth, timeout=10).status_code == 200
    assert requests.get(server.base + "/api/v1/tasks", headers=auth, timeout=10).status_code == 401


def test_bearer_api_refuses_missing_tokens_wrong_passwords_and_wrong_roles(server):
    r = requests.get(server.base + "/api/v1/tasks", timeout=10)
    assert r.status_code == 401 and "Bearer" in r.headers["WWW-Authenticate"]
    assert _token(server, "worker1", "wrong").status_code == 401
    wall = _token(server, "wall1").json()["token"]
    assert requests.get(server.base + "/api/v1/tasks", headers={"Authorization": f"Bearer {wall}"},
                        timeout=10).status_code == 403
    name = f"nobody-{uuid.uuid4().hex[:6]}"
    codes = [_token(server, name, "x").status_code for _ in range(7)]
    assert codes[:5] == [401] * 5 and codes[-1] == 429


def test_a_duplicate_request_is_readable_and_follows_the_case_it_merged_into(server, dash_db, dash_redis, api_key):
    form = {"api_key": api_key, "service_code": "hazard_fire_exit", "lat": "22.7012", "long": "114.3412"}
    first = requests.post(server.base + "/open311/v2/requests.json", data=form, timeout=10).json()[0]
    second = requests.post(server.base + "/open311/v2/requests.json", data={**form, "lat": "22.70121"},
                           timeout=10).json()[0]
    ingest(dash_db, dash_redis)
    got = requests.get(server.base + "/open311/v2/requests.json", timeout=10, params={
        "service_request_id": f"{first['service_request_id']},{second['service_request_id']}"}).json()
    assert {g["service_request_id"] for g in got} == {first["service_request_id"], second["service_request_id"]}
    assert len({g["agency_responsible"] for g in got}) == 1 and all(g["status"] == "open" for g in got)
