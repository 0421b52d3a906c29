"""The camera's recheck (复核) of resolved camera cases, on the store's side.

Camera workers ask `due()` which resolved camera-rule cases still owe a second look; ingest, the only
writer, applies each `recheck` message with `apply_recheck()`: `present` reopens the case as
`system:camera`, `gone` and `unknown` add a `recheck` history row, all through `apply_transition`.
A recheck follows one resolution (the case's latest `resolve` row): the row it writes names that
resolution in its data (`recheck_of`), so a second message for the same case and resolution, from a
replay or from two workers that both looked, finds the row under the case's lock and changes nothing.

A recheck can reopen a case, so ingest believes one only from a camera worker (issue 12: every request
from the bus is hostile until checked): the worker signs it (`sign`, HMAC-SHA256 over the message's
canonical fields, `RecheckMessage.signed_bytes`) with a key kept in PostGIS (`bus_signing_key`,
migration 0018) that camera workers and ingest read at start (`signing_key`) and a writer with only
Redis cannot; ingest checks it (`check_signature`) before anything else, and dead-letters a message
without a signature or with one that does not match (forged, altered, or another message's replayed).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import psycopg

from geodata.bus.messages import RecheckMessage, RecheckResult
from geodata.queries import q
from geodata.transitions import TransitionResult, apply_transition
from grid.lifecycle import Role, Status

logger = logging.getLogger(__name__)

ACTOR = "system:camera"
"""The actor of every history row a recheck writes."""


class RecheckRefused(ValueError):
    """A recheck message that cannot apply to its case (not a camera case, other camera...): dead-letter it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RecheckDue:
    """A resolved camera case whose latest resolution has not been rechecked yet."""

    incident_id: UUID
    camera: str
    rule: str
    zone: str
    resolution: int
    resolved_at: datetime
    age_s: float
    # The case's evidence, for a look whose background model cannot see the thing any more (a left
    # object or stopped vehicle learnt as scene by a runner that started after it arrived): when the
    # case was raised, and the box and snapshot (relative to the media directory) of its latest
    # report that has both. None when the case has none.
    raised_at: datetime | None = None
    box: tuple[float, float, float, float] | None = None
    evidence: str | None = None

    @property
    def key(self) -> str:
        """Names this case and resolution (claims, logs)."""
        return f"{self.incident_id}:{self.resolution}"


def signing_key(conn: psycopg.Connection) -> bytes:
    """The camera workers' recheck signing key (read once at start by camera workers and ingest)."""
    row = conn.execute(q("recheck_signing_key")).fetchone()
    if row is None:
        raise LookupError("no recheck signing key in bus_signing_key: run `gridwatch db migrate`")
    return bytes(row["key"])


def signature(msg: RecheckMessage, key: bytes) -> str:
    """The HMAC-SHA256 (hex) of the message's canonical fields."""
    return hmac.new(key, msg.signed_bytes(), hashlib.sha256).hexdigest()


def sign(msg: RecheckMessage, key: bytes) -> RecheckMessage:
    """The message with its signature."""
    return msg.model_copy(update={"sig": signature(msg, key)})


def check_signature(msg: RecheckMessage, key: bytes) -> str | None:
    """Why ingest must not believe this recheck (a dead letter's reason), or None when its signature holds."""
    if msg.sig is None:
        return "sig: a recheck must be signed by a camera worker (HMAC-SHA256 with the bus signing key); none given"
    # Constant time: a forger timing the comparison learns nothing about the right signature.
    if not hmac.compare_digest(msg.sig, signature(msg, key)):
        return ("sig: signature does not match this message (not signed with the camera workers' key, "
                "altered after signing, or another message's signature)")
    return None


def due(conn: psycopg.Connection, limit: int = 500) -> list[RecheckDue]:
    """Resolved camera-rule cases still owing a recheck of their latest resolution, oldest first."""
    out = []
    for row in conn.execute(q("recheck_due"), {"limit": limit}):
        box = row.pop("box")
        ok = isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)
        out.append(RecheckDue(**row, box=tuple(float(v) for v in box) if ok else None))
    return out


@dataclass(frozen=True)
class Applied:
    """What one recheck message did: `result` is None when it changed nothing (`why` says why)."""

    result: TransitionResult | None
    why: str = ""


def apply_recheck(conn: psycopg.Connection, msg: RecheckMessage) -> Applied:
    """Apply one recheck inside the caller's transaction; RecheckRefused for a message that cannot apply."""
    with conn.transaction():
        row = conn.execute(q("recheck_lock_incident"), {"id": msg.incident_id}).fetchone()
        if row is None:
            raise RecheckRefused(f"incident_id: no incident {msg.incident_id}")
        attrs = row["attributes"] or {}
        if row["source"] != "camera" or row["camera_code"] is None:
            raise RecheckRefused(f"incident_id: incident {msg.incident_id} was not raised by a camera "
                                 f"(source {row['source']}): only camera cases are rechecked")
        if (row["camera_code"], attrs.get("rule"), attrs.get("zone")) != (msg.camera, msg.rule, msg.zone):
            raise RecheckRefused(
                f"camera: incident {msg.incident_id} was raised by camera {row['camera_code']}, rule "
                f"{attrs.get('rule')}, zone {attrs.get('zone')}; the recheck names camera {msg.camera}, "
                f"rule {msg.rule}, zone {msg.zone}")
        last = conn.execute(q("recheck_last_resolution"), {"id": msg.incident_id}).fetchone()
        if last is None:
            raise RecheckRefused(f"incident_id: incident {msg.incident_id} has never been resolved")
        if msg.resolution is not None and msg.resolution != last["id"]:
            return Applied(None, f"follows resolution {msg.resolution}, the case's latest is {last['id']}")
        done = conn.execute(q("recheck_done_for"), {"id": msg.incident_id, "resolution": last["id"],
                                                    "event_id": str(msg.event_id)}).fetchone()
        if done is not None:
            return Applied(None, f"resolution {last['id']} already rechecked (history row {done['id']})")
        if row["status"] != Status.RESOLVED.value:
            # The desk closed it or reopened it by hand meanwhile: its word stands.
            return Applied(None, f"the case is {row['status']}, no longer resolved")
        data = {"recheck_of": last["id"], "event_id": str(msg.event_id), "result": msg.result.value,
                "camera": msg.camera, "rule": msg.rule, "zone": msg.zone,
                "observed_at": msg.observed_at.isoformat()}
        if msg.reason:
            data["reason"] = msg.reason
        action, note = _row_of(msg)
        result = apply_transition(conn, msg.incident_id, action, ACTOR, Role.SYSTEM, note=note, media=msg.media,
                                  data=data, observed_at=msg.observed_at)
    logger.info("incident %s: recheck %s (%s)", msg.incident_id, msg.result.value, action,
                extra={"incident_id": str(msg.incident_id)})
    return Applied(result)


def _row_of(msg: RecheckMessage) -> tuple[str, str]:
    """The history action and note of a recheck result."""
    where = f"{msg.rule} in zone {msg.zone} (camera {msg.camera})"
    if msg.result is RecheckResult.PRESENT:
        return "reopen", f"camera recheck: {where} still seen after resolution"
    if msg.result is RecheckResult.GONE:
        return "recheck", f"camera recheck: {where} no longer seen"
    return "recheck", f"camera recheck could not tell ({msg.reason}): {where}"
