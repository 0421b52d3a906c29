"""The live feed and the wall's street ranking stay inside each user's area; maintenance gets its cases live."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import psycopg
import redis as redis_lib
import requests
from psycopg.rows import dict_row

from dashboard import data
from dashboard.access import SessionUser
from geodata.bus import LiveCamera, LiveGridWorker, LiveIncident, publish_live
from grid.lifecycle import Status
from tests.dashboard.test_access import api_login

SENTINEL = "CAM-SENTINEL"


def _events(server, cookies, publish) -> list[dict]:
    """Open /live with a session's cookies, publish once the relay beats, read up to the sentinel."""
    got = []
    with requests.get(server.base + "/live", cookies=cookies, stream=True, timeout=20) as r:
        assert r.status_code == 200
        lines = r.iter_lines(decode_unicode=True)
        # A beat comes from the relay's reader loop only once it has subscribed: publish after the first.
        for line in lines:
            if line.startswith("event: beat"):
                break
        publish()
        event = None
        for line in lines:
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:"):
                if event in (None, "batch"):  # messages waiting together come as one `batch` list
                    data = json.loads(line[5:])
                    for msg in data if event == "batch" else [data]:
                        got.append(msg)
                        if msg.get("code") == SENTINEL:
                            return got
                event = None
    raise AssertionError("the stream ended before the sentinel")


def test_supervisors_get_their_workers_and_maintenance_its_cases(browser, server, dash_redis):
    now = datetime.now(timezone.utc)
    rds = redis_lib.Redis.from_url(dash_redis)

    def publish():
        publish_live(rds, [
            LiveGridWorker(at=now, code="W005", on_duty=True, lon=114.37, lat=22.70),  # the other street
            LiveIncident(at=now, id=uuid.uuid4(), action="dispatch", status=Status.DISPATCHED,
                         matter_code="maint_camera_offline", priority=2, lon=114.31, lat=22.68,
                         street_code="440310001", community_code="440310001001"),
            LiveGridWorker(at=now, code="W001", on_duty=True, lon=114.31, lat=22.66),  # sup1's street
            LiveCamera(at=now, code=SENTINEL, health="online"),
        ])

    seen = {}
    for role, user in (("supervisor", "sup1"), ("maintenance", "maint1")):
        ctx = api_login(browser, server, user)
        try:
            cookies = {c["name"]: c["value"] for c in ctx.cookies()}
            seen[role] = _events(server, cookies, publish)
        finally:
            ctx.close()
    workers = {m["code"] for m in seen["supervisor"] if m.get("type") == "worker"}
    assert workers == {"W001"}  # W005 works in 440310002, outside sup1's street
    maint = [m for m in seen["maintenance"] if m.get("type") == "incident"]
    assert [m["matter_code"] for m in maint] == ["maint_camera_offline"]
    assert not [m for m in seen["maintenance"] if m.get("type") == "worker"]
    rds.close()


def test_the_wall_ranking_of_a_supervisor_holds_its_own_street(dash_db):
    with psycopg.connect(dash_db[0], row_factory=dict_row) as conn:
        everyone = data.street_ranking(conn, SessionUser("disp1", "dispatcher"))
        street = data.street_ranking(conn, SessionUser("sup1", "supervisor", "440310001"))
        community = data.street_ranking(conn, SessionUser("sup9", "supervisor", "440310002001"))
    assert {r["code"] for r in everyone} == {"440310001", "440310002"}
    assert [r["code"] for r in street] == ["440310001"]
    assert [r["code"] for r in community] == ["440310002"]
