"""The bus: Redis stream names, message types and the live publisher (see docs/bus.md)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from workers.bus.messages import (IncidentMessage, InvalidMessage, LiveAnalysis, LiveCamera, LiveEarlyWarning,
                                  LiveIncident, LiveMessage, LiveWarning, LiveWorker, dump_live, parse_incident,
                                  parse_live)

logger = logging.getLogger(__name__)

INCIDENT_STREAM = "gridwatch:incidents"
"""Stream of IncidentMessage v1 entries, one field `data`."""
INGEST_GROUP = "ingest"
"""Consumer group of the ingest worker on INCIDENT_STREAM."""
DEAD_STREAM = "gridwatch:incidents:dead"
"""Dead letters: fields `data` (as received), `reason`, `at`."""
LIVE_CHANNEL = "gridwatch:live"
"""Pub/sub channel of live messages for dashboards."""
DATA_FIELD = "data"
"""The one field of an incident stream entry."""

__all__ = [
    "DATA_FIELD", "DEAD_STREAM", "INCIDENT_STREAM", "INGEST_GROUP", "LIVE_CHANNEL",
    "IncidentMessage", "InvalidMessage", "LiveAnalysis", "LiveCamera", "LiveEarlyWarning", "LiveIncident", "LiveMessage", "LiveWarning",
    "LiveWorker", "dump_live", "parse_incident", "parse_live", "publish_live",
]


def publish_live(client, messages: Iterable[LiveMessage],
                 channel: str = LIVE_CHANNEL) -> int:
    """Publish live messages (after the commit that made them true); return how many were sent."""
    payloads = [dump_live(m) for m in messages]
    if not payloads:
        return 0
    # One round trip for a transition's incident + warning messages.
    with client.pipeline(transaction=False) as pipe:
        for payload in payloads:
            pipe.publish(channel, payload)
        pipe.execute()
    logger.debug("published %s live message(s) on %s", len(payloads), channel)
    return len(payloads)
