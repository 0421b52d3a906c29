"""The pages' answer to a `resync` event of /live (sent when the server dropped messages a slow client
had not read, dashboard/live.py): the wall drops its live markers and reloads its state, the tablet
reloads its task list, and both keep listening. The server side is tests/system/hostile/test_live_load.py."""

from __future__ import annotations

import time
import uuid

import pytest
import redis as redis_lib

from geodata.bus import publish_live
from tests.dashboard.conftest import live_create, live_wall, login

RESYNC = "(es) => es.dispatchEvent(new MessageEvent('resync', {data: JSON.stringify({dropped: 2000})}))"


def _requests_until(page, seen: list, timeout_s: float = 10) -> None:
    # Waiting in Playwright, not in time.sleep: its event handlers run only while it waits.
    deadline = time.monotonic() + timeout_s
    while not seen and time.monotonic() < deadline:
        page.wait_for_timeout(100)


@pytest.mark.browser
def test_the_wall_drops_its_live_markers_and_reloads_on_resync(browser, server, dash_redis):
    rds = redis_lib.Redis.from_url(dash_redis)
    ctx, page = live_wall(browser, server)
    try:
        marker = uuid.uuid4()
        publish_live(rds, [live_create(marker, 114.33)])
        page.wait_for_selector(f".gw-live-marker[data-id='{marker}']", timeout=10_000)
        # The syncs that message asked for (one at once, one trailing 1.5 s behind, each throttled to one
        # a second) are over before listening.
        time.sleep(4)
        syncs: list = []
        # Dash names what triggered a callback in changedPropIds: "wall-sync.data" is the state reload,
        # "wall-analysis-sync.data" the analysis layers'.
        page.on("request", lambda r: syncs.extend(k for k in ("wall-sync.data", "wall-analysis-sync.data")
                                                   if "_dash-update-component" in r.url and f'"{k}"' in (r.post_data or "")))
        page.evaluate(f"() => ({RESYNC})(window.gridwatch.live.es)")
        # The marker may be stale (its case closed in what was dropped): it goes, and the state reloads.
        page.wait_for_selector(f".gw-live-marker[data-id='{marker}']", state="detached", timeout=5_000)
        deadline = time.monotonic() + 10
        while set(syncs) != {"wall-sync.data", "wall-analysis-sync.data"} and time.monotonic() < deadline:
            time.sleep(0.1)
        assert set(syncs) == {"wall-sync.data", "wall-analysis-sync.data"}, syncs
        assert page.evaluate("window.gridwatch.live.resyncs") == 1
        # And it still listens: the next message is drawn.
        second = uuid.uuid4()
        publish_live(rds, [live_create(second, 114.331, 22.711)])
        page.wait_for_selector(f".gw-live-marker[data-id='{second}']", timeout=10_000)
    finally:
        ctx.close()
        rds.close()


@pytest.mark.browser
def test_the_tablet_reloads_its_tasks_on_resync(browser, server):
    ctx, page = login(browser, server, "grid_worker", size=(1280, 800))
    try:
        page.goto(server.base + "/field")
        page.wait_for_function("window.gridwatch.field && window.gridwatch.field.es", timeout=15_000)
        # The first load of the list is over (it leaves a copy for offline use) before listening.
        page.wait_for_function("localStorage.getItem('gridwatch.field.tasks') !== null", timeout=15_000)
        time.sleep(0.5)
        loads: list = []
        page.on("request", lambda r: loads.append(r.url) if r.url.endswith("/field/api/tasks") else None)
        page.evaluate(f"() => ({RESYNC})(window.gridwatch.field.es)")
        _requests_until(page, loads)
        assert loads, "the tablet did not reload its tasks"
    finally:
        ctx.close()
