"""The whole system under load (issue 12, item 3): incidents from every source at once, nothing lost.

How to run (about 3 minutes of set-up on top of the run; needs ffmpeg, /usr/bin/chromium and the
system python's GStreamer RTSP bindings, as tests/video does):

    .venv/bin/python benchmarks/system.py --quick           # ~10 s at 200/s: checks it end to end
    .venv/bin/python benchmarks/system.py                   # 60 s at 1,000 incidents/s
    .venv/bin/python benchmarks/system.py --seconds 60 --rate 1000 --tablets 4 --open311 4 --cameras 4
    .venv/bin/python benchmarks/system.py --profile-walls   # + where the wall browsers spend their time
    .venv/bin/python benchmarks/system.py --walls 1 --keep  # one wall; the processes' logs kept

It starts throw-away private PostGIS and Redis servers (workers/services.py, Redis on --redis-port
when free), seeds the Pingshan demo, and runs what production runs: the dashboard on gunicorn
(`gridwatch dashboard --workers 2`), two ingest workers, the deadlines and analysis workers, and
camera workers reading RTSP from loopback (GStreamer test servers playing synthetic scenes). Then,
for --seconds, all at once:

- tablets: grid_worker accounts made with `gridwatch user add`, a bearer token each
  (POST /api/v1/token), reports to POST /api/v1/reports as fast as the dashboard answers;
- Open311 clients with keys made by `gridwatch apikey create`, POST /open311/v2/requests.json;
- the rest of --rate straight onto the stream with geodata.bus.publish_incident (docs/bus.md);
- three wall browsers (headless Chromium, wall accounts) on /wall.

Printed: incidents stored per second as a ratio against plain XADD + XREADGROUP + XACK measured in
the same run, and the HTTP report rate against GET /healthz with the same clients; every event_id
that reached the stream counted in incident_report and on the live channel (lost, duplicated); the
live delay from the stream entry to the wall page (p50/p95 against the 1 s goal, and to the map
marker); each process's CPU seconds and peak memory. A wall counts only the creates that entered the
stream after it showed "live" (camera cases of the warm-up came before any page was open), and may miss
one only when the server said so (a `resync` notice counting what it dropped). Exit status 1 when
anything was lost or duplicated, or missed a wall unannounced. Everything is deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # before benchmarks/: its video.py would shadow the video package

import numpy as np  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402

from benchmarks.ingest import drained_group, positions  # noqa: E402
from benchmarks.system_observe import REPORT_ACTIONS, LiveFeed, SseReader, StreamAudit, Walls  # noqa: E402
from benchmarks.system_procs import ProcessSampler  # noqa: E402
from geodata import migrate  # noqa: E402
from geodata.bus import incident_message, publish_incident  # noqa: E402
from geodata.demo import seed_demo  # noqa: E402
from grid.routing import Source  # noqa: E402
from workers.services import PrivateServices, free_port  # noqa: E402

SYSTEM_PYTHON = "/usr/bin/python3"
RTSP_SERVER = ROOT / "tests" / "video" / "rtsp_server.py"
SCENES = (("gathering", 102), ("lingering", 103), ("walk_through", 101), ("covered", 104))
LOAD = Path(__file__).with_name("system_load.py")
START_DELAY_S = 15.0
WALL_GRACE_S = 30.0  # what reaches a wall later than this after the load counts as late


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# ---- set-up ------------------------------------------------------------------------------------

def start_services(home: Path, redis_port: int) -> tuple[PrivateServices, dict]:
    """Private servers of this run alone; Redis gets the port asked for while it is free."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "services.json").write_text(json.dumps({"redis_port": redis_port}))
    services = PrivateServices(home)
    return services, services.up()


def gridwatch(env: dict, *args: str, stdin: str | None = None) -> str:
    res = subprocess.run([sys.executable, "-m", "workers.cli", *args], env=env, cwd=ROOT, input=stdin,
                         capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise RuntimeError(f"gridwatch {' '.join(args[:2])} failed: {res.stderr.strip()}")
    return res.stdout


def make_accounts(env: dict, db_url: str, tablets: int, walls: int, keys: int) -> tuple[list, list, list]:
    """Accounts and keys made the way an operator makes them: through the gridwatch command."""
    with psycopg.connect(db_url) as conn:
        codes = [r[0] for r in conn.execute(
            "SELECT code FROM grid_worker WHERE active ORDER BY code LIMIT %s", (tablets,))]
    tag = uuid.uuid4().hex[:6]
    tablet_accounts, wall_accounts, api_keys = [], [], []
    for i, code in enumerate(codes):
        name, password = f"bench-tablet-{i}-{tag}", uuid.uuid4().hex
        gridwatch(env, "user", "add", name, "--role", "grid_worker", "--worker", code, "--password-stdin",
                  stdin=password + "\n")
        tablet_accounts.append((name, password))
    for i in range(walls):
        name, password = f"bench-wall-{i}-{tag}", uuid.uuid4().hex
        gridwatch(env, "user", "add", name, "--role", "wall", "--password-stdin", stdin=password + "\n")
        wall_accounts.append((name, password))
    for i in range(keys):
        api_keys.append(gridwatch(env, "apikey", "create", f"bench-open311-{i}-{tag}").strip())
    return tablet_accounts, wall_accounts, api_keys


def camera_clips(conn, home: Path, n: int, seconds: float) -> list[tuple[str, Path, object]]:
    """n synthetic scenes as H.264 clips of `seconds`, each with the seeded camera it will play on."""
    from geodata.cameras import first_positions
    from tests.video.clips import encode_h264
    from video.synthetic import build

    out = []
    (home / "clips").mkdir(exist_ok=True)
    cams = first_positions(conn, n)
    for k, cam in enumerate(cams):
        name, seed = SCENES[k % len(SCENES)]
        scene = build(name, seed + 10 * (k // len(SCENES)), "drawn")
        frames = [f for f, _ in scene.frames()]
        # Forwards and backwards to the length wanted: no cut, so no false scene change.
        seq: list = []
        while len(seq) < seconds * 5:
            seq.extend(frames if (len(seq) // len(frames)) % 2 == 0 else frames[::-1])
        clip = encode_h264(seq[:int(seconds * 5)], home / "clips" / f"{cam['code']}.mp4", 5.0)
        out.append((cam, clip, scene.config))
    return out


def start_rtsp(clip: Path, mount: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([SYSTEM_PYTHON, str(RTSP_SERVER), str(port), str(clip), "--mount", mount],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("ready"):
        raise RuntimeError(f"RTSP server did not start: {line} {proc.stderr.read() if proc.poll() else ''}")
    return proc, port


def wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.3)


def reference_rate(client: redis.Redis, n: int) -> float:
    """Plain XADD + XREADGROUP + XACK of n messages of the same shape: the stream alone, per second."""
    stream = "gridwatch:bench:reference"
    client.delete(stream)
    body = incident_message(v=1, event_id=uuid.uuid4(), source=Source.APPEAL, matter="X", lon=114.35, lat=22.7,
                            observed_at=datetime.now(timezone.utc)).model_dump_json()
    client.xgroup_create(stream, "ref", id="0", mkstream=True)
    t0 = time.perf_counter()
    for start in range(0, n, 500):
        with client.pipeline(transaction=False) as pipe:
            for _ in range(min(500, n - start)):
                pipe.xadd(stream, {"data": body})
            pipe.execute()
        reply = client.xreadgroup("ref", "r1", {stream: ">"}, count=500)
        client.xack(stream, "ref", *[e for _, items in reply for e, _ in items])
    took = time.perf_counter() - t0
    client.delete(stream)
    return n / took


# ---- the figures -----------------------------------------------------------------------------

def pct(values, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def stored_reports(db_url: str, ids: list[str]) -> tuple[dict[str, list[str]], Counter]:
    """event_id -> incident ids of its incident_report rows; event_id -> history rows that report made.

    A further report of a case is announced on the live channel, with its own event_id, when ingest wrote
    a history row for it (merge, situation phase); a situation update within a minute of the last one is
    kept as a report only, by design, and announced by nothing.
    """
    out: dict[str, list[str]] = {}
    with psycopg.connect(db_url) as conn:
        for event_id, incident_id in conn.execute(
                "SELECT event_id::text, incident_id::text FROM incident_report WHERE event_id = ANY(%s::uuid[])",
                (ids,)):
            out.setdefault(event_id, []).append(incident_id)
        announced = Counter(dict(conn.execute(
            "SELECT data->>'event_id', count(*) FROM incident_event WHERE action = ANY(%s) "
            "AND data->>'event_id' = ANY(%s) GROUP BY 1", (list(REPORT_ACTIONS), ids)).fetchall()))
    return out, announced


def account(audit: StreamAudit, live: LiveFeed, stored: dict[str, list[str]], announced: Counter) -> dict:
    """Lost and duplicated, in the database and on the live channel, for every event_id on the stream."""
    lost_db = [e for e in audit.entries if e not in stored]
    dup_db = [e for e, rows in stored.items() if len(rows) > 1]
    creators = [e for e, rows in stored.items() if rows[0] == e]
    lost_live = [e for e in creators if e not in live.created]
    dup_live = sum(live.created_again[e] for e in creators)
    joined = sum(1 for e, rows in stored.items() if rows[0] != e)
    # Per report: each history row a joined report made is announced once, with that report's event_id.
    short = [e for e, n in announced.items() if live.report_events[e] < n]
    extra = sum(max(0, n - announced[e]) for e, n in live.report_events.items() if e in audit.entries)
    return {"lost_db": lost_db, "dup_db": dup_db, "creators": creators, "lost_live": lost_live,
            "dup_live": dup_live, "joined": joined, "announced": sum(announced.values()),
            "joined_short": len(short), "joined_extra": extra}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the load")
    ap.add_argument("--rate", type=int, default=1000, help="incidents/s from all sources together")
    ap.add_argument("--tablets", type=int, default=4, help="tablet clients (grid_worker accounts)")
    ap.add_argument("--open311", type=int, default=4, help="Open311 clients (API keys)")
    ap.add_argument("--cameras", type=int, default=4, help="RTSP cameras, shared by two camera workers")
    ap.add_argument("--walls", type=int, default=3, help="wall browsers")
    ap.add_argument("--history", type=int, default=20000, help="past incidents seeded with the demo")
    ap.add_argument("--redis-port", type=int, default=6393)
    ap.add_argument("--quick", action="store_true", help="10 s at 200/s with a small history: a check")
    ap.add_argument("--profile-walls", action="store_true",
                    help="print Chromium's time per wall (script, layout, style) and the first wall's hottest functions")
    ap.add_argument("--keep", action="store_true", help="keep the processes' logs (their folder is printed)")
    args = ap.parse_args(argv)
    if args.quick:
        args.seconds, args.rate, args.history = 10.0, 200, 2000

    home = Path(tempfile.mkdtemp(prefix="gw-bench-system-"))
    services = None
    procs: dict[str, subprocess.Popen] = {}
    rtsp: list[subprocess.Popen] = []
    walls = None
    sampler = ProcessSampler()
    try:
        log(f"private PostGIS and Redis under {home} ...")
        services, info = start_services(home, args.redis_port)
        db_url, redis_url = info["database_url"], info["redis_url"]
        env = {**os.environ, "GRIDWATCH_DATABASE_URL": db_url, "GRIDWATCH_REDIS_URL": redis_url,
               "GRIDWATCH_WEB_DATABASE_URL": info["web_database_url"],  # the dashboard's own role
               "GRIDWATCH_HOME": str(home), "GRIDWATCH_MEDIA_DIR": str(home / "media"),
               "PYTHONPATH": str(ROOT)}
        client = redis.Redis.from_url(redis_url)
        log(f"seeding the Pingshan demo ({args.history:,} past incidents) ...")
        with psycopg.connect(db_url) as conn:
            migrate.migrate(conn)
            seed_demo(conn, home, incidents_total=args.history, progress=False)
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            matters = [r[0] for r in conn.execute(
                "SELECT code FROM matter WHERE active AND family <> 'maintenance' ORDER BY code")]
        tablet_accounts, wall_accounts, keys = make_accounts(env, db_url, args.tablets, args.walls, args.open311)

        log(f"{args.cameras} camera clips and RTSP servers ...")
        from geodata.cameras import save_cameras
        warm_up_s = 90.0  # start-up of workers and walls before the load begins
        with psycopg.connect(db_url) as conn:
            clips = camera_clips(conn, home, args.cameras, args.seconds + warm_up_s + 60)
            configs = []
            for k, (cam, clip, config) in enumerate(clips):
                server, port = start_rtsp(clip, f"/cam{k}")
                rtsp.append(server)
                configs.append(config.model_copy(update={
                    "code": cam["code"], "name": cam["name"], "url": f"rtsp://127.0.0.1:{port}/cam{k}",
                    "lon": cam["lon"], "lat": cam["lat"], "heading": cam["heading"]}))
            if configs:
                save_cameras(conn, configs, replace=True)
        camera_codes = [c.code for c in configs]

        # The audit group and the live subscriber exist before any producer runs: nothing escapes them.
        live = LiveFeed(redis_url)
        live.start()
        audit = StreamAudit(redis_url)
        audit.start()

        def spawn(name: str, *argv: str) -> None:
            procs[name] = subprocess.Popen([sys.executable, "-m", "workers.cli", *argv], env=env, cwd=ROOT,
                                           stdout=subprocess.DEVNULL, stderr=(home / f"{name}.log").open("w"))
            sampler.add(name, procs[name].pid)

        dash_port = free_port()
        base = f"http://127.0.0.1:{dash_port}"
        log("starting ingest x2, deadlines, analysis, the dashboard (gunicorn, 2 workers), camera workers ...")
        spawn("ingest-1", "worker", "ingest", "--consumer", "bench-ingest-1")
        spawn("ingest-2", "worker", "ingest", "--consumer", "bench-ingest-2")
        spawn("deadlines", "worker", "deadlines")
        spawn("analysis", "worker", "analysis")
        spawn("dashboard", "dashboard", "--workers", "2", "--port", str(dash_port))
        for i in range(2 if len(camera_codes) > 1 else len(camera_codes)):
            spawn(f"camera-{i + 1}", "worker", "camera", "--worker-id", f"bench-cam-{i + 1}",
                  "--cameras", ",".join(camera_codes[i::2]))
        for k, server in enumerate(rtsp):
            sampler.add(f"rtsp-{k + 1}", server.pid)
        sampler.add("benchmark", os.getpid(), descendants=False)
        pg_pid = int((services.pgdata / "postmaster.pid").read_text().split()[0])
        sampler.add("postgres", pg_pid)
        sampler.add("redis", int((services.redisdir / "redis.pid").read_text().strip()))
        sampler.start()

        # Warm: ingest has built its index when a probe comes back on the live channel.
        probe = uuid.uuid4()
        with psycopg.connect(db_url) as conn:
            lon, lat = conn.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM district) d"
                                    ).fetchone()
        publish_incident(client, incident_message(
            v=1, event_id=probe, source=Source.APPEAL, matter=matters[0], lon=lon, lat=lat,
            observed_at=datetime.now(timezone.utc) - timedelta(days=3)))
        deadline = time.monotonic() + 180
        while str(probe) not in live.created:
            if time.monotonic() > deadline:
                raise RuntimeError(f"ingest did not publish the probe; see {home}/ingest-1.log")
            time.sleep(0.1)
        wait_http(base + "/healthz", 120)
        log(f"{args.walls} wall browsers ...")
        walls = Walls(base, wall_accounts)
        walls_live_at = time.time()  # every wall shows "live": what entered the stream before is not theirs
        sse = SseReader(base, walls.cookies())
        sse.start()
        driver = walls.driver_pid()
        if driver:
            sampler.add("walls (Chromium)", driver)

        n_pts = int(args.rate * args.seconds) + 5000
        pts = [(float(x), float(y)) for x, y in positions(db_url, n_pts)]
        http_share = min(len(pts) // 4, 20000)
        plan = {"base": base, "redis_url": redis_url, "seconds": args.seconds, "rate": args.rate,
                "matters": matters, "tablets": tablet_accounts, "keys": keys, "points": pts[:http_share]}

        def load(mode: str, extra: list[str], seconds: float, points) -> subprocess.Popen:
            # The tablets log in first (argon2 on a loaded machine): the start leaves them time.
            p = {**plan, "seconds": seconds, "points": points, "start_at": time.time() + START_DELAY_S}
            f = home / f"plan-{mode}{''.join(extra)}.json"
            f.write_text(json.dumps(p))
            return subprocess.Popen([sys.executable, str(LOAD), mode, str(f), str(f.with_suffix(".out")), *extra],
                                    cwd=ROOT, env=env)

        idle_profile = None
        if args.profile_walls:
            # The walls with nothing coming but beats: what a quiet wall costs its machine.
            walls.start_profile()
            time.sleep(10.0)
            idle_profile = walls.stop_profile()
        log("references: plain XADD + XREADGROUP + XACK, and GET /healthz with the same HTTP clients ...")
        ref_rate = reference_rate(client, 20000)
        ref_proc = load("http", ["--reference"], 5.0, pts[:1])
        ref_proc.wait()
        ref_http = json.loads((home / "plan-http--reference.out").read_text())
        ref_http_rate = ref_http["requests"] / ref_http["seconds"]

        log(f"load: {args.rate}/s for {args.seconds:.0f} s from {args.tablets} tablets, {args.open311} Open311 "
            f"clients, {len(camera_codes)} cameras and the stream ...")
        sampler.baseline()
        entries_before = len(audit.entries)
        http_proc = load("http", [], args.seconds, pts[:http_share])
        direct_proc = load("direct", [], args.seconds, pts[http_share:])
        sampler.add("load: http clients", http_proc.pid)
        sampler.add("load: publisher", direct_proc.pid)
        t_start = time.time() + START_DELAY_S
        walls.stop_at(t_start + args.seconds + WALL_GRACE_S)
        if args.profile_walls:
            while time.time() < t_start:
                time.sleep(0.05)
            walls.start_profile()
        http_proc.wait()
        direct_proc.wait()
        t_end = time.time()
        wall_profile = walls.stop_profile() if args.profile_walls else None
        on_stream = len(audit.entries) - entries_before
        # Cameras stop with the load, so the totals stay still while the backlog drains.
        for name in [n for n in procs if n.startswith("camera")]:
            procs[name].terminate()
            procs[name].wait(20)
        log("draining: waiting until ingest has read and acknowledged everything ...")
        deadline = time.monotonic() + 600
        while not (drained_group(client) and audit.lag() == 0):
            if time.monotonic() > deadline:
                log("ingest did not drain within 600 s; what is left counts as lost")
                break
            time.sleep(0.2)
        drained_at = time.time()
        time.sleep(3.0)  # the last live messages reach the subscriber and the walls
        while time.time() < t_start + args.seconds + WALL_GRACE_S + 1:
            time.sleep(0.5)
        wall_data = walls.collect()
        sse.stop.set()
        sampler.stop()
        live.stop.set()
        audit.stop.set()

        http = json.loads((home / "plan-http.out").read_text())
        direct = json.loads((home / "plan-direct.out").read_text())
        ids = list(audit.entries)
        stored, announced = stored_reports(db_url, ids)
        acc = account(audit, live, stored, announced)
        with psycopg.connect(db_url) as conn:
            created_in_run = conn.execute(
                "SELECT count(*) FROM incident WHERE id = ANY(%s::uuid[])", (ids,)).fetchone()[0]
        sources: dict[str, int] = {}
        for source, _ in audit.entries.values():
            sources[source] = sources.get(source, 0) + 1
        http_ids = set(http["tablet"]["accepted"]) | set(http["open311"]["accepted"])
        http_missing = len([i for i in http_ids if i.lower() not in audit.entries])
    finally:
        if walls is not None:
            walls.close()
        for p in procs.values():
            if p.poll() is None:
                p.terminate()
        for p in procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        for server in rtsp:
            server.terminate()
            server.wait(10)
        if services is not None:
            services.destroy()
        if sys.exc_info()[0] is None and not args.keep:
            shutil.rmtree(home, ignore_errors=True)
        else:
            log(f"logs of the processes kept in {home}")

    # ---- print ------------------------------------------------------------------------------
    load_s = t_end - t_start
    in_load = [e for e, (_, ms) in audit.entries.items() if ms >= t_start * 1000]
    lost = set(acc["lost_db"])
    stored_rate = sum(1 for e in in_load if e not in lost) / (drained_at - t_start)
    offered = on_stream / load_s
    tab, o311 = http["tablet"], http["open311"]
    http_rate = (len(tab["accepted"]) + len(o311["accepted"])) / load_s
    print(f"system: {stored_rate / ref_rate:.3f}x plain XADD+XREADGROUP+XACK ({stored_rate:,.0f} incidents/s "
          f"stored from the load's start to the end of the drain vs {ref_rate:,.0f} messages/s); asked {args.rate:,}/s for {args.seconds:.0f} s "
          "(noisy: a shared 2-core machine)")
    print(f"  offered: {on_stream:,} entries on the stream in {load_s:.1f} s = {offered:,.0f}/s "
          f"({', '.join(f'{k} {v:,}' for k, v in sorted(sources.items()))}, counted since the probe); "
          f"drained {drained_at - t_end:.1f} s after the load; publisher at most {direct['max_behind']:,} behind")
    print(f"  HTTP: {http_rate:,.1f} reports/s accepted = {http_rate / ref_http_rate:.3f}x GET /healthz "
          f"({ref_http_rate:,.0f}/s) with the same {args.tablets + args.open311} clients")
    for name, part in (("tablets (bearer API)", tab), ("Open311", o311)):
        lat_ms = np.array(part["latencies"]) * 1000
        print(f"    {name}: {len(part['accepted']):,} accepted = {len(part['accepted']) / load_s:,.1f}/s by "
              f"{part['clients']} clients, latency p50 {pct(lat_ms, 50):.0f} ms p95 {pct(lat_ms, 95):.0f} ms; "
              f"refused {part['refused'] or 'none'}")
    print(f"    accepted over HTTP but never on the stream: {http_missing}")
    print(f"  counted: {len(ids):,} event_ids on the stream ({audit.repeated} entries repeated an event_id, "
          f"{audit.unreadable} unreadable); {created_in_run:,} incidents created, {acc['joined']:,} reports "
          "joined an existing one (merge or situation phase)")
    print(f"    incident_report: lost {len(acc['lost_db'])}, duplicated {len(acc['dup_db'])}")
    print(f"    live channel: creates lost {len(acc['lost_live'])}, repeated {acc['dup_live']}; of the "
          f"{acc['joined']:,} joined reports {acc['announced']:,} made a history row (the rest are situation "
          f"updates within a minute, kept as reports only): their live messages missing {acc['joined_short']}, "
          f"extra {acc['joined_extra']} (counted per report event_id)")
    # A wall or reader counts only the creates that entered the stream after it was listening: camera
    # cases raised while the processes warmed up came before any page was open (pub/sub keeps nothing,
    # the page's first paint shows them).
    creators = [c for c in acc["creators"] if audit.entries[c][1] >= walls_live_at * 1000]
    print(f"  walls live at {time.strftime('%H:%M:%S', time.localtime(walls_live_at))}: "
          f"{len(acc['creators']) - len(creators)} creates before that are not counted for the walls")
    # What did not reach each reader, with when it entered the stream.
    missed = {f"wall {k + 1}": [c for c in creators if c not in w["created"]] for k, w in enumerate(wall_data)}
    for k, w in enumerate(wall_data):
        got = [c for c in creators if c in w["created"]]
        delays = np.array([w["created"][c] - audit.entries[c][1] for c in got])
        marks = np.array([w["markers"][c] - audit.entries[c][1] for c in creators if c in w["markers"]])
        print(f"  wall {k + 1}: {len(got):,} of {len(creators):,} creates reached the page within "
              f"{WALL_GRACE_S:.0f} s of the load's end ({w['late']:,} events later; {w['repeated']} repeated, "
              f"{w['messages']:,} messages in time in {w['events']:,} events, status {w['state']}); delay stream entry -> "
              f"page p50 {pct(delays, 50):.0f} ms, p95 {pct(delays, 95):.0f} ms, max {pct(delays, 100):.0f} ms "
              f"(goal p95 <= 1000 ms); -> map marker p50 {pct(marks, 50):.0f} ms p95 {pct(marks, 95):.0f} ms "
              f"({len(marks):,} markers seen; the wall keeps 300); {w['resyncs']} resync notice(s) for "
              f"{w['dropped']:,} dropped messages")
    sse_from = (sse.connected_at or 0) * 1000
    sse_creators = [c for c in creators if audit.entries[c][1] >= sse_from]
    got = [c for c in sse_creators if c in sse.created]
    missed["sse"] = [c for c in sse_creators if c not in sse.created]
    delays = np.array([sse.created[c] * 1000 - audit.entries[c][1] for c in got])
    print(f"  SSE client with a wall's session (what the wall's EventSource is sent): {len(got):,} of "
          f"{len(sse_creators):,} creates since it connected, {sse.connects} connection(s), {sse.messages:,} messages in {sse.events:,} events; "
          f"delay p50 {pct(delays, 50):.0f} ms, "
          f"p95 {pct(delays, 95):.0f} ms, max {pct(delays, 100):.0f} ms; {sse.resyncs} resync notice(s) for "
          f"{sse.dropped:,} dropped messages")
    def spent_text(m: dict[str, float]) -> str:
        return ", ".join(f"{name.replace('Duration', '').lower()} {v:.1f} s" for name, v in m.items())

    if idle_profile:
        for k, m in enumerate(idle_profile[0]):
            print(f"  wall {k + 1} main thread over 10 s before the load (beats only): {spent_text(m)}")
        print("  idle wall 1's hottest: " + "; ".join(f"{w} {ms:.0f} ms" for ms, w, _ in idle_profile[1][:8]))
    if wall_profile:
        spent, hot = wall_profile
        for k, m in enumerate(spent):
            print(f"  wall {k + 1} main thread over the load's {load_s:.0f} s: {spent_text(m)}")
        print("  wall 1's hottest functions (self time):")
        for ms, where, callers in hot:
            print(f"    {ms:8.0f} ms  {where}")
            for chain, cms in callers:
                if chain and cms >= 0.2 * ms:
                    print(f"               {cms:6.0f} ms from {chain}")
    if args.keep:
        # To be set beside the logs: each missed create and the time it entered the stream (ms).
        (home / "missing.json").write_text(json.dumps(
            {reader: [[c, audit.entries[c][1]] for c in gone] for reader, gone in missed.items()}, indent=1))
        print(f"  logs and missing.json kept in {home}")
    feed = np.array([live.created[c] * 1000 - audit.entries[c][1] for c in creators if c in live.created])
    print(f"  live channel subscriber (reference for the walls): delay p50 {pct(feed, 50):.0f} ms, "
          f"p95 {pct(feed, 95):.0f} ms")
    print("  processes (CPU seconds from the load's start to the end of the drain; peak RSS of the group, "
          "largest single process):")
    for name, u in sorted(sampler.usage.items(), key=lambda kv: -kv[1].cpu_s):
        print(f"    {name:<20} CPU {u.cpu_s:7.1f} s  peak RSS {u.peak_group_rss_kb / 1024:7.0f} MB  "
              f"(max process {u.peak_process_hwm_kb / 1024:.0f} MB, {len(u.processes)} processes)")
    # A reader may miss creates only when the server said so (a resync notice counting what it dropped).
    dropped = {**{f"wall {k + 1}": w["dropped"] for k, w in enumerate(wall_data)}, "sse": sse.dropped}
    unannounced = sum(max(0, len(gone) - dropped[reader]) for reader, gone in missed.items())
    print(f"  creates that missed a wall or the SSE reader with no resync notice saying so: {unannounced}")
    bad = unannounced + len(acc["lost_db"]) + len(acc["dup_db"]) + len(acc["lost_live"]) + acc["dup_live"] + acc["joined_short"] \
        + acc["joined_extra"] + http_missing
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
