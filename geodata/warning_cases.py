"""An early warning becomes a case: through the incident stream, like every other new case.

`make_case` marks the warning `case_made` and puts an `IncidentMessage` (source `analysis`) on the
stream in one transaction, so a failed send leaves the warning open; ingest then creates the incident.
The console, the CLI and the analysis worker's live messages share `warning_message`.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime

import psycopg
import redis

from geodata import analysis_repo as repo
from geodata.bus import IncidentMessage, LiveEarlyWarning, publish_incident, publish_live
from grid.refusals import Code, Refusal
from grid.routing import Source

logger = logging.getLogger(__name__)


class CaseError(Refusal):
    """A warning that cannot be turned into a case (unknown, not open, no matter)."""


def warning_message(w: dict) -> LiveEarlyWarning:
    """The `early_warning` live message for one warning row (new, or changed status)."""
    keys = ("id", "kind", "status", "matter_code", "area_level", "area_code", "sub_grid_code", "community_code",
            "street_code", "lon", "lat", "score", "created_at", "incident_id")
    body = {k: w.get(k) for k in keys if w.get(k) is not None}
    # details come from jsonb: make them plain JSON (timestamps as ISO text) for the wire.
    details = json.loads(json.dumps(w.get("details") or {}, default=_json_default))
    return LiveEarlyWarning(at=datetime.now(UTC), details=details, **body)


def _json_default(value):
    # Timestamps as ISO 8601 with offset (like every live message), UUIDs and the rest as text.
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _describe(w: dict) -> str:
    d = w.get("details") or {}
    if w["kind"] == "rising":
        what = f"本周{d.get('current')}起, 基线每周{d.get('expected_per_week')}起 (rising: this week vs baseline)"
    elif w["kind"] == "repeat":
        what = f"{d.get('days')}天内{d.get('radius_m')}米内重复{d.get('count')}次 (repeated at one place)"
    else:
        what = f"无正常摄像机 ({d.get('reason')}, camera-blind sub-grid)"
    return f"分析研判预警 #{w['id']} {w['kind']} {w['area_code']}: {what}"


def make_case(conn: psycopg.Connection, client: redis.Redis, warning_id: int, by: str, *,
              matter: str | None = None, now: datetime | None = None) -> IncidentMessage:
    """Put an IncidentMessage (source analysis) for an open warning on the stream and mark it case_made."""
    if not conn.autocommit:
        raise ValueError("make_case needs an autocommit connection: it commits its own transaction")
    at = now or datetime.now(UTC)
    with conn.transaction():
        w = repo.warning_for_update(conn, warning_id)
        if w is None:
            raise CaseError(f"no warning {warning_id}", Code.CASE_NO_WARNING, warning=warning_id)
        if w["status"] != "open":
            raise CaseError(f"warning {warning_id} is {w['status']}, not open", Code.CASE_NOT_OPEN, warning=warning_id)
        code = matter or w["matter_code"]
        if not code:
            raise CaseError(f"warning {warning_id} ({w['kind']}) names no matter: give one (--matter)",
                            Code.CASE_NO_MATTER, warning=warning_id)
        if not repo.matter_exists(conn, code):
            raise CaseError(f"{code!r} is not an active matter", Code.CASE_INACTIVE_MATTER, matter=code)
        msg = IncidentMessage(
            v=1, event_id=uuid.uuid4(), source=Source.ANALYSIS, matter=code, lon=float(w["lon"]), lat=float(w["lat"]),
            observed_at=at, description=_describe(w), reporter=by[:64],
            attributes={"warning_id": w["id"], "warning_kind": w["kind"], "area_code": w["area_code"]})
        repo.mark_case_made(conn, warning_id, msg.event_id, by, at)
        # Sent inside the transaction: if the bus refuses it (InvalidMessage) or Redis fails, the
        # warning stays open and nothing was sent.
        publish_incident(client, msg)
    publish_live(client, [warning_message({**w, "status": "case_made", "incident_id": msg.event_id})])
    logger.info("warning %s turned into case %s by %s", warning_id, msg.event_id, by,
                extra={"warning_id": warning_id, "incident_id": str(msg.event_id)})
    return msg
