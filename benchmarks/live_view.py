"""The live view's speed (issue 14): click -> first image, and frame age while watching.

    .venv/bin/python benchmarks/live_view.py [--opens 20] [--watch-seconds 30]
    .venv/bin/python benchmarks/dashboard.py --live-view [--opens 20] [--watch-seconds 30]

A scratch database holds one camera whose stream is a clip (a street with people walking through,
480x270 at 5 fps, played at its own pace), a real `gridwatch worker camera` process holds it, the
dashboard runs on gunicorn as in production (benchmarks/dashboard.py's child mode), and Debian's
Chromium clicks the camera's "live" button on /cameras.

- cold open: nobody watched the camera before the click (watch and frame keys gone), so the time
  includes the worker noticing the watch, encoding a frame and the relay picking it up;
- warm open (the reference, same run): a second viewer is already watching, so a fresh frame is
  waiting in Redis and the time is the dashboard's and the browser's share alone;
- frame age while watching: the view's own status (age of the frame the relay serves), sampled
  twice a second.
Goals: cold p95 <= 2 s, frame age p95 <= 2 s. Printed with the load average: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard.config import DashboardSettings  # noqa: E402
from geodata import camera_frames, migrate, users  # noqa: E402
from geodata.settings import Settings  # noqa: E402
from tests.video.clips import scene_clip  # noqa: E402

CODE = "BENCH-LIVE-1"
USER, PASSWORD = "bench_dispatcher", "bench-live-view"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _with_db(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def _p95(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def _login(browser, base: str):
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    page.goto(base + "/login")
    page.fill("#login-username", USER)
    page.fill("#login-password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("domcontentloaded")
    page.goto(base + "/cameras")
    page.locator(f".gw-live-open[data-camera='{CODE}']").wait_for(timeout=30_000)
    return ctx, page


def _open_once(page) -> float:
    """Click "live" and return the browser's click -> first image time in seconds (data-first-ms)."""
    page.locator(f".gw-live-open[data-camera='{CODE}']").click()
    page.wait_for_selector("#gw-live-modal[data-first-ms]", timeout=20_000)
    return int(page.get_attribute("#gw-live-modal", "data-first-ms")) / 1000


def _close(page) -> None:
    page.click(".gw-live-close")


def _drop_camera_keys(rds) -> None:
    rds.delete(camera_frames.WATCH_KEY.format(code=CODE), camera_frames.FRAME_KEY.format(code=CODE),
               f"gridwatch:camera:health:{CODE}", f"gridwatch:camera:lease:{CODE}")


def _forget(rds, watch_ttl_s: int) -> None:
    """Make the next open a cold one: wait for the closed stream to stop refreshing, drop both keys."""
    # The dashboard started below reads GRIDWATCH_LIVE_WATCH_TTL_S from this environment too; its relay
    # refreshes the watch at most every third of it.
    time.sleep(watch_ttl_s / 3 + 0.5)
    rds.delete(camera_frames.WATCH_KEY.format(code=CODE), camera_frames.FRAME_KEY.format(code=CODE))
    time.sleep(1.0)  # the worker's next poll sees nobody watching and stops encoding


def main(argv: list[str] | None = None) -> int:
    """Seed, start the worker and the dashboard, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--opens", type=int, default=20, help="cold opens (and as many warm ones)")
    ap.add_argument("--watch-seconds", type=float, default=30.0, help="how long one view is watched for frame age")
    ap.add_argument("--dash-workers", type=int, default=2)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    settings = Settings().resolved()
    watch_ttl_s = DashboardSettings().live_watch_ttl_s
    admin = _with_db(settings.require_database(), "postgres")
    name = f"gw_bench_live_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db_url = _with_db(admin, name)
    # The project's Redis as configured; only this run's camera keys are touched (sessions expire).
    redis_url = settings.require_redis()
    rds = redis.Redis.from_url(redis_url)
    _drop_camera_keys(rds)
    procs: list[subprocess.Popen] = []
    tmp = tempfile.TemporaryDirectory(prefix="gw-bench-live-")
    try:
        clip = scene_clip(Path(tmp.name) / "street.mp4", 20.0)
        with psycopg.connect(db_url) as conn:
            migrate.migrate(conn)
            conn.execute("INSERT INTO camera (code, name, url, geom) VALUES (%s, 'bench', %s, "
                         "ST_SetSRID(ST_MakePoint(114.35, 22.70), 4326))", (CODE, str(clip)))
            users.create_user(conn, USER, PASSWORD, "dispatcher")
        env = dict(os.environ, GRIDWATCH_DATABASE_URL=db_url, GRIDWATCH_REDIS_URL=redis_url,
                   GRIDWATCH_MEDIA_DIR=tmp.name, PYTHONPATH=str(ROOT))
        procs.append(subprocess.Popen([sys.executable, "-m", "workers.cli", "worker", "camera", "--cameras", CODE],
                                      cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        procs.append(subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "dashboard.py"), "--serve", db_url,
                                       redis_url, str(port), tmp.name, str(args.dash_workers)], cwd=ROOT))
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        deadline = time.monotonic() + 60
        while not rds.hget(f"gridwatch:camera:health:{CODE}", "last_frame_at") and time.monotonic() < deadline:
            time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            ctx, page = _login(browser, base)
            _open_once(page)  # warm the server's pool and the browser's caches, as a running system has
            _close(page)
            _forget(rds, watch_ttl_s)
            cold = []
            for _ in range(args.opens):
                cold.append(_open_once(page))
                _close(page)
                _forget(rds, watch_ttl_s)
            # The reference: another viewer keeps the camera watched, so a fresh frame is always waiting.
            other, other_page = _login(browser, base)
            _open_once(other_page)
            warm = []
            for _ in range(args.opens):
                warm.append(_open_once(page))
                _close(page)
                time.sleep(0.3)
            other.close()
            _open_once(page)
            ages, end = [], time.monotonic() + args.watch_seconds
            while time.monotonic() < end:
                a = page.get_attribute("#gw-live-modal", "data-age")
                if a:
                    ages.append(float(a))
                time.sleep(0.5)
            state = page.get_attribute("#gw-live-modal", "data-state")
            ctx.close()
            browser.close()
        load = _load()
        print(f"live view, click -> first image, cold (nobody watching before): p95 {_p95(cold):.2f} s, median "
              f"{statistics.median(cold):.2f} s, max {max(cold):.2f} s over {len(cold)} opens (goal p95 <= 2 s)")
        print(f"  reference, warm (a frame already waiting): p95 {_p95(warm):.2f} s, median "
              f"{statistics.median(warm):.2f} s; cold/warm p95 ratio {_p95(cold) / max(_p95(warm), 1e-3):.1f}")
        print(f"frame age while watching {args.watch_seconds:g} s ({len(ages)} samples of the view's status): p95 "
              f"{_p95(ages):.2f} s, median {statistics.median(ages):.2f} s, max {max(ages):.2f} s (goal p95 <= 2 s); "
              f"last state {state}")
        print(f"load average {load}; gunicorn, {args.dash_workers} workers; one camera worker on a clip")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        _drop_camera_keys(rds)
        tmp.cleanup()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
