"""Plain-text rendering of operation previews and outcomes for the terminal."""

from __future__ import annotations

import logging

import redis

from geodata.operations import Outcome

logger = logging.getLogger(__name__)


def live_client(settings) -> redis.Redis | None:
    """A Redis client for the live feed, or None when no Redis is configured (the change still commits)."""
    url = settings.resolved().redis_url
    if not url:
        logger.warning("no Redis configured: the change is not announced on the live feed")
        return None
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def print_outcome(outcome: Outcome) -> None:
    """Print what an operation will do (preview) or did, with the incidents and workload it touches."""
    plan = outcome.plan
    print(("PREVIEW (nothing written): " if outcome.preview else "done: ") + plan.summary)
    for m in plan.moves:
        if m.redispatch:
            where = m.to_worker or f"{m.to_queue} queue"
            print(f"  incident {m.incident_id} [{m.status}] {m.from_worker or '-'} -> {where}")
        else:
            print(f"  incident {m.incident_id} [{m.status}] stays with {m.from_worker or m.to_queue or '-'}")
    if plan.workload:
        print("  workload (open tasks) before -> after:")
        for worker, (before, after) in sorted(plan.workload.items()):
            print(f"    {worker}: {before} -> {after}")
    if not outcome.preview:
        print(f"  audit_log #{outcome.audit_id}" if outcome.audit_id is not None else "  (no audit row)")
