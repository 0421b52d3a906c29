"""Live messages published exactly once, even when the worker dies between its commit and its publish.

A worker stages the live messages of a batch in `live_outbox` inside the batch's transaction, then,
after the commit, `deliver`s them: one Lua script sets a marker key for the row and publishes its
messages only when the marker was not there yet, and the row is deleted. After a start or an outage,
`deliver_left` publishes the rows left behind; the marker keeps a row published just before a crash
from being published twice. Without this the live feed lost every message committed by a batch whose
worker was killed (or lost Redis) before publishing (tests/system/faults count them).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

import psycopg
from psycopg.rows import tuple_row
from redis.exceptions import NoScriptError

from geodata.bus import LIVE_CHANNEL, LiveMessage, dump_live
from geodata.queries import q

SENT_PREFIX = "gridwatch:live:sent:"
"""Redis marker of a published outbox row; the value is unused."""
# A row still in the outbox after this long (its worker down for a day after publishing it) could be
# published twice; a marker per batch keeps this cheap (a few keys a second at full load).
SENT_TTL_S = 86_400

_PUBLISH_ONCE = ("if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then "
                 "for i = 3, #ARGV do redis.call('PUBLISH', ARGV[2], ARGV[i]) end return #ARGV - 2 end return 0")
_SHA = hashlib.sha1(_PUBLISH_ONCE.encode()).hexdigest()


@dataclass(frozen=True)
class Staged:
    """One outbox row: a committed batch's live messages, in order."""

    id: int
    key: UUID
    payloads: list[str]


def stage(conn: psycopg.Connection, messages: Iterable[LiveMessage | str]) -> Staged | None:
    """Write the messages in the caller's open transaction; None when there are none."""
    payloads = [dump_live(m) for m in messages]
    if not payloads:
        return None
    row = conn.cursor(row_factory=tuple_row).execute(q("live_outbox_stage"), {"payloads": payloads}).fetchone()
    return Staged(int(row[0]), row[1], payloads)


def deliver(conn: psycopg.Connection, client, staged: Iterable[Staged | None], channel: str = LIVE_CHANNEL) -> int:
    """Publish committed rows once each, then delete them; return how many messages went out now."""
    rows = [s for s in staged if s is not None]
    sent = 0
    for s in rows:
        args = [SENT_TTL_S, channel, *s.payloads]
        keys = [f"{SENT_PREFIX}{s.key}"]
        try:
            sent += int(client.evalsha(_SHA, 1, *keys, *args))
        except NoScriptError:
            sent += int(client.eval(_PUBLISH_ONCE, 1, *keys, *args))
    if rows:
        with conn.transaction():
            conn.execute(q("live_outbox_lazy_commit"))
            conn.execute(q("live_outbox_done"), {"ids": [s.id for s in rows]})
    return sent


def deliver_left(conn: psycopg.Connection, client, channel: str = LIVE_CHANNEL, limit: int = 100) -> int:
    """Publish what earlier batches (of any worker) committed and left unpublished; return messages sent."""
    total = 0
    while True:
        with conn.transaction():
            rows = conn.cursor(row_factory=tuple_row).execute(q("live_outbox_left"), {"limit": limit}).fetchall()
        total += deliver(conn, client, [Staged(int(i), k, list(p)) for i, k, p in rows], channel)
        if len(rows) < limit:
            return total

