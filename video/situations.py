"""Situations: one per rule and zone, opened by hits, updated while they last, ended after a cool-down."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from typing import Literal

from video.rules import Box, Hit

logger = logging.getLogger(__name__)

Phase = Literal["start", "update", "end"]


@dataclass(frozen=True)
class Situation:
    """One situation event; start_s/end_s are stream seconds, box in 0-1 xyxy (None for health)."""

    id: str
    camera: str
    rule: str
    zone: str | None
    phase: Phase
    at_s: float
    start_s: float
    end_s: float | None
    box: Box | None
    confidence: float
    track: int | None

    def as_line(self) -> dict:
        """The offline-analysis JSON line of this situation (issue 4, section 8)."""
        return {
            "rule": self.rule,
            "zone": self.zone,
            "start_s": round(self.start_s, 2),
            "end_s": None if self.end_s is None else round(self.end_s, 2),
            "box": None if self.box is None else [round(float(v), 4) for v in self.box],
            "confidence": round(float(self.confidence), 3),
            # An integer id when a track raised it (a numpy integer would not serialise), else null.
            "track": None if self.track is None else int(self.track),
        }


@dataclass
class _Open:
    event: Situation
    last_hit: float
    last_update: float
    peak: float
    tracks: set = field(default_factory=set)
    last_box: Box | None = None


class SituationTracker:
    """Turns per-instant hits into start / update / end events, one situation per (rule, zone)."""

    def __init__(self, camera: str, cooldown_s: float = 3.0, update_every_s: float = 10.0,
                 health_cooldown_s: float = 2.0, new_visitor_gap_s: float = 2.0) -> None:
        self.camera = camera
        self.new_visitor_gap_s = new_visitor_gap_s
        self.cooldown_s = cooldown_s
        self.update_every_s = update_every_s
        self.health_cooldown_s = health_cooldown_s
        self._open: dict[tuple[str, str | None], _Open] = {}

    def update(self, hits: list[Hit], t: float) -> list[Situation]:
        """Feed the hits of time t; return the events they cause."""
        events: list[Situation] = []
        seen = set()
        for hit in hits:
            key = (hit.rule, hit.zone)
            if key in seen:
                continue
            seen.add(key)
            cur = self._open.get(key)
            if cur is not None and self._new_visitor(cur, hit, t):
                # Someone else after a visible gap is a new visit, even within the cool-down: the
                # cool-down bridges detector misses of one person, not the hand-over between two.
                events.append(self._end(key, t))
                cur = None
            if cur is None:
                ev = Situation(uuid.uuid4().hex, self.camera, hit.rule, hit.zone, "start", t, t, None,
                               hit.box, hit.confidence, hit.track)
                self._open[key] = _Open(ev, t, t, hit.confidence, {hit.track} - {None}, hit.box)
                logger.info("situation start %s zone=%s camera=%s", hit.rule, hit.zone, self.camera)
                events.append(ev)
                continue
            cur.last_hit = t
            cur.peak = max(cur.peak, hit.confidence)
            if hit.track is not None:
                cur.tracks.add(hit.track)
            cur.last_box = hit.box or cur.last_box
            if t - cur.last_update >= self.update_every_s:
                cur.last_update = t
                events.append(replace(cur.event, phase="update", at_s=t, box=hit.box or cur.event.box,
                                      confidence=hit.confidence, track=hit.track))
        for key in [k for k in self._open if k not in seen]:
            cur = self._open[key]
            cool = self.health_cooldown_s if key[1] is None else self.cooldown_s
            if t - cur.last_hit >= cool:
                events.append(self._end(key, t))
        return events

    def _new_visitor(self, cur: _Open, hit: Hit, t: float) -> bool:
        if hit.track is None or not cur.tracks or hit.track in cur.tracks or t - cur.last_hit <= self.new_visitor_gap_s:
            return False
        if hit.box is None or cur.last_box is None:
            return True
        # A new id where the last one vanished is the tracker losing someone, not a new visitor; so is
        # a box that overlaps the last one (a torso box of a person last boxed whole, or the reverse).
        a, b = cur.last_box, hit.box
        if _overlap(a, b) >= 0.5:
            return False
        # Sideways in box widths, up or down in box heights (0-1 x and y have different scales).
        width, height = max(a[2] - a[0], b[2] - b[0], 1e-3), max(a[3] - a[1], 1e-3)
        return abs((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) > width or abs(a[3] - b[3]) > 0.5 * height

    def finish(self, t: float) -> list[Situation]:
        """End every open situation (the stream stopped at time t)."""
        return [self._end(key, t) for key in list(self._open)]

    def _end(self, key: tuple[str, str | None], t: float) -> Situation:
        cur = self._open.pop(key)
        logger.info("situation end %s zone=%s camera=%s", key[0], key[1], self.camera)
        # The situation ended when its condition was last seen, not when the cool-down ran out.
        return replace(cur.event, phase="end", at_s=t, end_s=cur.last_hit, confidence=cur.peak)


def _overlap(a: Box, b: Box) -> float:
    """Share of the smaller box that lies inside the other."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return iw * ih / smaller if smaller > 0 else 0.0


@dataclass
class _Joined:
    """The first visit's start event, which later visits continue, and the highest confidence so far."""

    first: Situation
    peak: float


class VisitJoiner:
    """Joins the visits a camera sees at one zone and rule within join_s of each other into one situation.

    SituationTracker ends a visit a few seconds after its last hit, and a new person after a gap is a
    new visit: right for the offline analysis, where each visit is an event to count. On the bus, each
    visit would be a new situation: one more merge row and one more end row in the case's history for
    every walker through a gate. Here an ended visit's end is held back for join_s; a visit that
    starts at the same zone and rule meanwhile continues the held situation (its start goes out as an
    update of it, its later updates and end under the held id), and the end goes out only when no new
    visit came within join_s. Health situations (no zone) pass unchanged: the camera's state follows them
    at once.
    """

    def __init__(self, join_s: float = 60.0) -> None:
        self.join_s = join_s
        self._held: dict[tuple[str, str | None], tuple[Situation, _Joined]] = {}
        self._joined: dict[str, _Joined] = {}  # id of a visit that continues another -> what it continues

    def feed(self, ev: Situation) -> Situation | None:
        """The event to publish for one pipeline event, or None while its end is held back."""
        if ev.zone is None or self.join_s <= 0:
            return ev
        key = (ev.rule, ev.zone)
        if ev.phase == "start":
            held = self._held.pop(key, None)
            if held is None:
                self._joined[ev.id] = _Joined(ev, ev.confidence)
                return ev
            joined = held[1]
            joined.peak = max(joined.peak, ev.confidence)
            self._joined[ev.id] = joined
            return replace(joined.first, phase="update", at_s=ev.at_s, box=ev.box, confidence=ev.confidence,
                           track=ev.track)
        joined = self._joined.get(ev.id) or _Joined(ev, ev.confidence)
        joined.peak = max(joined.peak, ev.confidence)
        if ev.phase == "update":
            return replace(joined.first, phase="update", at_s=ev.at_s, box=ev.box, confidence=ev.confidence,
                           track=ev.track)
        self._joined.pop(ev.id, None)
        self._held[key] = (replace(joined.first, phase="end", at_s=ev.at_s, end_s=ev.end_s, box=ev.box,
                                   confidence=joined.peak, track=ev.track), joined)
        return None

    def due(self, t: float) -> list[Situation]:
        """The held ends no new visit came for within join_s, as of stream time t."""
        out = [end for key, (end, _) in list(self._held.items()) if t - end.at_s >= self.join_s]
        for end in out:
            del self._held[(end.rule, end.zone)]
        return out

    def flush(self) -> list[Situation]:
        """Every held end (the camera stops)."""
        out = [end for end, _ in self._held.values()]
        self._held.clear()
        return out
