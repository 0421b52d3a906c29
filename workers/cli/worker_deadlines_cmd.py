"""gridwatch worker deadlines: warnings, overdue marks and escalations of clocked cases."""

from __future__ import annotations

import logging
import signal

from workers.deadlines import ACTOR, DeadlineConfig, DeadlineWorker

logger = logging.getLogger(__name__)


def register(worker_sub) -> None:
    """Add `worker deadlines` to the worker subcommands."""
    p = worker_sub.add_parser("deadlines", help="warn at 80 %%, mark overdue and escalate open cases")
    p.add_argument("--interval", type=float, default=DeadlineConfig.interval_s,
                   help="seconds between scans (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=DeadlineConfig.batch_size,
                   help="cases claimed per transaction (default %(default)s)")
    p.add_argument("--actor", default=ACTOR,
                   help="name written to each history row (default %(default)s; name instances apart)")
    p.add_argument("--once", action="store_true", help="one scan, then exit (for cron or a check)")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    """Run the deadline worker until SIGTERM or Ctrl-C."""
    if args.interval <= 0 or args.batch_size <= 0:
        print("gridwatch worker deadlines: --interval and --batch-size must be positive")
        return 2
    worker = DeadlineWorker(settings.require_database(), settings.require_redis(),
                            DeadlineConfig(interval_s=args.interval, batch_size=args.batch_size, actor=args.actor))

    def stop(*_):
        worker.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("deadline worker started: every %ss, batches of %s", args.interval, args.batch_size)
    totals = worker.run(max_passes=1 if args.once else None)
    logger.info("deadline worker stopped: %s warned, %s overdue, %s escalated, %s failed",
                totals.warned, totals.overdue, totals.escalated, totals.failed)
    return 0
