"""Pure rule logic: from what is seen in each zone to which rules hold right now.

No I/O and no images: the engine is fed people (tracks) and still objects in 0-1 coordinates with a
timestamp, keeps only the timers the rules need, and returns hits. Situations are built from hits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from video.config import CameraConfig
from video.zones import PolygonZone

logger = logging.getLogger(__name__)

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Person:
    """A tracked person: id, box in 0-1 xyxy, detector confidence."""

    track: int
    box: Box
    confidence: float


@dataclass(frozen=True)
class StillObject:
    """A new still object: 'object' (bag, rubbish) or 'vehicle', box in 0-1, still since `since`.

    `zone` names the zone whose size ranges gave the kind (None: the kind holds in every zone).
    """

    kind: str
    box: Box
    since: float
    confidence: float = 0.6
    zone: str | None = None


@dataclass(frozen=True)
class Hit:
    """A rule that holds at this instant in a zone (zone None for camera health)."""

    rule: str
    zone: str | None
    box: Box | None
    confidence: float
    track: int | None = None


def _foot_in(zone: PolygonZone, box: Box) -> bool:
    return bool(zone.trigger(np.array([box]))[0])


class RuleEngine:
    """Evaluates each zone's rules on one instant; remembers zone entry times and crowd onsets."""

    def __init__(self, config: CameraConfig, crowd_grace_s: float = 3.0, leave_grace_s: float = 3.0,
                 memory_s: float = 1.5, handover: bool = True, settle_s: float = 2.0) -> None:
        self.zones = [(PolygonZone.from_config(z), z.rules) for z in config.zones]
        self.crowd_grace_s = crowd_grace_s
        self.leave_grace_s = leave_grace_s
        self.memory_s = memory_s
        self.handover = handover
        self.settle_s = settle_s
        self._objects_seen: list[tuple[str, Box, float]] = []
        self._entered: dict[tuple[str, int], float] = {}
        self._last_in: dict[tuple[str, int], float] = {}
        self._last_box: dict[tuple[str, int], Box] = {}
        self._crowd_since: dict[str, float] = {}
        self._crowd_last: dict[str, float] = {}

    def evaluate(self, t: float, people: list[Person], objects: list[StillObject]) -> list[Hit]:
        """Hits at time t for the people and still objects seen now."""
        hits: list[Hit] = []
        objects = self._settled(objects, t)
        for zone, rules in self.zones:
            inside = [p for p in people if _foot_in(zone, p.box)]
            self._update_entries(zone.name, inside, t)
            for rule in rules:
                hit = self._rule(rule, zone, inside, objects, t)
                if hit is not None:
                    hits.append(hit)
        return hits

    def _settled(self, objects: list[StillObject], t: float) -> list[StillObject]:
        """Objects reported in about the same place for settle_s: what remains when people walk off.

        The pipeline drops still blobs next to people; a blob where someone stood (their feet, a
        shadow) outlives them only for a moment, an abandoned bag stays.
        """
        seen, out = [], []
        for o in objects:
            first = t
            for kind, box, t0 in self._objects_seen:
                if kind == o.kind and _iou(box, o.box) >= 0.3:
                    first = min(first, t0)
            seen.append((o.kind, o.box, first))
            if t - first >= self.settle_s:
                out.append(o)
        self._objects_seen = seen
        return out

    def _update_entries(self, zone: str, inside: list[Person], t: float) -> None:
        # A person hidden for a moment is still the same visitor: forget only after a grace period.
        for key in [k for k, last in self._last_in.items() if k[0] == zone and t - last > self.leave_grace_s]:
            self._forget(key)
        for p in inside:
            key = (zone, p.track)
            if key not in self._entered:
                self._entered[key] = self._handed_over(zone, p, t) if self.handover else t
            self._last_in[key] = t
            self._last_box[key] = p.box

    def _handed_over(self, zone: str, p: Person, t: float) -> float:
        """Entry time for a new track: that of a track just lost where this one appears (an id switch)."""
        fx, fy, h = (p.box[0] + p.box[2]) / 2, p.box[3], p.box[3] - p.box[1]
        best = None
        for key, last in list(self._last_in.items()):
            if key[0] != zone or last >= t:
                continue
            b = self._last_box[key]
            if abs((b[0] + b[2]) / 2 - fx) <= max(h, 0.05) and abs(b[3] - fy) <= max(0.5 * h, 0.05):
                if best is None or self._entered[key] < self._entered[best]:
                    best = key
        if best is None:
            return t
        since = self._entered[best]
        self._forget(best)
        return since

    def _forget(self, key: tuple[str, int]) -> None:
        self._entered.pop(key, None)
        self._last_in.pop(key, None)
        self._last_box.pop(key, None)

    def _present(self, zone: str, inside: list[Person], t: float) -> int:
        """People in the zone now, counting those hidden for under memory_s (occlusion in a group).

        People, not track ids: boxes that lie inside one another or overlap heavily are one person
        followed twice, and a track just lost where someone still stands is that person's old id.
        """
        here = _distinct([p.box for p in inside])
        ids = {p.track for p in inside}
        recent = [self._last_box[k] for k, last in self._last_in.items()
                  if k[0] == zone and k[1] not in ids and t - last <= self.memory_s]
        hidden = [b for b in _distinct(recent) if not any(_same_person(b, h) for h in here)]
        return len(here) + len(hidden)

    def _rule(self, rule, zone: PolygonZone, inside: list[Person], objects: list[StillObject], t: float) -> Hit | None:
        kind, hold = rule.kind, rule.hold_s
        if kind == "intrusion":
            ok = [p for p in inside if t - self._entered[(zone.name, p.track)] >= hold]
            return _person_hit(kind, zone.name, ok)
        if kind == "loitering":
            ok = [p for p in inside if t - self._entered[(zone.name, p.track)] >= hold]
            ok.sort(key=lambda p: self._entered[(zone.name, p.track)])
            return _person_hit(kind, zone.name, ok[:1])
        if kind == "crowd":
            return self._crowd(rule, zone.name, inside, t)
        wanted = "vehicle" if kind == "vehicle_stopped" else "object"
        still = [o for o in objects if o.kind == wanted and o.zone in (None, zone.name) and _foot_in(zone, o.box)
                 and t - o.since >= hold]
        if not still:
            return None
        best = min(still, key=lambda o: o.since)
        return Hit(kind, zone.name, best.box, best.confidence, None)

    def _crowd(self, rule, zone: str, inside: list[Person], t: float) -> Hit | None:
        count = self._present(zone, inside, t)
        if count >= rule.people:
            self._crowd_since.setdefault(zone, t)
            self._crowd_last[zone] = t
        elif zone in self._crowd_last and t - self._crowd_last[zone] > self.crowd_grace_s:
            self._crowd_since.pop(zone, None)
            self._crowd_last.pop(zone, None)
        since = self._crowd_since.get(zone)
        if since is None or count < rule.people or t - since < rule.hold_s or not inside:
            return None
        boxes = np.array([p.box for p in inside])
        box = (float(boxes[:, 0].min()), float(boxes[:, 1].min()), float(boxes[:, 2].max()), float(boxes[:, 3].max()))
        return Hit("crowd", zone, box, float(np.mean([p.confidence for p in inside])), None)


def _iou(a: Box, b: Box) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih
    return iw * ih / union if union > 0 else 0.0


def _same_person(a: Box, b: Box, nested: float = 0.75, overlap: float = 0.5) -> bool:
    """Whether two boxes are one person: one mostly inside the other, or heavily overlapping."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return (smaller > 0 and iw * ih / smaller >= nested) or _iou(a, b) >= overlap


def _distinct(boxes: list[Box]) -> list[Box]:
    """One box per person: largest first, dropping boxes that are the same person as one kept."""
    kept: list[Box] = []
    for b in sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1])):
        if not any(_same_person(b, k) for k in kept):
            kept.append(b)
    return kept


def _person_hit(kind: str, zone: str, people: list[Person]) -> Hit | None:
    if not people:
        return None
    best = max(people, key=lambda p: p.confidence)
    return Hit(kind, zone, best.box, best.confidence, best.track)
