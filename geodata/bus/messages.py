"""Typed, versioned messages of the bus: incidents in (stream), live updates out (pub/sub).

`IncidentMessage` v1 is normative (docs/bus.md). `parse_incident()` is the one door from raw stream
bytes to a message: anything else raises `InvalidMessage`, whose `reason` becomes the dead letter's.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Union
from urllib.parse import urlsplit
from uuid import UUID

import orjson
from pydantic import (AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError,
                      field_validator, model_validator)

from grid.lifecycle import Level, Status
from grid.merging import MAX_NOT_DUPLICATE_OF
from grid.routing import Queue, Source

# Beyond this a message is not a report but an attack or a bug; refuse before parsing.
MAX_MESSAGE_BYTES = 64 * 1024
MAX_REASON_CHARS = 500
_CODE = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class InvalidMessage(ValueError):
    """A stream entry that is not a valid IncidentMessage; `reason` says why, for the dead letter."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def media_problem(ref: str) -> str | None:
    """Why `ref` is not an acceptable media reference (relative path or http(s) URL), or None."""
    if not ref or len(ref) > 1000:
        return "media reference must be 1-1000 characters"
    if any(ord(c) < 32 for c in ref) or "\\" in ref:
        return "media reference contains control characters or backslashes"
    if "://" in ref:
        try:
            parts = urlsplit(ref)
        except ValueError as exc:
            return f"media URL is malformed: {exc}"
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return "media URL must be http(s) with a host"
        return None
    if ref.startswith("/") or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", ref):
        return "media path must be relative to the media directory (no absolute path or scheme)"
    if ".." in ref.split("/"):
        return "media path must not contain '..'"
    return None


class Phase(StrEnum):
    """Phases of a camera situation (one incident from start to end)."""

    START = "start"
    UPDATE = "update"
    END = "end"


class Situation(BaseModel):
    """A camera situation this message belongs to."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: str = Field(min_length=1, max_length=200, title="situation id", description="stable per camera")
    phase: Phase = Field(title="phase", description="start, update or end")


_Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class IncidentMessage(BaseModel):
    """One report on `gridwatch:incidents`, version 1 (normative; see docs/bus.md)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)

    v: Literal[1] = Field(title="version", description="message format version; 1")
    event_id: UUID = Field(title="event id", description="idempotency key; the incident id if new")
    source: Source = Field(title="source", description="camera, grid_worker, appeal, open311, analysis")
    matter: str = Field(pattern=_CODE, title="matter code", description="a code of the matters list")
    lon: float | None = Field(None, ge=-180.0, le=180.0, title="longitude", description="WGS84 degrees")
    lat: float | None = Field(None, ge=-90.0, le=90.0, title="latitude", description="WGS84 degrees")
    camera: str | None = Field(None, pattern=_CODE, title="camera code",
                               description="instead of lon/lat: the camera that saw it")
    foot: tuple[_Unit, _Unit] | None = Field(None, title="foot point",
                                              description="[x, y] in 0-1 image coordinates")
    observed_at: AwareDatetime = Field(title="observed at", description="ISO 8601 with offset")
    description: str = Field("", max_length=4000, title="description")
    reporter: str | None = Field(None, min_length=1, max_length=64, title="reporter",
                                 description="user or worker code")
    priority: int | None = Field(None, ge=1, le=3, title="priority", description="1 urgent .. 3 routine")
    media: list[str] = Field(default_factory=list, max_length=20, title="media",
                             description="paths relative to the media directory, or http(s) URLs")
    situation: Situation | None = Field(None, title="camera situation")
    attributes: dict[str, Any] = Field(default_factory=dict, title="attributes",
                                       description="free object, kept with the report")

    @field_validator("media")
    @classmethod
    def _media_refs(cls, refs: list[str]) -> list[str]:
        for i, ref in enumerate(refs):
            problem = media_problem(ref)
            if problem:
                raise ValueError(f"media[{i}]: {problem}")
        return refs

    @field_validator("attributes")
    @classmethod
    def _not_duplicate_of(cls, attributes: dict[str, Any]) -> dict[str, Any]:
        # The one attribute ingest acts on: the cases a reporter said this is not (never merged into).
        if "not_duplicate_of" not in attributes:
            return attributes
        ids = attributes["not_duplicate_of"]
        if not isinstance(ids, list) or len(ids) > MAX_NOT_DUPLICATE_OF:
            raise ValueError(f"not_duplicate_of must be a list of at most {MAX_NOT_DUPLICATE_OF} incident ids")
        for i, value in enumerate(ids):
            try:
                if not isinstance(value, str) or len(value) != 36:
                    raise ValueError
                UUID(value)
            except ValueError:
                raise ValueError(f"not_duplicate_of[{i}] is not an incident id (UUID text)") from None
        return attributes

    @model_validator(mode="after")
    def _where(self) -> "IncidentMessage":
        has_point = self.lon is not None or self.lat is not None
        if has_point and (self.lon is None or self.lat is None):
            raise ValueError("lon and lat must be given together")
        if has_point == (self.camera is not None):
            raise ValueError("give either lon and lat or camera, exactly one of them")
        if self.foot is not None and self.camera is None:
            raise ValueError("foot is only meaningful with camera")
        if self.situation is not None and self.source is not Source.CAMERA:
            raise ValueError("situation is only for camera events")
        return self


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"]) or "message"
        parts.append(f"{loc}: {err['msg']}")
    text = "; ".join(parts) or "invalid message"
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 3] + "..."


def incident_message(**fields: Any) -> IncidentMessage:
    """An IncidentMessage from Python values (UUID, datetime, Source...); raise InvalidMessage with the
    same readable reason the consumer would give."""
    try:
        return IncidentMessage(**fields)
    except ValidationError as exc:
        raise InvalidMessage(_reason(exc)) from None


def parse_incident(raw: bytes | str) -> IncidentMessage:
    """Parse one stream entry's `data`; raise InvalidMessage with a readable reason."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise InvalidMessage(f"data must be bytes, got {type(raw).__name__}")
    raw = bytes(raw)
    if len(raw) > MAX_MESSAGE_BYTES:
        raise InvalidMessage(f"message is {len(raw)} bytes, more than {MAX_MESSAGE_BYTES}")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidMessage(f"data is not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        return IncidentMessage.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidMessage(_reason(exc)) from None
    except (ValueError, RecursionError) as exc:
        raise InvalidMessage(f"unreadable message: {exc or type(exc).__name__}") from None


class RecheckResult(StrEnum):
    """What a camera saw when it looked again at a resolved case's zone."""

    PRESENT = "present"
    GONE = "gone"
    UNKNOWN = "unknown"


class RecheckMessage(BaseModel):
    """A camera's second look (复核) at a resolved camera case, on `gridwatch:incidents`, version 1."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    v: Literal[1] = Field(title="version", description="message format version; 1")
    type: Literal["recheck"] = Field("recheck", title="type", description="'recheck': not an incident report")
    event_id: UUID = Field(title="event id", description="idempotency key of this message")
    incident_id: UUID = Field(title="incident id", description="the resolved camera case looked at")
    camera: str = Field(pattern=_CODE, title="camera code")
    rule: str = Field(min_length=1, max_length=64, title="rule kind", description="the case's rule")
    zone: str = Field(min_length=1, max_length=64, title="zone name", description="the case's zone")
    result: RecheckResult = Field(title="result", description="present, gone or unknown")
    observed_at: AwareDatetime = Field(title="observed at", description="end of the look, ISO 8601 with offset")
    media: list[str] = Field(default_factory=list, max_length=20, title="media",
                             description="the fresh snapshot, relative to the media directory")
    resolution: int | None = Field(None, ge=1, title="resolution",
                                   description="id of the `resolve` history row this look follows")
    reason: str | None = Field(None, min_length=1, max_length=500, title="reason",
                               description="why the camera could not tell; required with unknown")
    sig: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", title="signature",
                            description="HMAC-SHA256 (hex) of `signed_bytes()` with the camera workers' key; "
                            "ingest applies only a recheck whose signature holds (geodata/rechecks.py)")

    def signed_bytes(self) -> bytes:
        """What the signature covers: every other field, as canonical JSON (sorted keys, no spaces)."""
        fields = self.model_dump(mode="json", exclude={"sig"})
        return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)

    @field_validator("media")
    @classmethod
    def _media_refs(cls, refs: list[str]) -> list[str]:
        for i, ref in enumerate(refs):
            problem = media_problem(ref)
            if problem:
                raise ValueError(f"media[{i}]: {problem}")
        return refs

    @model_validator(mode="after")
    def _unknown_says_why(self) -> "RecheckMessage":
        if self.result is RecheckResult.UNKNOWN and not self.reason:
            raise ValueError("an unknown result needs a reason (offline, covered, moved, not leased...)")
        return self


def recheck_message(**fields: Any) -> RecheckMessage:
    """A RecheckMessage from Python values; raise InvalidMessage with the consumer's reason."""
    try:
        return RecheckMessage(**fields)
    except ValidationError as exc:
        raise InvalidMessage(_reason(exc)) from None


StreamMessage = IncidentMessage | RecheckMessage


def parse_stream(raw: bytes | str) -> StreamMessage:
    """Parse one `gridwatch:incidents` entry: a `recheck` by its `type`, anything else as an incident report."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    # Reports are thousands a second: only an entry that names "recheck" at all pays for a second look.
    if not isinstance(raw, (bytes, bytearray)) or b'"recheck"' not in raw or len(raw) > MAX_MESSAGE_BYTES:
        return parse_incident(raw)
    try:
        top = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return parse_incident(raw)
    if not (isinstance(top, dict) and top.get("type") == "recheck"):
        return parse_incident(raw)
    try:
        return RecheckMessage.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidMessage(_reason(exc)) from None


# ---- live pub/sub on gridwatch:live ------------------------------------------------------------

class _Live(BaseModel):
    # Readers ignore fields they do not know, so a newer producer never blinds an older wall.
    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Literal[1] = 1
    at: datetime = Field(title="when the change happened")


class LiveIncident(_Live):
    """An incident was created, merged into, or changed by a transition."""

    type: Literal["incident"] = "incident"
    id: UUID
    action: str = Field(title="what happened: create, merge, or a transition action")
    actor: str | None = None
    status: Status
    from_status: Status | None = None
    level: Level = Level.GRID
    queue: Queue | None = None
    worker_code: str | None = None
    matter_code: str
    priority: int = Field(ge=1, le=3)
    base_grid_code: str | None = None
    sub_grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    outside: bool = False
    lon: float
    lat: float
    report_count: int = 1
    due_at: datetime | None = None
    # Added within version 1 (readers ignore what they do not know): which report caused this message,
    # so a count of live messages per report is possible where merging would otherwise hide one.
    event_id: UUID | None = Field(None, title="the report that caused it: its event_id on create (the case "
                                  "id), merge and situation phases; None for people's transitions")


class LiveWarning(_Live):
    """A deadline event: 80 % warning, overdue, or escalation to a higher level."""

    type: Literal["warning"] = "warning"
    incident_id: UUID
    kind: Literal["warning", "overdue", "escalated"]
    level: Level
    due_at: datetime | None = None
    worker_code: str | None = None
    sub_grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None


class LiveCamera(_Live):
    """A camera's health changed (video quality diagnosis)."""

    type: Literal["camera"] = "camera"
    code: str
    health: Literal["unknown", "online", "degraded", "offline"]
    problem: str | None = Field(None, title="offline, frozen, covered, blurred, moved, ...")
    lon: float | None = None
    lat: float | None = None


class LiveGridWorker(_Live):
    """A grid worker's position or duty changed."""

    type: Literal["worker"] = "worker"
    code: str
    on_duty: bool
    lon: float | None = None
    lat: float | None = None


class LiveEarlyWarning(_Live):
    """An early warning of the analysis worker was raised, or changed status (no incident yet)."""

    type: Literal["early_warning"] = "early_warning"
    id: int
    kind: Literal["rising", "repeat", "camera_blind"]
    status: Literal["open", "case_made", "dismissed"]
    matter_code: str | None = None
    area_level: str | None = None
    area_code: str | None = None
    sub_grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    score: float | None = None
    created_at: datetime | None = None
    incident_id: UUID | None = None


class LiveAnalysis(_Live):
    """New analysis results (hot spots, emerging classes, warnings, rankings) are stored."""

    type: Literal["analysis"] = "analysis"
    run_id: int
    computed_at: datetime
    seconds: float | None = None
    new_warnings: int = 0


class _Count(BaseModel):
    # The wire names `class` and `in` are Python keywords: fields take them as aliases, and the JSON
    # (model_dump, and so publish_live and the dashboard's relay) always uses the wire names.
    model_config = ConfigDict(extra="ignore", frozen=True, validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)

    name: str = Field(min_length=1, max_length=64, title="zone or line name")
    cls: Literal["person", "vehicle"] = Field(alias="class", title="what is counted")


class ZoneCount(_Count):
    """People or vehicles in one zone at the bucket's peak (the most in any one frame)."""

    peak: int = Field(ge=0)


class LineCount(_Count):
    """Crossings of one counting line by one class in the bucket, per direction."""

    in_: int = Field(ge=0, alias="in", title="crossings towards the line's in side")
    out: int = Field(ge=0, title="crossings away from the in side")


class LiveCameraCounts(_Live):
    """A camera's counts for one time bucket (issue 14): zone peaks and line crossings.

    `closed` is False for the partial counts of the bucket still open (sent at most every 30 s);
    the closed bucket's message comes once, after its counts are stored in `camera_count`.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)

    type: Literal["camera_counts"] = "camera_counts"
    camera: str = Field(pattern=_CODE)
    bucket_start: datetime = Field(title="start of the bucket, aware")
    bucket_s: int = Field(gt=0, le=86400, title="bucket length in seconds (300)")
    closed: bool = Field(True, title="False while the bucket is still counting")
    zones: list[ZoneCount] = Field(default_factory=list, max_length=512)
    lines: list[LineCount] = Field(default_factory=list, max_length=512)

    @field_validator("bucket_start")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("bucket_start needs a time zone")
        return v


LiveMessage = Annotated[Union[LiveIncident, LiveWarning, LiveCamera, LiveGridWorker, LiveEarlyWarning, LiveAnalysis,
                              LiveCameraCounts],
                        Field(discriminator="type")]
_LIVE = TypeAdapter(LiveMessage)


def dump_live(message: _Live | str) -> str:
    """JSON text of a live message, as published on gridwatch:live (text built by
    `created_incident_json` passes through)."""
    return message if isinstance(message, str) else message.model_dump_json()


def created_incident_json(*, at: datetime, id: UUID, actor: str, status: Status, queue: Queue,
                          worker_code: str | None, matter_code: str, priority: int, base_grid_code: str | None,
                          sub_grid_code: str | None, community_code: str | None, street_code: str | None,
                          outside: bool, lon: float, lat: float, due_at: datetime | None) -> str:
    """The JSON of the `LiveIncident` announcing a new case, built without the model.

    Ingest announces thousands of cases a second and building the model cost more than the rest of
    the publishing. Every field comes typed from ingest's own decision; the text parses to the
    `LiveIncident` with these fields (tests/workers/test_messages.py checks it).
    """
    # orjson writes datetimes (RFC 3339) and UUIDs itself, 10x faster than json here.
    return orjson.dumps({
        "v": 1, "at": at, "type": "incident", "id": id, "action": "create", "actor": actor,
        "status": status.value, "from_status": None, "level": Level.GRID.value, "queue": queue.value,
        "worker_code": worker_code, "matter_code": matter_code, "priority": priority,
        "base_grid_code": base_grid_code, "sub_grid_code": sub_grid_code, "community_code": community_code,
        "street_code": street_code, "outside": outside, "lon": lon, "lat": lat, "report_count": 1,
        "due_at": due_at, "event_id": id,
    }).decode()


def parse_live(raw: bytes | str) -> (LiveIncident | LiveWarning | LiveCamera | LiveGridWorker | LiveEarlyWarning
                                     | LiveAnalysis | LiveCameraCounts):
    """Parse one gridwatch:live payload; raise InvalidMessage when it is not one we know."""
    if not isinstance(raw, (bytes, bytearray, memoryview, str)):
        raise InvalidMessage(f"data must be bytes or text, got {type(raw).__name__}")
    try:
        return _LIVE.validate_json(raw)
    except ValidationError as exc:
        raise InvalidMessage(_reason(exc)) from None
    except (ValueError, RecursionError) as exc:
        raise InvalidMessage(f"unreadable message: {exc or type(exc).__name__}") from None
