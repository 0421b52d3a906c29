"""An alarm storm on the wall: thousands of high-priority camera events through the real path (bus ->
ingest -> PostGIS -> live feed -> wall). The map stays visible, the strip stays two lines with "+N",
clusters stay few and apart, and nothing scrolls or is cut."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timezone

import psycopg
import pytest
import redis as redis_lib
from psycopg import sql

from geodata.bus import incident_message, publish_incident
from geodata.bus.messages import Source
from tests.dashboard import griddata
from tests.dashboard.conftest import Server, login, shot, wait_wall_live
from tests.dashboard.fit import assert_fits
from workers.ingest import IngestConfig, IngestWorker

STORM = 2000
# A lattice over the test district (114.30-114.40, 22.65-22.75) 200 m apart: four times the merge radius,
# so every event is a case of its own, as in a real storm over many cameras.
STEP = 0.002

# Share of the map's area left uncovered, sampled on a grid: a point is covered when any shown element
# that is neither the map, inside it, nor one of its ancestors (the alarm strip, a legend, a notice...)
# has its box over it. Boxes, not hit-testing: a legend that lets clicks through still hides the map.
MAP_VISIBLE = """() => {
  const map = document.getElementById('wall-map'), r = map.getBoundingClientRect();
  const boxes = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el === map || map.contains(el) || el.contains(map)) continue;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || +cs.opacity === 0) continue;
    const b = el.getBoundingClientRect();
    if (b.width && b.height && b.right > r.left && b.left < r.right && b.bottom > r.top && b.top < r.bottom) boxes.push(b);
  }
  let seen = 0, n = 0;
  for (let i = 0; i < 96; i++) for (let j = 0; j < 54; j++) {
    const x = r.left + (i + 0.5) * r.width / 96, y = r.top + (j + 0.5) * r.height / 54;
    n++; if (!boxes.some(b => b.left <= x && x <= b.right && b.top <= y && y <= b.bottom)) seen++;
  }
  const a = document.getElementById('wall-alarm').getBoundingClientRect();
  const ix = Math.max(0, Math.min(a.right, r.right) - Math.max(a.left, r.left));
  const iy = Math.max(0, Math.min(a.bottom, r.bottom) - Math.max(a.top, r.top));
  return {visible: seen / n, alarmOverMap: ix * iy, mapArea: r.width * r.height,
          alarmLines: Math.round(a.height / parseFloat(getComputedStyle(document.getElementById('wall-alarm')).lineHeight))};
}"""

# For each circle on the map (clusters and the newest live markers): is its centre, where a cluster's
# number is, clear of every other circle?
CLUSTERS = """() => {
  const els = Array.from(document.querySelectorAll('#wall-map .gw-cluster, #wall-map .gw-live-marker'))
    .filter(e => e.offsetParent);
  const cs = els.map(e => {
    const r = e.getBoundingClientRect(); return {x: r.left + r.width / 2, y: r.top + r.height / 2, r: r.width / 2};
  });
  let clear = 0;
  for (const a of cs) {
    if (!cs.some(b => b !== a && Math.hypot(a.x - b.x, a.y - b.y) < b.r)) clear++;
  }
  return {n: cs.length, clusters: els.filter(e => e.classList.contains('gw-cluster')).length, clear,
          overdue: document.querySelectorAll('.gw-cluster-overdue').length};
}"""


@pytest.fixture
def storm_db(admin_url, template_db):
    """A database of its own (the storm adds thousands of cases), seeded with the small test grid."""
    name = f"gw_storm_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template_db)))
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    info["dbname"] = name
    url = psycopg.conninfo.make_conninfo(**info)
    griddata.seed(url)
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _storm_messages(n: int) -> list:
    now = datetime.now(timezone.utc)
    cols = int(0.1 / STEP)
    return [incident_message(v=1, event_id=uuid.uuid4(), source=Source.CAMERA,
                             matter="crime_intrusion" if k % 2 else "crime_crowd", priority=1,
                             lon=114.301 + STEP * (k % cols), lat=22.651 + STEP * (k // cols), observed_at=now,
                             description="storm")
            for k in range(n)]


@pytest.mark.browser
def test_an_alarm_storm_never_covers_the_map(browser, storm_db, dash_redis, tmp_path):
    srv = Server(storm_db, dash_redis, tmp_path).start()
    rds = redis_lib.Redis.from_url(dash_redis)
    rds.delete("gridwatch:incidents")
    ctx, page = login(browser, srv, "wall")
    page.on("pageerror", lambda e: print("page error:", str(e)[:200]))
    worker = None
    try:
        page.wait_for_selector("#wall-kpi-open-value", timeout=40_000)
        page.wait_for_function("document.getElementById('wall-kpi-open-value').textContent !== '—'", timeout=40_000)
        wait_wall_live(page, 40_000)
        before = page.evaluate(MAP_VISIBLE)

        messages = _storm_messages(STORM)
        worker = IngestWorker(storm_db, dash_redis, IngestConfig(block_ms=50), consumer="storm-test")
        ingest = threading.Thread(target=worker.run, kwargs={"max_idle_s": 5.0}, daemon=True)
        ingest.start()
        pipe = rds.pipeline(transaction=False)
        for msg in messages:
            publish_incident(pipe, msg)
        pipe.execute()
        # mid-storm, while live messages are still arriving
        page.wait_for_function("(window.gridwatch.live.alarmTotal || 0) >= 300", timeout=120_000)
        during = page.evaluate(MAP_VISIBLE)
        shot(page, "wall-storm-during-1920x1080")
        ingest.join(180)
        assert not ingest.is_alive(), "ingest did not finish the storm"
        with psycopg.connect(storm_db) as conn:
            made = conn.execute("SELECT count(*) FROM incident WHERE description = 'storm' OR id IN "
                                "(SELECT incident_id FROM incident_report WHERE description = 'storm')").fetchone()[0]
            newest = conn.execute("SELECT max(created_at) FROM incident WHERE priority = 1").fetchone()[0]
        # after the storm: the server's count is the truth (resync); the strip shows the newest and "+N"
        page.wait_for_function(f"+document.getElementById('wall-alarm-total').textContent >= {STORM}", timeout=60_000)
        page.wait_for_function(f"+document.getElementById('wall-kpi-open-value').textContent.replace(/,/g, '') >= {STORM}",
                               timeout=60_000)
        time.sleep(1.0)  # a resync and its list trimming settle
        after = page.evaluate(MAP_VISIBLE)
        strip = page.evaluate("""() => ({total: +document.getElementById('wall-alarm-total').textContent,
            shown: Array.from(document.querySelectorAll('#wall-alarm .gw-alarm-item')).filter(e => e.offsetParent).length,
            more: document.getElementById('wall-alarm-more').textContent,
            first: document.querySelector('#wall-alarm .gw-alarm-item').textContent})""")
        clusters = page.evaluate(CLUSTERS)
        shot(page, "wall-storm-after-1920x1080")
        print(f"storm: {made} cases; map visible before {before['visible']:.0%}, during {during['visible']:.0%}, "
              f"after {after['visible']:.0%}; strip {strip}; clusters {clusters}")
        assert_fits(page)
    finally:
        if worker is not None:
            worker.stopping = True
        ctx.close()
        srv.stop()
        rds.close()
    assert made == STORM
    for seen in (before, during, after):
        assert seen["visible"] >= 0.8, seen
        assert seen["alarmOverMap"] == 0, seen
    assert during["alarmLines"] <= 2 and after["alarmLines"] <= 2, (during, after)
    assert strip["total"] >= STORM and strip["shown"] >= 1
    assert strip["more"] == f"+{strip['total'] - strip['shown']}", strip
    local = newest.astimezone(timezone.utc).astimezone(tz=None)
    assert strip["first"][:2].isdigit() and local is not None  # newest first: a time, then the matter
    # readable: some tens of circles, nearly every number clear of its neighbours
    assert 0 < clusters["clusters"] <= 300 and clusters["clear"] >= 0.9 * clusters["n"], clusters
