"""gridwatch dashboard: serve the Dash app on gunicorn (threads), as production does."""

from __future__ import annotations

import logging
import sys

from gunicorn.app.base import BaseApplication

logger = logging.getLogger(__name__)

THREADS = 32  # each wall keeps one server-sent-events stream open, one thread each


def register(sub) -> None:
    """Add `dashboard [--host H] [--port P] [--workers N] [--tls-cert F --tls-key F]`."""
    p = sub.add_parser("dashboard", help="serve the wall, console, tablet and camera pages")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--workers", type=int, default=2,
                   help=f"gunicorn worker processes, {THREADS} threads each (sessions live in Redis, so any "
                        "worker serves any request)")
    p.add_argument("--tls-cert", help="certificate (PEM); with --tls-key serves HTTPS, which tablets need for GPS")
    p.add_argument("--tls-key", help="private key (PEM)")
    p.add_argument("--debug", action="store_true", help="Dash dev tools (never on a shared network)")
    p.set_defaults(func=run)


class DashboardServer(BaseApplication):
    """gunicorn serving the dashboard; each worker process builds its own app from the same config."""

    def __init__(self, config, options: dict, debug: bool = False):
        self.dashboard_config = config
        self.options = options
        self.debug = debug
        super().__init__()

    def load_config(self):
        """Hand our options to gunicorn (no command line of its own is read)."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        """Build the app in the worker, after the fork: Dash and the pools are per process."""
        from dashboard.app import create_app
        from dashboard.pages.wall import snapshot

        # Set up completely here, before gunicorn lets this worker accept (dashboard.app.warm).
        server = create_app(self.dashboard_config, dev_tools=self.debug).server
        # The first wall after a start finds the district's figures ready (one worker builds, under a lock).
        snapshot.prebuild(server)
        return server


def _close_app(server, worker) -> None:
    """Close the worker's database pool and live reader as it exits, so it ends at once."""
    flask_app = getattr(worker, "wsgi", None)
    if flask_app is None:
        return
    flask_app.config["GRIDWATCH_HUB"].stop()
    flask_app.config["GRIDWATCH_POOL"].close()


def gunicorn_options(args) -> dict:
    """gunicorn's settings for these command-line options."""
    options = {
        "bind": f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}",
        "workers": max(1, args.workers),
        "worker_class": "gthread",
        "threads": THREADS,
        # Live streams never finish by themselves: a stop waits this long for them, not 30 s.
        "graceful_timeout": 5,
        "proc_name": "gridwatch-dashboard",
        # One control socket path per user: the demo's two dashboards and parallel tests would fight
        # over it, and nothing here uses it.
        "control_socket_disable": True,
        "worker_exit": _close_app,
    }
    if args.tls_cert:
        options.update(certfile=args.tls_cert, keyfile=args.tls_key)
    return options


def run(args, settings) -> int:
    """Build the config from the settings and serve it on gunicorn until stopped."""
    from dashboard.config import DashboardSettings, from_settings

    if bool(args.tls_cert) != bool(args.tls_key):
        print("gridwatch dashboard: give both --tls-cert and --tls-key", file=sys.stderr)
        return 2
    https = bool(args.tls_cert)
    config = from_settings(settings, DashboardSettings(), https=https)
    scheme = "https" if https else "http"
    print(f"gridwatch dashboard on {scheme}://{args.host}:{args.port}/ (gunicorn, {args.workers} workers "
          f"x {THREADS} threads)", flush=True)
    DashboardServer(config, gunicorn_options(args), debug=args.debug).run()
    return 0
