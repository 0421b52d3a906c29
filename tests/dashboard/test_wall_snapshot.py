"""The wall's shared snapshot (pages/wall/snapshot.py): one read per area and period whatever the number
of walls, a digest per part, and a wall sent only the parts it does not have yet."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import flask
import psycopg
import pytest
import redis as redis_lib
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from dashboard.access import SessionUser
from dashboard.config import DashboardConfig
from dashboard.data import TTLCache
from dashboard.pages.wall import layers, shared, snapshot
from geodata import wall_repo
from geodata.db import web_role_url
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
        # The first paint may be an older record of this area (a wall opens at once with the last one,
        # pages/wall/snapshot.py), read before an earlier test of this process changed the cases: one
        # resync first brings the page to a read made after this test began.
        time.sleep(1.1)
        if "wall-clusters" in _refresh(page):
            page.wait_for_timeout(1000)  # the new cluster layer is drawn before it is marked
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


# ---- shared by every dashboard process through Redis (pages/wall/shared.py) -------------------------

def _two_processes(url: str, **kw) -> tuple[shared.SharedValues, shared.SharedValues]:
    """Two SharedValues over one Redis, as two gunicorn workers have (each its own client and copies)."""
    opts = {"fresh_s": 0.3, "stale_s": 0.9, "lock_s": 5.0, "keep_warm_s": 0.8, **kw}
    return (shared.SharedValues(redis_lib.Redis.from_url(url), **opts),
            shared.SharedValues(redis_lib.Redis.from_url(url), **opts))


def test_one_process_builds_and_the_others_read_its_value_with_its_datetimes(redis_url):
    a, b = _two_processes(redis_url, keep_warm_s=0.0)
    built = []
    at = datetime(2026, 12, 6, 8, 30, 1, 250000, tzinfo=timezone.utc)

    def build():
        built.append(1)
        return {"latest": [{"id": "x", "created_at": at, "n": 3, "rate": 0.5, "code": None}], "counts": {"44": 2},
                "on_time": [{"day": at.date(), "closed": 4}]}

    first = a.get("k", build)
    second = b.get("k", build)
    assert len(built) == 1 and second == first
    got = second["latest"][0]["created_at"]
    assert got == at and got.utcoffset() is not None  # the same instant, still aware
    assert second["on_time"][0]["day"] == at.date()


def test_a_stale_value_is_served_at_once_and_one_build_at_a_time_keeps_it_fresh(redis_url):
    a, b = _two_processes(redis_url)
    builds, running, overlap = [], [0], []
    mutex = threading.Lock()

    def build():
        with mutex:
            running[0] += 1
            overlap.append(running[0])
        time.sleep(0.15)  # a storm's queries
        with mutex:
            running[0] -= 1
            builds.append(threading.current_thread().name)
        return {"n": len(builds)}

    a.get("k", build)  # nothing yet: this one waits for the first build
    waits, stop = [], time.monotonic() + 2.0

    def wall(proc):
        while time.monotonic() < stop:
            t0 = time.monotonic()
            proc.get("k", build)
            waits.append(time.monotonic() - t0)
            time.sleep(0.05)

    walls = [threading.Thread(target=wall, args=(p,), name=f"wall-{k}") for k, p in enumerate((a, b, a, b))]
    for t in walls:
        t.start()
    for t in walls:
        t.join(10)
    # never two builds at once, across both processes, and at most about one per fresh period
    assert max(overlap) == 1
    assert 3 <= len(builds) <= 2.2 / 0.3 + 2, len(builds)
    # no wall's request built: the keep-warm threads did, while the walls were served the last value
    # (a request builds only when nothing is younger than stale_s, like the first get above)
    assert not [n for n in builds if n.startswith("wall-")], builds
    assert len(waits) > 40 and sorted(waits)[len(waits) // 2] < 0.05, sorted(waits)[-5:]
    # nobody asks any more: after keep_warm_s (and the build then running) the building stops
    time.sleep(0.8 + 1.2)
    settled = len(builds)
    time.sleep(0.8)
    assert len(builds) == settled


def test_a_build_slower_than_stale_s_is_waited_for_once_not_until_the_lock_lapses(redis_url):
    # A loaded machine: the build takes longer than a value may be old. The request with nothing to
    # show takes the build under way in the other process as soon as it lands.
    a, b = _two_processes(redis_url, fresh_s=0.1, stale_s=0.2, lock_s=5.0, keep_warm_s=0.0)
    started = threading.Event()

    def slow():
        started.set()
        time.sleep(0.6)
        return "rows"

    builder = threading.Thread(target=lambda: a.get("k", slow))
    builder.start()
    assert started.wait(5)
    t0 = time.monotonic()
    assert b.get("k", lambda: "built by b") == "rows"
    assert time.monotonic() - t0 < 2.5  # one build (0.6 s) and slack for a busy machine, not the lock's 5 s
    builder.join(5)


def test_a_failed_build_reaches_the_waiting_request_and_frees_the_lock(redis_url):
    a, b = _two_processes(redis_url, keep_warm_s=0.0)

    def broken():
        raise psycopg.OperationalError("PostGIS restarting")

    with pytest.raises(psycopg.OperationalError):
        a.get("k", broken)
    assert b.get("k", lambda: "read again") == "read again"


def _app(db_url: str, redis_url: str) -> flask.Flask:
    """What pages/wall/snapshot.py reads of the app create_app builds (one Dash app per process, so
    not create_app itself): config, pool, Redis, cache."""
    app = flask.Flask(f"wall-{uuid.uuid4().hex[:6]}")
    app.config.update(
        GRIDWATCH=DashboardConfig(database_url=db_url, redis_url=redis_url, secret_key="x", media_dir=Path("/tmp")),
        GRIDWATCH_POOL=ConnectionPool(db_url, min_size=1, max_size=2, kwargs={"row_factory": dict_row}, open=True),
        GRIDWATCH_REDIS=redis_lib.Redis.from_url(redis_url), GRIDWATCH_CACHE=TTLCache(60.0))
    # Not kept warm after the test: its pool closes at the end.
    app.extensions["gridwatch_wall_shared"] = shared.SharedValues(
        app.config["GRIDWATCH_REDIS"], fresh_s=snapshot.SNAPSHOT_TTL_S, stale_s=snapshot.SERVED_OLD_S,
        lock_s=snapshot.BUILD_LOCK_S, keep_warm_s=0.0)
    return app


def test_the_shared_snapshot_is_keyed_by_area_so_a_supervisor_sees_only_their_street(db_url, redis_url):
    griddata.seed(db_url)
    apps = [_app(db_url, redis_url), _app(db_url, redis_url)]  # two processes
    try:
        with apps[0].app_context():
            wall, sup = snapshot.get(WALL), snapshot.get(SUPERVISOR)
            sup_alarms = snapshot.alarms(SUPERVISOR)
        with apps[1].app_context():
            # the other process reads what the first built, area by area
            assert snapshot.get(SUPERVISOR) == sup and snapshot.get(WALL) == wall
        assert [r["code"] for r in sup.ranking] == ["440310002"]
        assert [r["code"] for r in wall.ranking] != ["440310002"] and sup.kpis["open"] < wall.kpis["open"]
        assert all(a["street_code"] == "440310002" for a in sup_alarms[0])
        keys = sorted(k.decode() for k in redis_lib.Redis.from_url(redis_url).keys("gridwatch:wall:snapshot:*")
                      if not k.endswith(b":lock"))
        assert len(keys) == 2 and any(k.endswith(":440310002:*:Asia/Shanghai") for k in keys), keys
    finally:
        for app in apps:
            app.config["GRIDWATCH_POOL"].close()


def test_an_old_value_is_served_at_once_with_its_age_while_the_next_is_built(redis_url):
    # The first wall after a quiet spell (issue 13): the keep-warm threads have stopped, the last value
    # is far older than fresh_s; the request gets it at once, with when it was built, and the next
    # read finds the value the background build made meanwhile.
    opts = {"fresh_s": 0.3, "stale_s": 3600.0, "lock_s": 5.0, "keep_warm_s": 0.5}
    a = shared.SharedValues(redis_lib.Redis.from_url(redis_url), **opts)
    b = shared.SharedValues(redis_lib.Redis.from_url(redis_url), **opts)
    rds = redis_lib.Redis.from_url(redis_url)
    # A key of its own: a keep-warm thread of an earlier test (still within its keep_warm_s) writes its own.
    key = f"old-{uuid.uuid4().hex[:8]}"
    old_at = time.time() - 600  # built ten minutes ago by some process, nobody asking since
    rds.hset(key, mapping={"at": repr(old_at), "data": shared.encode({"n": 1})})
    started, release, built = threading.Event(), threading.Event(), []

    def build():
        started.set()
        assert release.wait(5)  # the queries, held until the old value has been served
        built.append(threading.current_thread().name)
        return {"n": 2}

    t0 = time.monotonic()
    value, at = b.get_at(key, build)
    took = time.monotonic() - t0
    assert value == {"n": 1} and at == old_at  # the old one, and how old it is
    assert took < 0.5, took  # served without waiting for the build, which is still held
    assert started.wait(5) and not built  # a build of the next one began, in the background
    release.set()
    deadline = time.monotonic() + 5
    while a.get_at(key, build)[0] != {"n": 2} and time.monotonic() < deadline:
        time.sleep(0.02)
    value, at = a.get_at(key, build)  # another process reads what the background build wrote
    assert value == {"n": 2} and at > old_at + 500
    assert built and not any(n == threading.current_thread().name for n in built)  # never in the request
    # Nothing at all (a new area): then, and only then, a request waits for the build.
    value, at = a.get_at("other", lambda: {"n": 3})
    assert value == {"n": 3} and time.time() - at < 5


def test_an_old_snapshot_is_served_with_its_age_but_its_alarms_are_read_afresh(db_url, redis_url):
    ids = griddata.seed(db_url)
    apps = [_app(db_url, redis_url), _app(db_url, redis_url)]  # two processes
    try:
        with apps[0].app_context():
            snap, age = snapshot.get_aged(WALL)
            rows, total = snapshot.alarms(WALL)
        assert age < snapshot.STALE_S and str(ids["alarm"]) in [r["id"] for r in rows]
        # The record ages with no wall open: it was built ten minutes ago.
        rds = redis_lib.Redis.from_url(redis_url)
        key = next(k for k in rds.keys("gridwatch:wall:snapshot:*") if not k.endswith(b":lock"))
        rds.hset(key, "at", repr(time.time() - 600))
        # Meanwhile a case opens and the console acknowledges the alarm.
        _add_open_case(db_url)
        with psycopg.connect(db_url) as conn:
            assert wall_repo.acknowledge_alarms(conn, [ids["alarm"]], "disp1", "dispatcher") == [str(ids["alarm"])]
        with apps[1].app_context():
            old, old_age = snapshot.get_aged(WALL)
            fresh_rows, fresh_total = snapshot.alarms(WALL)
        # the figures are the old ones, said to be old (the page labels them and asks again) ...
        assert old == snap and 590 < old_age < 700
        # ... but the strip is today's: an acknowledged alarm never blinks again on an old record
        assert str(ids["alarm"]) not in [r["id"] for r in fresh_rows] and fresh_total == total - 1
    finally:
        for app in apps:
            app.config["GRIDWATCH_POOL"].close()


@pytest.mark.browser
def test_a_wall_after_a_quiet_spell_paints_the_old_figures_labelled_then_the_new_ones(browser, server, dash_db):
    # The record of sup2's street as a process left it a while ago: its open count (99,999) is not what
    # the database holds now. The wall paints it at once, says how old it is, and then shows the build
    # that request started in the background.
    url = dash_db[0]
    rds = redis_lib.Redis.from_url(server.redis_url)
    # Keyed by the dashboard's own URL, its own role's (tests/dashboard/conftest.py, migration 0020).
    key = f"gridwatch:wall:snapshot:{shared.db_tag(web_role_url(url))}:440310002:*:Asia/Shanghai"
    last = rds.hget(key, "at")
    if last is None:
        at = time.time() - 3600  # nobody read this area yet: an hour old
    else:
        # A wall of this area was open before (a repeated run): wait until nobody keeps it warm any more,
        # then put ours just after the last build, so the server's own copy is not newer than ours.
        deadline = time.monotonic() + 60
        while time.time() - float(rds.hget(key, "at")) < snapshot.KEEP_WARM_S + 2 * snapshot.AGE_SHOWN_S:
            assert time.monotonic() < deadline, "the area is still kept warm: some wall of it is open"
            time.sleep(0.5)
        at = float(rds.hget(key, "at")) + 0.001
    with psycopg.connect(url) as conn:
        snap = snapshot.read(conn, SUPERVISOR, "Asia/Shanghai")
        rows, total = wall_repo.alarms(conn, {"scope_street": "440310002", "scope_community": None})
        open_now = snap.kpis["open"]
    old = {**dataclasses.asdict(snap), "kpis": {**snap.kpis, "open": 99_999}, "alarms": rows, "alarms_total": total}
    old["digests"] = {**snap.digests, "kpis": snapshot.digest(old["kpis"])}
    rds.hset(key, mapping={"at": repr(at), "data": shared.encode(old)})
    age = time.time() - at
    ctx, page = login(browser, server, "supervisor", username=SUPERVISOR.username)
    # Every (open count, age label) pair the page shows, from its first paint on: the new figures may
    # land a few hundred ms after it, before a check after the load could see the old ones.
    page.add_init_script("""window.__shown = []; new MutationObserver(() => {
        const v = document.getElementById('wall-kpi-open-value'), a = document.getElementById('wall-figures-age');
        if (!v || !a) return;
        const now = [v.textContent, a.hidden ? '' : a.textContent], last = window.__shown[window.__shown.length - 1];
        if (!last || last[0] !== now[0] || last[1] !== now[1]) window.__shown.push(now);
    }).observe(document, {childList: true, subtree: true, characterData: true, attributes: true});""")
    try:
        began_ms = time.time() * 1000  # the browser runs on this machine: one clock
        page.goto(server.base + "/wall")
        page.wait_for_function(f"""() => document.getElementById('wall-kpi-open-value')
            && document.getElementById('wall-kpi-open-value').textContent === '{open_now:,}'
            && document.getElementById('wall-figures-age').hidden""", timeout=15_000)
        shown = page.evaluate("window.__shown")
        # the page came with the old figures and their age (the label is in Chinese by default) ...
        first_open, first_label = shown[0]
        shown_age = re.search(r"\d+", first_label)
        assert first_open == "99,999" and shown_age and age - 1 <= int(shown_age[0]) < age + 60, (age, shown)
        # ... then the new ones, and the label went
        assert shown[-1] == [f"{open_now:,}", ""] and open_now != 99_999, shown
        # read by the build the page's own first request started (none ran before it)
        assert float(page.get_attribute("#wall-root", "data-figures-read")) >= began_ms - 100
    finally:
        ctx.close()
