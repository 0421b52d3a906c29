"""The bus: Redis stream names, message types, the one door onto the incident stream and the live
publisher (see docs/bus.md)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from redis.client import Pipeline
from redis.exceptions import NoScriptError

from geodata.bus.messages import (IncidentMessage, InvalidMessage, LiveAnalysis, LiveCamera, LiveCameraCounts,
                                  LiveEarlyWarning,
                                  LiveIncident, LiveMessage, LiveWarning, LiveGridWorker, created_incident_json, dump_live,
                                  incident_message, parse_incident, parse_live)
from geodata.bus.messages import RecheckMessage, parse_stream

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
    "IncidentMessage", "InvalidMessage", "LiveAnalysis", "LiveCamera", "LiveCameraCounts", "LiveEarlyWarning", "LiveIncident", "LiveMessage", "LiveWarning",
    "LiveGridWorker", "created_incident_json", "dump_live", "incident_message", "parse_incident", "parse_live",
    "publish_incident", "publish_live",
]


def publish_incident(client, msg: IncidentMessage | RecheckMessage) -> bytes | None:
    """Add one message (a report, or a camera's `recheck`) to the incident stream (the only code that
    does); return the entry id, or None when `client` is a pipeline, whose replies come with its `execute()`."""
    if not isinstance(msg, (IncidentMessage, RecheckMessage)):
        raise TypeError(f"publish_incident takes an IncidentMessage or RecheckMessage, got {type(msg).__name__}")
    data = msg.model_dump_json().encode()
    # Read back through the consumer's own door, so the producer hears InvalidMessage now instead of
    # ingest dead-lettering it later: a model built with model_construct or model_copy(update=...) was
    # never validated, and only the door bounds the size.
    if isinstance(msg, RecheckMessage):
        parse_stream(data)
    else:
        parse_incident(data)
    entry_id = client.xadd(INCIDENT_STREAM, {DATA_FIELD: data})
    return None if isinstance(client, Pipeline) else entry_id


# One round trip and one command for a batch of live messages: packing a PUBLISH per message cost
# ingest more than building the messages.
_PUBLISH_ALL = "for i = 2, #ARGV do redis.call('PUBLISH', ARGV[1], ARGV[i]) end return #ARGV - 1"
_PUBLISH_ALL_SHA = hashlib.sha1(_PUBLISH_ALL.encode()).hexdigest()


def publish_live(client, messages: Iterable[LiveMessage | str],
                 channel: str = LIVE_CHANNEL) -> int:
    """Publish live messages (after the commit that made them true), in order; return how many were
    sent. A message may be given as its JSON text already (see `created_incident_json`)."""
    payloads = [dump_live(m) for m in messages]
    if not payloads:
        return 0
    if len(payloads) == 1:
        client.publish(channel, payloads[0])
    else:
        try:
            client.evalsha(_PUBLISH_ALL_SHA, 0, channel, *payloads)
        except NoScriptError:
            # A restarted Redis has an empty script cache; EVAL runs the script and caches it again.
            client.eval(_PUBLISH_ALL, 0, channel, *payloads)
    logger.debug("published %s live message(s) on %s", len(payloads), channel)
    return len(payloads)
