"""The wall: live incidents without reload, the feed-lost notice and self-reconnect, sizes and fonts."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import pytest
import redis as redis_lib

from tests.dashboard.conftest import Server, login, shot, wait_wall_live
from geodata.bus import LiveIncident, publish_live

# Smallest font of any visible text in the wall, and of the KPI figures (px).
FONT_PROBE = """() => {
  const root = document.getElementById('wall-root');
  let minText = 1e9, minKpi = 1e9, where = '';
  for (const el of root.querySelectorAll('*')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    const r = el.getBoundingClientRect();
    if (!own || r.width === 0 || r.height === 0 || el.closest('[hidden]')) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (el.classList.contains('gw-kpi-value')) { minKpi = Math.min(minKpi, px); continue; }
    if (px < minText) { minText = px; where = el.className + ':' + el.textContent.slice(0, 20); }
  }
  const d = document.documentElement;
  return {minText, minKpi, where, scrollW: d.scrollWidth, scrollH: d.scrollHeight,
          w: window.innerWidth, h: window.innerHeight};
}"""


def _wait_loaded(page):
    page.wait_for_selector("#wall-root", timeout=15_000)
    page.wait_for_function("document.getElementById('wall-kpi-open-value').textContent !== '—'", timeout=15_000)
    wait_wall_live(page, 15_000)


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_wall_fills_the_screen_with_large_text(browser, server, size):
    foreign = []
    ctx, page = login(browser, server, "wall", size=size)
    page.on("request", lambda r: None if r.url.startswith((server.base, "data:")) else foreign.append(r.url))
    page.goto(server.base + "/wall")
    _wait_loaded(page)
    time.sleep(0.5)  # map tiles are drawn, not fetched: a short settle is enough
    probe = page.evaluate(FONT_PROBE)
    shot(page, f"wall-{size[0]}x{size[1]}")
    ctx.close()
    assert foreign == []  # every asset is served by the dashboard itself: no CDN, works offline
    assert probe["scrollW"] <= probe["w"] and probe["scrollH"] <= probe["h"], probe  # no scrollbars
    scale = size[0] / 1920
    assert probe["minKpi"] >= 48 * scale, probe
    assert probe["minText"] >= 24 * scale, probe


@pytest.mark.browser
def test_wall_in_english(browser, server):
    ctx, page = login(browser, server, "wall", path="/lang/en?next=/wall")
    _wait_loaded(page)
    assert "On-time closure" in page.inner_text("#wall-kpis")
    shot(page, "wall-en-1920x1080")
    ctx.close()


@pytest.mark.browser
def test_wall_shows_live_incidents_and_survives_a_lost_feed(browser, dash_db, dash_redis, tmp_path):
    srv = Server(dash_db[0], dash_redis, tmp_path).start()
    rds = redis_lib.Redis.from_url(dash_redis)
    ctx, page = login(browser, srv, "wall")
    page.on("console", lambda m: print("console:", m.text[:160]))
    try:
        # the live layer held: new markers are not waiting for its turn (wall/layers.py)
        page.goto(srv.base + "/wall?layer=live")
        _wait_loaded(page)
        incident_id = uuid.uuid4()
        msg = LiveIncident(at=datetime.now(timezone.utc), id=incident_id, action="create", status="reported",
                           matter_code="crime_intrusion", priority=1, lon=114.33, lat=22.71,
                           community_code="440310001002", street_code="440310001", queue="verification")
        t0 = time.monotonic()
        publish_live(rds, [msg])
        page.wait_for_selector(f".gw-live-marker[data-id='{incident_id}']", timeout=5_000)
        delay = time.monotonic() - t0
        # The 1 s goal is benchmarks/dashboard.py's to measure; here: drawn without a reload.
        print(f"live delay: {delay * 1000:.0f} ms")
        # intrusion is high priority: the alarm banner shows until the console acknowledges
        page.wait_for_selector("#wall-alarm:not([hidden])", timeout=3_000)
        shot(page, "wall-live-1920x1080")

        srv.stop()  # the feed drops
        page.wait_for_selector("#wall-status[data-state=stale]", timeout=10_000)
        text = page.inner_text("#wall-status")
        assert "数据已" in text and "秒未更新" in text and "连接中断" in text
        shot(page, "wall-disconnected-1920x1080")

        srv.start()  # same port: the wall reconnects and resyncs by itself, without a reload
        page.wait_for_selector("#wall-status[data-state=live]", timeout=20_000)
        second = uuid.uuid4()
        publish_live(rds, [msg.model_copy(update={"id": second, "priority": 2, "matter_code": "hazard_fire_exit"})])
        page.wait_for_selector(f".gw-live-marker[data-id='{second}']", timeout=5_000)
    finally:
        ctx.close()
        srv.stop()
        rds.close()


# Headless Chromium never holds audio back (whatever --autoplay-policy says), so the wall PC's case is
# made with the real AudioContext put in its real suspended state as it is created.
SUSPENDED_AUDIO = """(() => {
  const Real = window.AudioContext;
  window.AudioContext = function (...args) { const ctx = new Real(...args); ctx.suspend(); return ctx; };
})();"""


@pytest.mark.browser
def test_wall_asks_for_a_touch_when_the_browser_holds_back_the_alarm_sound(browser, server):
    ctx, page = login(browser, server, "wall")
    page.add_init_script(SUSPENDED_AUDIO)
    page.goto(server.base + "/wall")
    _wait_loaded(page)
    page.wait_for_selector("#wall-sound:not([hidden])", timeout=5_000)
    assert page.evaluate("window.gridwatch.live.audio.state") == "suspended"
    assert page.inner_text("#wall-sound") == "点击开启警报声音"
    probe = page.evaluate(FONT_PROBE)
    assert probe["minText"] >= 24 and probe["scrollW"] <= probe["w"], probe
    page.click("#wall-sound")
    page.wait_for_function("window.gridwatch.live.audio.state === 'running'", timeout=5_000)
    page.wait_for_selector("#wall-sound[hidden]", state="attached", timeout=5_000)
    ctx.close()
