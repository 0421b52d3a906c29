"""gridwatch worker ingest: the only creator of incidents."""

from __future__ import annotations

import logging
import signal

from workers.ingest import IngestConfig, IngestWorker

logger = logging.getLogger(__name__)


def register(worker_sub) -> None:
    p = worker_sub.add_parser("ingest", help="read the incident stream and create incidents")
    p.add_argument("--batch-size", type=int, default=IngestConfig.batch_size)
    p.add_argument("--claim-idle-ms", type=int, default=IngestConfig.claim_idle_ms,
                   help="take over entries another consumer left pending this long")
    p.add_argument("--consumer", help="consumer name (default host-pid)")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    worker = IngestWorker(
        settings.require_database(), settings.require_redis(),
        IngestConfig(batch_size=args.batch_size, claim_idle_ms=args.claim_idle_ms),
        consumer=args.consumer,
    )

    def stop(*_):
        worker.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("ingest worker %s started", worker.consumer)
    totals = worker.run()
    logger.info("ingest worker stopped: %s created, %s merged, %s duplicates, %s dead letters",
                totals.created, totals.merged, totals.duplicates, totals.dead)
    return 0
