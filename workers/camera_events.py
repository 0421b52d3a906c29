"""What a camera runner tells the worker: incident messages for situations, and health reports."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from grid.camera_matters import QUALITY_CHECKS, matter_for
from video.config import CameraConfig
from video.situations import Situation
from grid.routing import Source
from geodata.bus.messages import IncidentMessage, Phase
from geodata.bus.messages import Situation as BusSituation

logger = logging.getLogger(__name__)

HEALTH_STATES = ("unknown", "online", "degraded", "offline")
# The problem a degraded camera is reported with when several hold: the most blinding first.
_SEVERITY = ("offline", "covered", "frozen", "moved", "blurred")


@dataclass(frozen=True)
class Publish:
    """An incident message to append to the stream, from runner generation `gen`."""

    gen: int
    message: IncidentMessage


@dataclass(frozen=True)
class HealthReport:
    """A camera's state now: health, its main problem, measured fps and when the last frame came."""

    gen: int
    code: str
    health: str
    problem: str | None
    fps: float
    last_frame_at: datetime | None
    lon: float
    lat: float


def wall_time(epoch_s: float) -> datetime:
    """An aware UTC datetime from epoch seconds."""
    return datetime.fromtimestamp(epoch_s, timezone.utc)


def health_of(problems: set[str], frame_age_s: float | None, offline_after_s: float) -> tuple[str, str | None]:
    """(health, problem): offline without recent frames, degraded with an open quality problem, else online."""
    if "offline" in problems or (frame_age_s is not None and frame_age_s > offline_after_s):
        return "offline", "offline"
    if frame_age_s is None:
        return "unknown", None
    open_problems = [p for p in _SEVERITY if p in problems]
    if open_problems:
        return "degraded", open_problems[0]
    return "online", None


def _rule(config: CameraConfig, zone: str | None, kind: str):
    for z in config.zones:
        if z.name == zone:
            for r in z.rules:
                if r.kind == kind:
                    return z, r
            return z, None
    return None, None


def situation_message(config: CameraConfig, ev: Situation, observed_at: datetime, mapping: dict[str, str],
                      media: list[str] | None = None) -> IncidentMessage:
    """The IncidentMessage v1 of one situation event (docs/bus.md)."""
    zone, rule = _rule(config, ev.zone, ev.rule)
    health = ev.zone is None and ev.rule in QUALITY_CHECKS
    matter = matter_for(ev.rule, mapping, None if rule is None else rule.matter)
    attributes: dict = {"rule": ev.rule, "zone": ev.zone, "confidence": round(float(ev.confidence), 3),
                        "box": None if ev.box is None else [round(float(v), 4) for v in ev.box]}
    if ev.track is not None:
        attributes["track"] = int(ev.track)
    if rule is not None and rule.dispatch == "auto":
        attributes["dispatch"] = "auto"
    foot = None
    if ev.box is not None and not health:
        x1, _, x2, y2 = ev.box
        foot = (min(1.0, max(0.0, (x1 + x2) / 2)), min(1.0, max(0.0, y2)))
    if health:
        what = {"start": "camera problem", "update": "camera problem continues", "end": "camera recovered"}[ev.phase]
        description = f"{what}: {ev.rule} (camera {config.code})"
    else:
        description = f"{ev.rule} in zone {ev.zone} (camera {config.code})" + ("" if ev.phase == "start" else f", {ev.phase}")
    return IncidentMessage(
        v=1, event_id=uuid.uuid4(), source=Source.CAMERA, matter=matter, camera=config.code, foot=foot,
        observed_at=observed_at, description=description, media=list(media or []),
        situation=BusSituation(id=ev.id, phase=Phase(ev.phase)), attributes=attributes,
    )
