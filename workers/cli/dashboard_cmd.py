"""gridwatch dashboard: run the Dash app with the development server (gunicorn in deployment)."""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger(__name__)


def register(sub) -> None:
    """Add `dashboard [--host H] [--port P] [--tls-cert F --tls-key F]`."""
    p = sub.add_parser("dashboard", help="serve the wall, console, tablet and camera pages")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--tls-cert", help="certificate (PEM); with --tls-key serves HTTPS, which tablets need for GPS")
    p.add_argument("--tls-key", help="private key (PEM)")
    p.add_argument("--debug", action="store_true", help="Dash dev tools (never on a shared network)")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    """Build the app from the settings and serve it until interrupted."""
    from dashboard.app import create_app
    from dashboard.config import DashboardSettings, from_settings

    if bool(args.tls_cert) != bool(args.tls_key):
        print("gridwatch dashboard: give both --tls-cert and --tls-key", file=sys.stderr)
        return 2
    https = bool(args.tls_cert)
    app = create_app(from_settings(settings, DashboardSettings(), https=https))
    scheme = "https" if https else "http"
    print(f"gridwatch dashboard on {scheme}://{args.host}:{args.port}/", flush=True)
    ssl_context = (args.tls_cert, args.tls_key) if https else None
    # threaded: each wall keeps one server-sent-events stream open.
    app.server.run(host=args.host, port=args.port, threaded=True, ssl_context=ssl_context,
                   debug=args.debug, use_reloader=False)
    return 0
