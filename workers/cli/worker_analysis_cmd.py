"""gridwatch worker analysis: recompute hot spots, warnings and indicators on a schedule and on request."""

from __future__ import annotations

import logging
import signal

from workers.analysis import AnalysisConfig, AnalysisWorker

logger = logging.getLogger(__name__)


def register(worker_sub) -> None:
    """Add `gridwatch worker analysis`."""
    p = worker_sub.add_parser("analysis", help="recompute analysis results every --interval seconds and on request")
    p.add_argument("--interval", type=float, default=AnalysisConfig.interval_s, metavar="S",
                   help="seconds between refreshes (default %(default)s)")
    p.add_argument("--once", action="store_true", help="one refresh, publish, exit")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    """Run the analysis worker until stopped (or once)."""
    if args.interval <= 0:
        raise SystemExit("--interval must be positive")
    worker = AnalysisWorker(settings.require_database(), settings.require_redis(),
                            AnalysisConfig(interval_s=args.interval))

    def stop(*_):
        worker.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("analysis worker started (every %s s%s)", args.interval, ", once" if args.once else "")
    runs = worker.run(once=args.once)
    logger.info("analysis worker stopped after %s run(s)", runs)
    return 0 if runs or not args.once else 1
