"""Dashboard speed: first full render of /wall with the demo data (20,000 incidents, 200 cameras),
live delay from a gridwatch:live message to its marker, an optional soak, and the storm run.

    .venv/bin/python benchmarks/dashboard.py [--runs 5] [--messages 100] [--soak-minutes 10] [--storm]

--storm (issue 13): the open backlog is brought to 40,000 through the real path (bus -> ingest), then
2,000 high-priority camera events are published within one minute with the wall open, ingest running
in this process. Printed: wall first render (with the backlog), live delay p95 during the storm (live
message -> marker, and bus -> marker), callback p95 (browser round trips of /_dash-update-component),
the browser's JS heap and the server's RSS before and after (goals <= 2 s, <= 1 s, <= 300 ms, <= +10 %),
each beside the same figure measured in the quiet part of the run.

The dashboard is served as production serves it (`gridwatch dashboard`: gunicorn, gthread workers,
--dash-workers of them, 2 by default); the server's RSS is that of gunicorn's master and workers together.
Every alarm of the storm is accounted for: drawn as a live marker, merged into an earlier case, or
counted in the strip's total ("+N").

Uses the services of `gridwatch services up` (or GRIDWATCH_DATABASE_URL / GRIDWATCH_REDIS_URL): a
scratch database is made, migrated and seeded with the demo, then dropped; Redis database 12.
Goals (issue 5): first render <= 2 s, live delay p95 <= 1 s, soak growth <= 10 %.

Two more first renders each come after --quiet-s (20) seconds with no wall open, longer than the wall's
snapshot is kept warm: the first request after a quiet spell, which made the max (issue 13). Printed
beside them: when the page showed figures read after its navigation began (it paints old ones, labelled
with their age, then resyncs).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geodata import migrate  # noqa: E402
from geodata.demo import seed_demo  # noqa: E402
from geodata.bus import LIVE_CHANNEL, LiveIncident, incident_message, publish_incident, publish_live  # noqa: E402
from grid.routing import Source  # noqa: E402
from geodata.settings import Settings  # noqa: E402

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-precise-memory-info",
                 "--js-flags=--expose-gc"]
# Records when each live marker first appears, in the browser's wall clock (same machine as ours).
OBSERVER = """() => { window.__seen = {}; new MutationObserver(() => {
  for (const el of document.querySelectorAll('.gw-live-marker[data-id]'))
    if (!(el.dataset.id in window.__seen)) window.__seen[el.dataset.id] = Date.now();
}).observe(document.body, {childList: true, subtree: true}); }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _with_db(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


def serve(db_url: str, redis_url: str, port: int, media: str, workers: int) -> None:
    """Child mode: run the dashboard on 127.0.0.1:port as production does (`gridwatch dashboard`:
    gunicorn, gthread workers), so threads, processes and the per-process caches are the real ones."""
    from dashboard.config import DashboardConfig
    from workers.cli.dashboard_cmd import DashboardServer, gunicorn_options

    logging.basicConfig(level=logging.WARNING)
    options = gunicorn_options(argparse.Namespace(host="127.0.0.1", port=port, workers=workers, tls_cert=None,
                                                  tls_key=None))
    options["loglevel"] = "warning"
    # One secret for every worker: a session made by one is read by the other.
    config = DashboardConfig(database_url=db_url, redis_url=redis_url, secret_key=uuid.uuid4().hex,
                             media_dir=Path(media))
    DashboardServer(config, options).run()


def _rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants (gunicorn's master and its workers), in kB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def _login(browser, base: str):
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = ctx.new_page()
    page.goto(base + "/login")
    page.fill("#login-username", "wall")
    page.fill("#login-password", "wall-demo")
    page.click("#login-submit")
    page.wait_for_load_state("domcontentloaded")
    return ctx, page


def _render_once(browser, base: str, fresh: list | None = None) -> float:
    """Seconds from a cold navigation to /wall until its figures and map are drawn; with `fresh`, also
    appends the seconds until it shows figures read after the navigation began (a wall painted with old
    figures after a quiet spell asks again), or None when the page does not say when they were read."""
    ctx, page = _login(browser, base)
    page.goto(base + "/login")  # leave the wall, then time a cold navigation to it
    t0, began_ms = time.perf_counter(), time.time() * 1000  # the browser runs on this machine: one clock
    page.goto(base + "/wall")
    page.wait_for_function("""() => {
        const v = document.getElementById('wall-kpi-open-value');
        return v && v.textContent !== '—' && document.querySelectorAll('#wall-map path.leaflet-interactive, '
          + '#wall-map .leaflet-marker-icon, #wall-map path').length > 50; }""", timeout=30_000)
    took = time.perf_counter() - t0
    if fresh is not None:
        try:
            page.wait_for_function("""(began) => { const r = document.getElementById('wall-root');
                const at = r && r.getAttribute('data-figures-read');
                return at !== null && parseFloat(at) >= began - 100; }""", arg=began_ms, timeout=15_000)
            fresh.append(time.perf_counter() - t0)
        except Exception:  # noqa: BLE001 - a page that does not say the figures' age (before #13)
            fresh.append(None)
    ctx.close()
    return took


def _points(db_url: str, n: int):
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT ST_X(geom), ST_Y(geom), community_code, street_code FROM incident "
                            "ORDER BY random() LIMIT %s", (n,)).fetchall()


def _message(lon, lat, community, street, matter="hazard_fire_exit"):
    return LiveIncident(at=datetime.now(timezone.utc), id=uuid.uuid4(), action="create", status="reported",
                        matter_code=matter, priority=2, lon=lon, lat=lat, community_code=community,
                        street_code=street)


def _live_delays(page, rds, pts, gap_s: float) -> list[float]:
    page.evaluate(OBSERVER)
    sent = {}
    for lon, lat, comm, street in pts:
        msg = _message(lon, lat, comm, street)
        sent[str(msg.id)] = time.time() * 1000
        publish_live(rds, [msg])
        time.sleep(gap_s)
    time.sleep(2)
    seen = page.evaluate("window.__seen")
    return [(seen[k] - v) / 1000 for k, v in sent.items() if k in seen] + [float("inf")] * sum(
        1 for k in sent if k not in seen)


# ---- the storm run -----------------------------------------------------------------------------

CALLBACK_TIMES = """() => performance.getEntriesByType('resource')
    .filter(e => e.name.includes('_dash-update-component')).map(e => e.duration)"""


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def _p95(values: list[float]) -> float:
    v = sorted(values)
    return v[int(0.95 * (len(v) - 1))] if v else float("nan")


def _random_points(db_url: str, n: int, seed: int = 13) -> list[tuple[float, float]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT ST_X(p.geom), ST_Y(p.geom) FROM district d, "
                            "LATERAL ST_Dump(ST_GeneratePoints(d.geom, %s, %s)) p", (n, seed)).fetchall()


def _open_count(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT count(*) FROM incident WHERE status NOT IN ('closed', 'cancelled')").fetchone()[0]


def _ingest(db_url: str, redis_url: str, idle_s: float):
    from workers.ingest import IngestConfig, IngestWorker

    worker = IngestWorker(db_url, redis_url, IngestConfig(block_ms=50), consumer="bench-dashboard")
    return worker, lambda: worker.run(max_idle_s=idle_s)


def top_up_open(db_url: str, redis_url: str, target: int) -> int:
    """Bring the open incidents to `target` with routine citizen reports through the bus and ingest."""
    got = _open_count(db_url)
    # Ingest merges some reports into nearby open cases of the same matter: top up again for those.
    for k in range(4):
        if got >= target:
            break
        got = _top_up_once(db_url, redis_url, target - got, seed=100 + k)  # new places each round
    return got


def _top_up_once(db_url: str, redis_url: str, need: int, seed: int) -> int:
    with psycopg.connect(db_url) as conn:
        matters = [r[0] for r in conn.execute("SELECT code FROM matter WHERE active AND priority >= 2 "
                                              "AND family <> 'crime' ORDER BY code").fetchall()]
    rds = redis.Redis.from_url(redis_url)
    now = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    pipe = rds.pipeline(transaction=False)
    for k, (lon, lat) in enumerate(_random_points(db_url, need, seed)):
        publish_incident(pipe, incident_message(v=1, event_id=uuid.uuid4(), source=Source.APPEAL,
                                                matter=matters[k % len(matters)], lon=lon, lat=lat,
                                                observed_at=now, description="backlog"))
        if k % 2000 == 1999:
            pipe.execute()
    pipe.execute()
    worker, run = _ingest(db_url, redis_url, 3.0)
    run()
    rds.close()
    got = _open_count(db_url)
    print(f"backlog: {need} reports through ingest in {time.perf_counter() - t0:.0f} s "
          f"({worker.totals.created} created, {worker.totals.merged} merged); open incidents now {got:,}")
    return got


def storm(page, proc, db_url: str, redis_url: str, alarms: int, seconds: float, quiet: dict) -> None:
    """Publish `alarms` high-priority camera events over `seconds` with the wall open; print the figures."""
    import threading

    with psycopg.connect(db_url) as conn:
        matters = [r[0] for r in conn.execute("SELECT code FROM matter WHERE active AND priority = 1 "
                                              "AND family = 'crime' ORDER BY code").fetchall()]
    pts = _random_points(db_url, alarms)
    rds = redis.Redis.from_url(redis_url)
    time.sleep(10)  # the wall settles before the "before" figures
    page.evaluate("window.gc && window.gc()")
    heap0, rss0 = page.evaluate("performance.memory.usedJSHeapSize"), _rss_kb(proc.pid)
    page.evaluate("performance.setResourceTimingBufferSize(100000); performance.clearResourceTimings()")
    page.evaluate(OBSERVER)
    # Which callback each round trip was (the first output's id), to see which one makes the p95.
    by_callback: dict[str, list[float]] = {}

    def finished(req):
        if "_dash-update-component" not in req.url:
            return
        try:
            first = json.loads(req.post_data or "{}").get("output", "?").strip(".").split(".")[0]
        except ValueError:
            first = "?"
        by_callback.setdefault(first, []).append(req.timing["responseEnd"])

    page.on("requestfinished", finished)

    # When each new case's live message goes out (ingest publishes it after the commit).
    live_at: dict[str, float] = {}
    sub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    sub.subscribe(LIVE_CHANNEL)
    listening = True

    def listen():
        while listening:
            m = sub.get_message(timeout=0.2)
            if m and m.get("type") == "message":
                try:
                    d = json.loads(m["data"])
                except ValueError:
                    continue
                if d.get("type") == "incident" and d.get("action") == "create":
                    live_at.setdefault(str(d.get("id")), time.time() * 1000)

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    worker, run = _ingest(db_url, redis_url, 5.0)
    ingest = threading.Thread(target=run, daemon=True)
    ingest.start()
    sent: dict[str, float] = {}
    gap = seconds / alarms
    t0 = time.monotonic()
    for k, (lon, lat) in enumerate(pts):
        msg = incident_message(v=1, event_id=uuid.uuid4(), source=Source.CAMERA, matter=matters[k % len(matters)],
                               priority=1, lon=lon, lat=lat, observed_at=datetime.now(timezone.utc),
                               description="storm")
        sent[str(msg.event_id)] = time.time() * 1000
        publish_incident(rds, msg)
        wait = t0 + (k + 1) * gap - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    took = time.monotonic() - t0
    ingest.join(300)
    time.sleep(3)
    seen = page.evaluate("window.__seen")
    callbacks = page.evaluate(CALLBACK_TIMES)
    listening = False
    listener.join(2)
    sub.close()
    live = sorted((seen[k] - live_at[k]) / 1000 for k in sent if k in seen and k in live_at)
    e2e = sorted((seen[k] - v) / 1000 for k, v in sent.items() if k in seen)
    missed = sum(1 for k in sent if k not in seen)
    # Every alarm accounted for: drawn as a live marker, merged into an earlier case (no marker of its
    # own), or at least counted in the strip's total ("+N"), which is the server's count after a resync.
    with psycopg.connect(db_url) as conn:
        created = {r[0] for r in conn.execute("SELECT id::text FROM incident WHERE id = ANY(%s::uuid[])",
                                              (list(sent),)).fetchall()}
    strip_total = page.evaluate("(window.gridwatch.wall && window.gridwatch.wall.alarms.total) || 0")
    undrawn = sum(1 for k in created if k not in seen)
    time.sleep(15)  # the storm is over: resyncs settle, timers quiet down
    page.evaluate("window.gc && window.gc()")
    heap1, rss1 = page.evaluate("performance.memory.usedJSHeapSize"), _rss_kb(proc.pid)
    rds.close()
    print(f"storm: {alarms} alarms published in {took:.0f} s (load average {_load()}); ingest created "
          f"{worker.totals.created}, merged {worker.totals.merged}; {alarms - missed} drawn as a live marker, "
          f"{missed} not ({missed - undrawn} of them merged into an earlier case, {undrawn} new cases undrawn); "
          f"the strip counts {strip_total} alarms (shown + \"+N\") of {len(created)} new cases")
    lp = _p95(live)
    print(f"live delay during the storm (live message -> marker): p50 {statistics.median(live) * 1000:.0f} ms, "
          f"p95 {lp * 1000:.0f} ms over {len(live)} (goal p95 <= 1000 ms); "
          + (f"ratio to the quiet p95 {lp / quiet['live_p95']:.1f}x" if quiet["live_p95"] != float("inf")
             else "the quiet p95 was not reached (some quiet messages never drawn)"))
    print(f"bus -> ingest -> marker during the storm: p50 {statistics.median(e2e) * 1000:.0f} ms, "
          f"p95 {_p95(e2e) * 1000:.0f} ms over {len(e2e)}")
    cp = _p95(callbacks)
    print(f"callbacks during the storm: p95 {cp:.0f} ms over {len(callbacks)} round trips (goal <= 300 ms); "
          f"quiet p95 {quiet['callback_p95']:.0f} ms ({cp / quiet['callback_p95']:.1f}x)")
    page.remove_listener("requestfinished", finished)
    print("  by callback (first output): " + "; ".join(
        f"{k} n={len(v)} p50 {statistics.median(v):.0f} max {max(v):.0f} ms" for k, v in sorted(by_callback.items())))
    print(f"memory: JS heap {heap0 / 1e6:.1f} -> {heap1 / 1e6:.1f} MB ({(heap1 / heap0 - 1) * 100:+.0f} %), "
          f"server RSS {rss0 / 1e3:.0f} -> {rss1 / 1e3:.0f} MB ({(rss1 / rss0 - 1) * 100:+.0f} %) (goal <= +10 %)")


def main(argv: list[str] | None = None) -> int:
    """Seed, serve, measure, print."""
    argv = sys.argv[1:] if argv is None else argv
    if "--live-view" in argv:
        # The live view's run (issue 14) is its own module with its own options: benchmarks/live_view.py.
        from benchmarks import live_view
        return live_view.main([a for a in argv if a != "--live-view"])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--messages", type=int, default=100)
    ap.add_argument("--soak-minutes", type=float, default=0.0)
    ap.add_argument("--storm", action="store_true", help="the storm run (issue 13)")
    ap.add_argument("--storm-open", type=int, default=40000, help="open incidents before the storm")
    ap.add_argument("--storm-alarms", type=int, default=2000, help="high-priority camera events in the storm")
    ap.add_argument("--storm-seconds", type=float, default=60.0, help="published within this many seconds")
    ap.add_argument("--quiet-s", type=float, default=20.0,
                    help="two more first renders, each after this long with no wall open (0: none)")
    ap.add_argument("--dash-workers", type=int, default=2,
                    help="gunicorn worker processes of the dashboard (`gridwatch dashboard --workers`)")
    ap.add_argument("--serve", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        serve(args.serve[0], args.serve[1], int(args.serve[2]), args.serve[3], int(args.serve[4]))
        return 0

    from playwright.sync_api import sync_playwright

    settings = Settings().resolved()
    admin = _with_db(settings.require_database(), "postgres")
    name = f"gw_bench_dash_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db_url = _with_db(admin, name)
    proc = None
    try:
        with psycopg.connect(db_url) as conn:
            migrate.migrate(conn)
            t0 = time.perf_counter()
            summary = seed_demo(conn, ROOT / ".gridwatch" / "bench-dashboard", incidents_total=20000,
                                progress=False)
            print(f"seeded {summary.counts} in {time.perf_counter() - t0:.1f} s")
        base_redis = settings.require_redis().rsplit("/", 1)[0]
        redis_url = f"{base_redis}/12"
        redis.Redis.from_url(redis_url).delete("gridwatch:incidents")
        if args.storm:
            top_up_open(db_url, redis_url, args.storm_open)
        port = _free_port()
        proc = subprocess.Popen([sys.executable, __file__, "--serve", db_url, redis_url, str(port), "/tmp",
                                 str(args.dash_workers)], cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        rds = redis.Redis.from_url(redis_url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            _render_once(browser, base)  # warm caches (outlines, sub-grid shapes) like a running server
            renders = [_render_once(browser, base) for _ in range(args.runs)]
            print(f"first full render of /wall: median {statistics.median(renders):.2f} s, "
                  f"max {max(renders):.2f} s over {args.runs} runs (goal <= 2 s); load average {_load()}; "
                  f"gunicorn, {args.dash_workers} workers; each: " + " ".join(f"{r:.2f}" for r in renders))
            if args.quiet_s > 0:
                # No wall open for longer than the snapshot is kept warm (KEEP_WARM_S, 10 s): the case
                # that made the max (issue 13). Timed like the others, and until the figures are fresh.
                quiet, fresh = [], []
                for _ in range(2):
                    time.sleep(args.quiet_s)
                    quiet.append(_render_once(browser, base, fresh))
                print(f"first render after {args.quiet_s:g} s with no wall open: "
                      + " ".join(f"{q:.2f} s" for q in quiet) + " (goal <= 2 s); figures read since the navigation shown after "
                      + " ".join("n/a" if f is None else f"{f:.2f} s" for f in fresh) + f"; load average {_load()}")
            ctx, page = _login(browser, base)
            page.wait_for_selector("#wall-status[data-state=live]", timeout=30_000)
            page.evaluate("performance.setResourceTimingBufferSize(100000); performance.clearResourceTimings()")
            delays = sorted(_live_delays(page, rds, _points(db_url, args.messages), 0.1))
            p95 = delays[int(0.95 * (len(delays) - 1))]
            quiet_callbacks = _p95(page.evaluate(CALLBACK_TIMES))
            print(f"live delay message -> marker: p50 {delays[len(delays) // 2] * 1000:.0f} ms, "
                  f"p95 {p95 * 1000:.0f} ms over {len(delays)} messages (goal p95 <= 1000 ms); "
                  f"callbacks meanwhile p95 {quiet_callbacks:.0f} ms")
            if args.storm:
                storm(page, proc, db_url, redis_url, args.storm_alarms, args.storm_seconds,
                      {"live_p95": p95, "callback_p95": quiet_callbacks})
            if args.soak_minutes > 0:
                # The first 30 s fill the live layer to its cap (300 markers): measure from there.
                pts = _points(db_url, 2000)
                warm_end = time.monotonic() + 30
                end = warm_end + args.soak_minutes * 60
                i, heap0, rss0 = 0, None, None
                while time.monotonic() < end:
                    if heap0 is None and time.monotonic() >= warm_end:
                        page.evaluate("window.gc && window.gc()")
                        heap0, rss0 = page.evaluate("performance.memory.usedJSHeapSize"), _rss_kb(proc.pid)
                    lon, lat, comm, street = pts[i % len(pts)]
                    publish_live(rds, [_message(lon, lat, comm, street)])
                    i += 1
                    time.sleep(0.05)  # 20 incidents/s
                page.evaluate("window.gc && window.gc()")
                heap1, rss1 = page.evaluate("performance.memory.usedJSHeapSize"), _rss_kb(proc.pid)
                print(f"soak {args.soak_minutes:g} min after 30 s warm-up, {i} messages: JS heap "
                      f"{heap0 / 1e6:.1f} -> {heap1 / 1e6:.1f} MB ({(heap1 / heap0 - 1) * 100:+.0f} %), server RSS "
                      f"{rss0 / 1e3:.0f} -> {rss1 / 1e3:.0f} MB ({(rss1 / rss0 - 1) * 100:+.0f} %) (goal <= +10 %)")
            ctx.close()
            browser.close()
        rds.flushdb()
        rds.close()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(10)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    print(json.dumps({"ok": True}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
