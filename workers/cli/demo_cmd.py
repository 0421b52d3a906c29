"""gridwatch demo: run every worker that exists and the dashboard in the foreground until Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

logger = logging.getLogger(__name__)

# In start order: the creator of incidents first, the dashboard last. Each runs only where the CLI
# has the command (see available()).
PROCESSES = [
    ("ingest", ["worker", "ingest"]),
    ("deadlines", ["worker", "deadlines"]),
    ("camera", ["worker", "camera"]),
    ("analysis", ["worker", "analysis"]),
    ("simulator", ["worker", "simulator"]),
    ("dashboard", ["dashboard"]),
]


def register(sub) -> None:
    p = sub.add_parser("demo", help="run the workers and the dashboard until Ctrl-C")
    p.add_argument("--host", default="127.0.0.1", help="dashboard host")
    p.add_argument("--port", type=int, default=8050, help="dashboard port")
    p.set_defaults(func=run)


def available() -> list[tuple[str, list[str]]]:
    """The processes whose commands this installation has."""
    from workers.cli import build_parser

    parser = build_parser()
    found = []
    for name, argv in PROCESSES:
        try:
            with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull), \
                    contextlib.redirect_stderr(devnull):
                parser.parse_args([*argv, "--help"])
        except SystemExit as exc:
            # --help exits 0 for a known command, 2 for an unknown one.
            if exc.code == 0:
                found.append((name, argv))
    return found


def _accounts(home: Path) -> list[dict]:
    """Demo logins from the seeder's manifest, with their published passwords."""
    from geodata.demo.accounts import demo_password

    f = home / "demo-manifest.json"
    if not f.exists():
        return []
    accounts = json.loads(f.read_text()).get("accounts", [])
    return [{**a, "password": demo_password(a["role"])} for a in accounts]


def _demo_cameras(settings) -> list[str]:
    """Give a few cameras synthetic clips so the camera worker has streams to watch."""
    from geodata import db
    from workers.demo_video import prepare

    with db.connect(settings.require_database()) as conn:
        codes = prepare(conn, settings.home)
    if codes:
        print(f"demo cameras with clips: {', '.join(codes)}")
    return codes


def run(args, settings) -> int:
    exe = [sys.executable, "-m", "workers.cli"]
    procs: list[tuple[str, subprocess.Popen]] = []
    restarted_at: dict[str, float] = {}
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    demo_cameras = _demo_cameras(settings)
    try:
        for name, argv in available():
            if name == "dashboard":
                argv = [*argv, "--host", args.host, "--port", str(args.port)]
            if name == "camera":
                if not demo_cameras:
                    continue
                argv = [*argv, "--cameras", ",".join(demo_cameras)]
            procs.append((name, subprocess.Popen([*exe, *argv])))
            logger.info("started %s (pid %s)", name, procs[-1][1].pid)
        names = [n for n, _ in procs]
        print(f"\ngridwatch demo running: {', '.join(names) or 'nothing to run yet'}")
        if "dashboard" in names:
            print(f"dashboard: http://{args.host}:{args.port}/")
        for acct in _accounts(settings.home):
            print(f"  {acct['role']:<12} {acct['username']:<16} password {acct['password']}")
        print("Ctrl-C stops everything.\n", flush=True)
        while not stopping:
            for name, proc in procs:
                # A process that keeps failing is restarted at most every 5 s, not in a tight loop.
                if proc.poll() is not None and time.monotonic() - restarted_at.get(name, 0) > 5:
                    restarted_at[name] = time.monotonic()
                    logger.error("%s exited with status %s; restarting it", name, proc.returncode)
                    idx = [n for n, _ in procs].index(name)
                    procs[idx] = (name, subprocess.Popen(proc.args))
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 10
        for _, proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
    print("gridwatch demo stopped")
    return 0
