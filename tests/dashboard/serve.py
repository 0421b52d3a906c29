"""Run the dashboard for browser tests: python serve.py DB_URL REDIS_URL PORT MEDIA_DIR [PER_KEY PER_ADDRESS].

GRIDWATCH_LIVE_WATCH_TTL_S in the environment is honoured (a live-view test shortens it to wait less).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from dashboard.app import create_app
from dashboard.config import DashboardConfig, DashboardSettings


def main(argv: list[str]) -> None:
    """Build the app against the given services and serve it on 127.0.0.1:PORT."""
    db_url, redis_url, port, media, *rates = argv
    limits = {"open311_rate_per_key": rates[0], "open311_rate_per_address": rates[1]} if rates else {}
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app(DashboardConfig(database_url=db_url, redis_url=redis_url, secret_key="test-secret-" + port,
                                     media_dir=Path(media), session_idle_minutes=60,
                                     live_watch_ttl_s=DashboardSettings().live_watch_ttl_s, **limits))
    app.server.run(host="127.0.0.1", port=int(port), threaded=True, use_reloader=False)


if __name__ == "__main__":
    main(sys.argv[1:])
