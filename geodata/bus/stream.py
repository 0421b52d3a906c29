"""The incident stream on Redis: consumer group, reading, acknowledging, dead letters, claiming back."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import redis

from geodata.bus import DATA_FIELD, DEAD_STREAM, INCIDENT_STREAM, INGEST_GROUP

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    """One stream entry: its id and its fields as received (bytes)."""

    id: bytes
    fields: dict[bytes, bytes]

    @property
    def data(self) -> bytes | None:
        return self.fields.get(DATA_FIELD.encode())


def ensure_group(client: redis.Redis, stream: str = INCIDENT_STREAM, group: str = INGEST_GROUP) -> None:
    """Create the consumer group (and the stream) if missing; reading starts at the beginning."""
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def _entries(reply) -> list[Entry]:
    out = []
    for _stream, items in reply or []:
        for entry_id, fields in items:
            # A pending entry that was deleted from the stream comes back with no fields.
            out.append(Entry(entry_id, fields or {}))
    return out


def read_pending(client: redis.Redis, consumer: str, count: int,
                 stream: str = INCIDENT_STREAM, group: str = INGEST_GROUP) -> list[Entry]:
    """Entries delivered to this consumer earlier and not yet acknowledged (retried after a failure)."""
    return _entries(client.xreadgroup(group, consumer, {stream: "0"}, count=count))


def read_new(client: redis.Redis, consumer: str, count: int, block_ms: int,
             stream: str = INCIDENT_STREAM, group: str = INGEST_GROUP) -> list[Entry]:
    """New entries for this consumer, waiting up to block_ms."""
    return _entries(client.xreadgroup(group, consumer, {stream: ">"}, count=count, block=block_ms))


def claim_abandoned(client: redis.Redis, consumer: str, min_idle_ms: int, count: int,
                    stream: str = INCIDENT_STREAM, group: str = INGEST_GROUP) -> list[Entry]:
    """Take over entries another (dead) consumer left pending for longer than min_idle_ms."""
    claimed: list[Entry] = []
    start = "0-0"
    while len(claimed) < count:
        reply = client.xautoclaim(stream, group, consumer, min_idle_ms, start_id=start, count=count)
        next_start, items = reply[0], reply[1]
        claimed.extend(Entry(entry_id, fields or {}) for entry_id, fields in items)
        if next_start in (b"0-0", "0-0"):
            break
        start = next_start
    return claimed


def ack(client: redis.Redis, ids: list[bytes], stream: str = INCIDENT_STREAM, group: str = INGEST_GROUP) -> None:
    """Acknowledge finished entries."""
    if ids:
        client.xack(stream, group, *ids)


def dead_letter(client: redis.Redis, rejected: list[tuple[Entry, str]],
                stream: str = INCIDENT_STREAM, group: str = INGEST_GROUP) -> None:
    """Move rejected entries to the dead-letter stream with their reason, and acknowledge them."""
    if not rejected:
        return
    now = datetime.now(timezone.utc).isoformat()
    # MULTI: a dead letter is never written without its ack, nor acknowledged without being kept.
    with client.pipeline(transaction=True) as pipe:
        for entry, reason in rejected:
            data = entry.data if entry.data is not None else repr(entry.fields).encode()
            pipe.xadd(DEAD_STREAM, {"data": data, "reason": reason, "at": now, "entry": entry.id})
        pipe.xack(stream, group, *[e.id for e, _ in rejected])
        pipe.execute()
    for entry, reason in rejected:
        logger.warning("dead letter %s: %s", entry.id.decode(), reason, extra={"entry_id": entry.id.decode()})


def _id(value) -> tuple[int, int]:
    ms, _, seq = (value.decode() if isinstance(value, bytes) else str(value)).partition("-")
    return int(ms), int(seq or 0)


def trim_finished(client: redis.Redis, keep_s: float, stream: str = INCIDENT_STREAM, *, exact: bool = False) -> int:
    """Drop entries every consumer group has read and acknowledged and that are older than keep_s.

    Without this the stream holds every report ever sent: at thousands a second it would fill Redis,
    and each rewrite of the append-only file would copy it. Entries still pending (delivered, not
    acknowledged) or not yet read are never dropped; the dead letters live in their own stream.
    "Older than keep_s" is counted by Redis's clock: ids at most `now - keep_s` go.
    Returns how many entries Redis dropped; unless `exact`, it trims whole nodes of about 100 entries
    (cheaper), so a few finished ones may stay until the next trim.
    """
    try:
        groups = client.xinfo_groups(stream)
    except redis.ResponseError:
        return 0  # no stream yet
    if not groups:
        return 0
    # The cutoff is read from Redis's own clock, the one that stamped the ids, and it includes the
    # current millisecond: an entry added in the same millisecond as the trim is as old as keep_s=0 asks.
    # (With the client's clock and an exclusive bound, `keep_s=0` kept such entries on fast machines, and
    # a Redis on another host with a skewed clock would trim too much or too little.)
    seconds, micros = client.time()
    now_ms = seconds * 1000 + micros // 1000
    keep_from = (now_ms - int(keep_s * 1000) + 1, 0)
    for g in groups:
        name = g["name"]
        pending = client.xpending(stream, name)
        # Everything before the oldest pending entry, and up to the last delivered one, is finished.
        finished_before = _id(pending["min"]) if pending["pending"] else _id(g["last-delivered-id"])
        keep_from = min(keep_from, finished_before)
    if keep_from <= (0, 0):
        return 0
    return client.xtrim(stream, minid=f"{keep_from[0]}-{keep_from[1]}", approximate=not exact)


def backoff(attempt: int, base: float = 0.2, cap: float = 5.0) -> float:
    """Capped exponential backoff in seconds for the n-th consecutive failure."""
    return min(cap, base * (2 ** max(0, attempt - 1)))


def wait(attempt: int) -> None:
    """Sleep the backoff for this attempt."""
    time.sleep(backoff(attempt))
