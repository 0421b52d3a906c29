"""The deadline worker: warns at 80 %, marks overdue and escalates clocked cases, then publishes.

Each batch claims due cases with `FOR UPDATE SKIP LOCKED` in one transaction, re-checks every claimed
row with `grid.deadlines.pending_actions` under the lock, applies the marks through
`geodata.transitions` (mark_warned, mark_overdue, escalate with expect_level), stages the live messages
in `live_outbox` (geodata/live_outbox.py), commits, and only then publishes on `gridwatch:live`; a
restarted worker publishes what a killed one committed and left unpublished. Any number of instances may run: a row is held by one of them at a time,
and the marks are idempotent under the row lock, so no case is warned, marked or escalated twice.
"""

from __future__ import annotations

import collections
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import psycopg
import redis

from geodata import db
from geodata.queries import q
from geodata import live_outbox
from geodata.transitions import TransitionResult, escalate, mark_overdue, mark_warned
from grid import deadlines
from grid.lifecycle import LADDER, Level, Role
from geodata.bus.stream import backoff

logger = logging.getLogger(__name__)

ACTOR = "system:deadlines"


@dataclass(frozen=True)
class DeadlineConfig:
    """How often and how much the deadline worker scans."""

    interval_s: float = 30.0
    batch_size: int = 200
    actor: str = ACTOR
    # Committed batches kept in memory for Redis while it is away; beyond this the oldest wait in the
    # outbox for the next start.
    max_unpublished: int = 10_000


@dataclass
class Tally:
    """What scans did: marks applied, rows skipped or failed, and the committed transitions."""

    warned: int = 0
    overdue: int = 0
    escalated: int = 0
    failed: int = 0
    results: list[TransitionResult] = field(default_factory=list)
    # The outbox row of this batch's live messages (process_batch), published after the commit.
    staged: live_outbox.Staged | None = None

    def add(self, other: "Tally") -> None:
        """Add another tally's counts (not its results)."""
        self.warned += other.warned
        self.overdue += other.overdue
        self.escalated += other.escalated
        self.failed += other.failed


def _clock(row) -> deadlines.Clock:
    return deadlines.Clock(row["dispatched_at"], row["due_at"], row["warned_at"], row["overdue_at"])


def apply_owed(conn: psycopg.Connection, row, now: datetime, actor: str = ACTOR) -> list[TransitionResult]:
    """Apply what one locked case owes at `now`: warn, overdue, then escalate rung by rung."""
    owed = deadlines.pending_actions(now, _clock(row), row["level"], row["escalation"])
    out: list[TransitionResult] = []
    if "warn" in owed and (r := mark_warned(conn, row["id"], actor, now=now)) is not None:
        out.append(r)
    if "overdue" in owed and (r := mark_overdue(conn, row["id"], actor, now=now)) is not None:
        out.append(r)
    if "escalate" in owed:
        target = deadlines.target_level(now, _clock(row), row["escalation"])
        level = Level(row["level"])
        # A worker that was down may owe several rungs; each is its own history step.
        while LADDER.index(level) < LADDER.index(target):
            note = f"open past its deadline ({row['due_at'].isoformat(timespec='minutes')}), level {level.value}"
            r = escalate(conn, row["id"], actor, Role.SYSTEM, note, expect_level=level, now=now)
            if r is None:
                break
            out.append(r)
            level = r.to_level
    return out


def process_batch(conn: psycopg.Connection, limit: int = 200, *, now: datetime | None = None,
                  skip: set[UUID] | None = None, actor: str = ACTOR) -> tuple[Tally, int]:
    """Claim up to `limit` due cases, apply their marks and commit; return the tally and rows claimed."""
    tally = Tally()
    skip = skip if skip is not None else set()
    with conn.transaction():
        at = now or conn.execute(q("deadline_now")).fetchone()["now"]
        rows = conn.execute(q("deadline_claim"), {"now": at, "limit": limit, "skip": list(skip)}).fetchall()
        for row in rows:
            try:
                # A savepoint per case: one bad row never takes the batch down with it.
                with conn.transaction():
                    done = apply_owed(conn, row, at, actor)
            except psycopg.OperationalError:
                raise
            except Exception:  # noqa: BLE001 - logged with its traceback; the other cases go on
                logger.exception("deadline marks failed for incident %s", row["id"],
                                 extra={"incident_id": str(row["id"])})
                tally.failed += 1
                done = []
            if not done:
                # Nothing applied (failed, or the re-check found nothing owed): not again this pass.
                skip.add(row["id"])
            for r in done:
                tally.warned += r.action == "warn"
                tally.overdue += r.action == "overdue"
                tally.escalated += r.action == "escalate"
            tally.results.extend(done)
        tally.staged = live_outbox.stage(conn, [m for r in tally.results for m in r.live_messages()])
    return tally, len(rows)


def scan(conn: psycopg.Connection, batch_size: int = 200, *, now: datetime | None = None,
         actor: str = ACTOR, on_commit=None) -> Tally:
    """Drain every case due now, batch by batch; `on_commit(staged)` runs after each commit that has
    live messages (their outbox row)."""
    total = Tally()
    skip: set[UUID] = set()
    while True:
        tally, claimed = process_batch(conn, batch_size, now=now, skip=skip, actor=actor)
        total.add(tally)
        total.results.extend(tally.results)
        if on_commit is not None and tally.staged is not None:
            on_commit(tally.staged)
        if claimed < batch_size:
            return total


class DeadlineWorker:
    """The process loop: scan, commit, publish, sleep; survives PostGIS and Redis outages."""

    def __init__(self, database_url: str, redis_url: str, config: DeadlineConfig | None = None):
        self.database_url = database_url
        self.redis_url = redis_url
        self.config = config or DeadlineConfig()
        self.stopping = False
        self.conn: psycopg.Connection | None = None
        self.redis: redis.Redis | None = None
        self.unpublished: collections.deque[live_outbox.Staged] = collections.deque(
            maxlen=self.config.max_unpublished)
        self.totals = Tally()

    def _queue(self, staged: live_outbox.Staged) -> None:
        self.unpublished.append(staged)
        self.flush()

    def _client(self) -> redis.Redis:
        if self.redis is None:
            self.redis = redis.Redis.from_url(self.redis_url, socket_timeout=5, socket_connect_timeout=5)
        return self.redis

    def flush(self) -> int:
        """Publish committed batches not yet sent; keep them when Redis is away; return messages sent."""
        sent = 0
        while self.unpublished and self.conn is not None:
            try:
                sent += live_outbox.deliver(self.conn, self._client(), [self.unpublished[0]])
            except redis.RedisError as exc:
                logger.warning("Redis unavailable (%s); %s committed batch(es) kept for the live feed", exc,
                               len(self.unpublished))
                self.redis = None
                break
            self.unpublished.popleft()
        return sent

    def _deliver_left(self) -> None:
        # What a killed worker (this one before a restart, or another) committed and never published.
        try:
            if n := live_outbox.deliver_left(self.conn, self._client()):
                logger.info("published %s live message(s) left unpublished by an earlier run", n)
        except redis.RedisError as exc:
            logger.warning("Redis unavailable (%s); earlier live messages stay in the outbox", exc)
            self.redis = None

    def _drop_db(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail any way it likes
                pass
            self.conn = None

    def run_once(self) -> Tally:
        """One pass: drain the due cases and publish what committed."""
        self.flush()
        if self.conn is None:
            self.conn = db.connect(self.database_url)
            self._deliver_left()
        tally = scan(self.conn, self.config.batch_size, actor=self.config.actor, on_commit=self._queue)
        self.totals.add(tally)
        if tally.warned or tally.overdue or tally.escalated or tally.failed:
            logger.info("deadlines: %s warned, %s overdue, %s escalated, %s failed",
                        tally.warned, tally.overdue, tally.escalated, tally.failed)
        return tally

    def run(self, max_passes: int | None = None) -> Tally:
        """Loop until stopped (or for max_passes passes)."""
        failures = passes = 0
        while not self.stopping and (max_passes is None or passes < max_passes):
            try:
                self.run_once()
                failures = 0
                passes += 1
                pause = self.config.interval_s
            except psycopg.OperationalError as exc:
                failures += 1
                logger.warning("PostGIS unavailable (%s); retrying", exc)
                self._drop_db()
                pause = backoff(failures)
            except psycopg.Error:
                # Not a row's fault (those are caught per row): start afresh on a new connection.
                failures += 1
                logger.exception("deadline scan failed; retrying")
                self._drop_db()
                pause = backoff(failures)
            if max_passes is not None and passes >= max_passes:
                break
            self._sleep(pause)
        self.flush()
        self._drop_db()
        return self.totals

    def _sleep(self, seconds: float) -> None:
        # Short naps so a SIGTERM is honoured within a tenth of a second.
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))
