"""The wall's shared snapshot (pages/wall/snapshot.py): one read per area and period whatever the number
of walls, a digest per part, and a wall sent only the parts it does not have yet."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timezone

import psycopg
import pytest

from dashboard.access import SessionUser
from dashboard.data import TTLCache
from dashboard.pages.wall import layers, snapshot
from tests.dashboard import griddata
from tests.dashboard.conftest import login

WALL = SessionUser("wall1", "wall")
SUPERVISOR = SessionUser("sup2", "supervisor", scope_code="440310002")


def test_one_request_reads_while_the_others_wait_for_its_value():
    cache, made, started = TTLCache(60.0), [], threading.Event()

    def make():
        made.append(1)
        started.set()
        time.sleep(0.3)  # the queries of a storm: long enough for every other request to arrive
        return {"rows": len(made)}

    got: list = []
    first = threading.Thread(target=lambda: got.append(cache.get("k", make, ttl_s=5.0)))
    first.start()
    assert started.wait(5)
    others = [threading.Thread(target=lambda: got.append(cache.get("k", make, ttl_s=5.0))) for _ in range(7)]
    for t in others:
        t.start()
    for t in [first, *others]:
        t.join(5)
    assert len(made) == 1 and got == [{"rows": 1}] * 8
    # another key is made on its own, and an expired entry is made again
    assert cache.get("other", lambda: "x") == "x"
    assert cache.get("k", make, ttl_s=0.0) == {"rows": 2} and len(made) == 2


def test_a_failed_read_is_not_cached_and_blocks_no_one():
    cache = TTLCache(60.0)

    def broken():
        raise psycopg.OperationalError("PostGIS restarting")

    with pytest.raises(psycopg.OperationalError):
        cache.get("k", broken)
    assert cache.get("k", lambda: "read again") == "read again"


def _add_open_case(url: str) -> None:
    with psycopg.connect(url) as conn:
        griddata._incident(conn, uuid.uuid4(), griddata.MATTERS[3], "dispatched", 114.385, 22.675,
                           ("440310002001002", "44031000200101"), "440310002001", "440310002", "W005",
                           datetime.now(timezone.utc), queue="worker", source="grid_worker")


def test_a_snapshot_counts_every_open_case_once_and_its_digests_follow_the_rows(db_url):
    griddata.seed(db_url)
    with psycopg.connect(db_url) as conn:
        a = snapshot.read(conn, WALL, "Asia/Shanghai")
        b = snapshot.read(conn, WALL, "Asia/Shanghai")
        open_n = conn.execute("SELECT count(*) FROM incident WHERE status NOT IN ('closed', 'cancelled')").fetchone()[0]
        scoped = snapshot.read(conn, SUPERVISOR, "Asia/Shanghai")
        street_open = conn.execute("SELECT count(*) FROM incident WHERE status NOT IN ('closed', 'cancelled') "
                                   "AND street_code = '440310002'").fetchone()[0]
    assert a.digests == b.digests and set(a.digests) == set(snapshot.PARTS)
    assert a.kpis["open"] == open_n == sum(r["n"] for r in a.clusters) == sum(a.counts.values())
    assert 0 < len(a.clusters) <= layers.MAX_CLUSTERS
    # a supervisor's snapshot holds its street only
    assert scoped.kpis["open"] == street_open == sum(r["n"] for r in scoped.clusters) < open_n
    assert [r["code"] for r in scoped.ranking] == ["440310002"]

    _add_open_case(db_url)
    with psycopg.connect(db_url) as conn:
        c = snapshot.read(conn, WALL, "Asia/Shanghai")
    changed = {p for p in snapshot.PARTS if c.digests[p] != a.digests[p]}
    assert {"kpis", "latest", "ranking", "counts", "clusters"} <= changed
    assert not changed & {"cameras", "workers"}  # those a new case leaves alone, and are not sent again
    assert c.kpis["open"] == open_n + 1


def _refresh(page) -> dict:
    """Ask for a resync as the live feed does; the response of the wall's refresh callback."""
    with page.expect_response(lambda r: "_dash-update-component" in r.url
                              and "wall-sent" in (r.request.post_data or "")) as resp:
        page.evaluate("window.dash_clientside.set_props('wall-sync', {data: Date.now()})")
    return json.loads(resp.value.body())["response"]


@pytest.mark.browser
def test_a_resync_sends_the_wall_only_what_changed(browser, server):
    ctx, page = login(browser, server, "wall")
    try:
        page.goto(server.base + "/wall?layer=live")
        page.wait_for_selector("#wall-kpi-open-value", timeout=30_000)
        page.wait_for_function("document.getElementById('wall-kpi-open-value').textContent !== '—'", timeout=30_000)
        page.wait_for_selector("#wall-map .gw-cluster", state="attached", timeout=30_000)
        # the shading follows the open counts sent as the layer's hideout: some sub-grid is not the empty shade
        fills = page.eval_on_selector_all(".leaflet-wall-subgrid-pane-pane path",
                                          "els => els.map(e => e.getAttribute('fill'))")
        assert len(fills) == 6 and any(f != "#12213d" for f in fills), fills
        page.evaluate("document.querySelector('#wall-map .gw-cluster').__kept = true")
        time.sleep(1.1)  # past the snapshot's period: the rows are read again, and are the same
        got = _refresh(page)
        # the alarm strip always comes (acknowledgements must reach it); nothing else changed, so
        # neither the polygons, nor the counts, nor the clusters, cameras or lists come again
        assert "wall-alarms" in got, got.keys()
        assert not {"wall-subgrids", "wall-clusters", "wall-cameras", "wall-workers", "wall-ticker",
                    "wall-ranking", "wall-kpi-open-value"} & set(got), got.keys()
        assert page.evaluate("document.querySelector('#wall-map .gw-cluster').__kept === true")
        # a wall that lost what it had (a forged or cleared digest) gets everything again, still its own area
        page.evaluate("window.dash_clientside.set_props('wall-sent', {data: {}})")
        again = _refresh(page)
        assert {"wall-subgrids", "wall-clusters", "wall-kpi-open-value"} <= set(again)
        assert len(again["wall-subgrids"]["data"]["features"]) == 6
    finally:
        ctx.close()
