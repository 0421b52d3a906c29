"""gridwatch demo: run every worker that exists and the dashboard (on gunicorn) in the foreground until Ctrl-C."""

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
    p.add_argument("--tablets", action="store_true",
                   help="also serve HTTPS on the local network with a self-signed certificate (GPS needs it)")
    p.add_argument("--tablet-host", default="0.0.0.0", help="HTTPS host for tablets")
    p.add_argument("--tablet-port", type=int, default=8443, help="HTTPS port for tablets")
    p.add_argument("--ingest-workers", type=int, default=2,
                   help="ingest processes sharing the consumer group (on 2 cores two carry about "
                        "5,000-6,000 incidents/s, benchmarks/ingest.py)")
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


def _tablet_tls(args, settings):
    """The demo's self-signed certificate (made once under HOME/tls), or None without --tablets."""
    if not getattr(args, "tablets", False):
        return None
    from workers.tls import ensure_self_signed

    return ensure_self_signed(settings.home / "tls")


def dashboard_argvs(args, tls) -> list[tuple[str, list[str]]]:
    """The dashboard's command lines: plain HTTP for this machine, and HTTPS for tablets when asked."""
    out = [("dashboard", ["dashboard", "--host", args.host, "--port", str(args.port)])]
    if tls is not None:
        out.append(("dashboard-tablets", ["dashboard", "--host", args.tablet_host, "--port", str(args.tablet_port),
                                          "--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]))
    return out


def ingest_argvs(args, argv: list[str]) -> list[tuple[str, list[str]]]:
    """One command line per ingest process; they share the consumer group, each under its own name."""
    n = max(1, getattr(args, "ingest_workers", 1))
    return [("ingest" if i == 0 else f"ingest-{i + 1}", list(argv)) for i in range(n)]


def _print_urls(args, tls) -> None:
    """The URLs to open: this machine's, and the tablets' with the certificate to accept."""
    print(f"dashboard: http://{args.host}:{args.port}/")
    if tls is None:
        return
    # 0.0.0.0 is no address to type: list the ones tablets can reach, as the certificate names them.
    hosts = [a for a in tls.addresses if a != "127.0.0.1"] if args.tablet_host == "0.0.0.0" else [args.tablet_host]
    for host in hosts or ["127.0.0.1"]:
        print(f"tablets:   https://{host}:{args.tablet_port}/field")
    state = "made" if tls.created else "reused"
    print(f"  self-signed certificate ({state}): {tls.cert}; accept it once on each tablet")
    print(f"  SHA-256 {tls.fingerprint()}")


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
    tls = _tablet_tls(args, settings)
    try:
        for name, argv in available():
            runs = [(name, argv)]
            if name == "dashboard":
                runs = dashboard_argvs(args, tls)
            if name == "ingest":
                runs = ingest_argvs(args, argv)
            if name == "camera":
                if not demo_cameras:
                    continue
                runs = [(name, [*argv, "--cameras", ",".join(demo_cameras)])]
            for run_name, run_argv in runs:
                procs.append((run_name, subprocess.Popen([*exe, *run_argv])))
                logger.info("started %s (pid %s)", run_name, procs[-1][1].pid)
        names = [n for n, _ in procs]
        print(f"\ngridwatch demo running: {', '.join(names) or 'nothing to run yet'}")
        if "dashboard" in names:
            _print_urls(args, tls)
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
