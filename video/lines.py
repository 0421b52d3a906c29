"""Counting lines (issue 14): which tracks crossed which line, in which direction.

The contract between video and the camera worker: CameraPipeline keeps, after each feed(),
`crossings` (the Crossing records found in that frame) and `present` ((zone, class) -> how many
people or vehicles are in the zone in that frame). The worker sums them into 5-minute buckets.

`LineCounter` is pure geometry on track points (0-1 image coordinates), plain vector maths because
it runs every frame. A track counts when its path, from the last place where it stood clearly on
one side to where it now stands clearly on the other, cuts the polyline. "Clearly" is the
hysteresis: a point within `margin` of the line decides nothing, so feet jittering on the line count
once, while a track that crosses, comes back and crosses again counts each real crossing. A new
side must also hold for `confirm` observations in a row (a coasting box wobbles by a few hundredths
as its person leaves the picture); the crossing's time is that of the first. A track that walks round
the end of the line changes side without a crossing, and one first seen across counts nothing:
`BlobCrossings` counts the people the detector saw on one side only by their moving blob.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from video.config import Line
from video.zones import PolygonZone

Point = tuple[float, float]
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Crossing:
    """One track crossing one line: `direction` is 'in' towards the line's in_side, else 'out'."""

    line: str
    direction: str  # "in" | "out"
    cls: str  # "person" | "vehicle"
    t_s: float
    track: int

    def as_line(self) -> dict:
        """The JSON line `gridwatch video analyze` prints."""
        return {"rule": "line_crossing", "line": self.line, "direction": self.direction, "class": self.cls,
                "t_s": round(self.t_s, 2), "track": self.track}


@dataclass(frozen=True)
class TrackPoint:
    """Where one track is in this frame: id, 'person'|'vehicle', the point that counts (0-1 x, y)."""

    track: int
    cls: str
    point: Point


def _cross(ax: float, ay: float, bx: float, by: float) -> float:
    return ax * by - ay * bx


class _Polyline:
    """A line's segments with the sign (+1 left of the drawing direction, -1 right) of its in side."""

    def __init__(self, line: Line) -> None:
        self.name = line.name
        self.classes = frozenset(line.classes)
        self.segs = [(float(a[0]), float(a[1]), float(b[0]), float(b[1])) for a, b in zip(line.points, line.points[1:])]
        self.in_sign = self.side(tuple(line.in_side))[0]

    def side(self, p: Point) -> tuple[int, float]:
        """(side sign, distance) of a point: the side of the nearest segment, the distance to it."""
        best_d, best_s = float("inf"), 1
        px, py = p
        for x0, y0, x1, y1 in self.segs:
            dx, dy = x1 - x0, y1 - y0
            u = max(0.0, min(1.0, ((px - x0) * dx + (py - y0) * dy) / (dx * dx + dy * dy)))
            qx, qy = x0 + u * dx - px, y0 + u * dy - py
            d = (qx * qx + qy * qy) ** 0.5
            if d < best_d - 1e-12:
                c = _cross(dx, dy, px - x0, py - y0)
                best_d, best_s = d, (1 if c >= 0 else -1)
        return best_s, best_d

    def cuts(self, a: Point, b: Point) -> bool:
        """Whether the path a -> b crosses one of the segments."""
        ax, ay = a
        bx, by = b
        for x0, y0, x1, y1 in self.segs:
            d1 = _cross(x1 - x0, y1 - y0, ax - x0, ay - y0)
            d2 = _cross(x1 - x0, y1 - y0, bx - x0, by - y0)
            d3 = _cross(bx - ax, by - ay, x0 - ax, y0 - ay)
            d4 = _cross(bx - ax, by - ay, x1 - ax, y1 - ay)
            if d1 * d2 <= 0 and d3 * d4 <= 0 and (d1 != d2):
                return True
        return False


@dataclass
class _State:
    side: int  # the side the track last stood on clearly
    anchor: Point  # where it last stood clearly on that side
    seen: float
    # Observations clearly on the other side since it left `side`: (first time, whether the path cut the line), count.
    pending: tuple[float, bool] | None = None
    count: int = 0


class LineCounter:
    """Crossings of a camera's lines by tracks, one frame at a time, with hysteresis of `margin`."""

    def __init__(self, lines: Iterable[Line], margin: float = 0.015, confirm: int = 2, forget_s: float = 10.0) -> None:
        self.lines = [_Polyline(ln) for ln in lines]
        self.margin = margin
        self.confirm = max(1, confirm)
        self.forget_s = forget_s
        self._state: dict[tuple[str, str, int], _State] = {}

    def update(self, t: float, tracks: Iterable[TrackPoint]) -> list[Crossing]:
        """The crossings of this frame (time t) by these tracks, in line order then track order."""
        out: list[Crossing] = []
        if not self.lines:
            return out
        for tp in tracks:
            for line in self.lines:
                if tp.cls not in line.classes:
                    continue
                key = (line.name, tp.cls, tp.track)
                side, dist = line.side(tp.point)
                st = self._state.get(key)
                if dist < self.margin:
                    # On the line: decides nothing, but the track is alive.
                    if st is not None:
                        st.seen = t
                    continue
                if st is None:
                    self._state[key] = _State(side, tp.point, t)
                    continue
                st.seen = t
                if side == st.side:
                    # Back on its side before the new one held: nothing happened.
                    st.anchor, st.pending, st.count = tp.point, None, 0
                    continue
                if st.pending is None:
                    st.pending = (t, line.cuts(st.anchor, tp.point))
                st.count += 1
                if st.count < self.confirm:
                    continue
                first, cut = st.pending
                if cut:
                    out.append(Crossing(line.name, "in" if side == line.in_sign else "out", tp.cls, first, tp.track))
                st.side, st.anchor, st.pending, st.count = side, tp.point, None, 0
        # Tracks gone for a while are forgotten: memory stays bounded on a busy street.
        if len(self._state) > 64:
            self._state = {k: s for k, s in self._state.items() if t - s.seen <= self.forget_s}
        return out


@dataclass
class _Pending:
    crossing: Crossing  # its track is the blob track's id until a person names it
    person: int | None  # the person track that covered the blob, once one has


class BlobCrossings:
    """Person-line crossings of moving blobs (video.moving.MovingPeople): the people the person tracks miss.

    A blob track's crossing is held for `hold_s`, then counted as the crossing of the person who covered
    the blob (before the crossing or within hold_s after it), unless a person track made the same
    crossing (line and direction) within `same_s` of it: that is the same walker, counted once, by
    the person track. A blob no person covered (a door, a trolley, a shadow) counts nothing.
    """

    def __init__(self, lines: Iterable[Line], hold_s: float = 2.0, same_s: float = 2.0, **counter: float) -> None:
        self.counter = LineCounter([ln for ln in lines if "person" in ln.classes], **counter)
        self.hold_s = hold_s
        # Decided only after hold_s: every person-track crossing within same_s is known by then.
        self.same_s = min(same_s, hold_s)
        self._pending: list[_Pending] = []
        self._tracked: list[Crossing] = []

    def update(self, t: float, blobs: Iterable[tuple[int, Point]], named: dict[int, int],
               tracked: list[Crossing]) -> list[Crossing]:
        """The blob crossings decided at time t.

        blobs: (blob track id, foot point) now; named: blob track id -> person track id that covered
        it; tracked: the person tracks' crossings of this frame.
        """
        self._tracked += [c for c in tracked if c.cls == "person"]
        for c in self.counter.update(t, [TrackPoint(i, "person", p) for i, p in blobs]):
            self._pending.append(_Pending(c, None))
        out, keep = [], []
        for p in self._pending:
            if p.crossing.track in named:
                p.person = named[p.crossing.track]
            if t - p.crossing.t_s < self.hold_s:
                keep.append(p)
                continue
            c = p.crossing
            same = any(k.line == c.line and k.direction == c.direction and abs(k.t_s - c.t_s) <= self.same_s
                       for k in self._tracked)
            if p.person is not None and not same:
                out.append(Crossing(c.line, c.direction, c.cls, c.t_s, p.person))
        self._pending = keep
        self._tracked = [k for k in self._tracked if t - k.t_s <= self.hold_s + self.same_s]
        return out


def match_crossings(pred: list[dict], truth: list[dict], within_s: float = 1.0) -> list[tuple[int, int]]:
    """Greedy one-to-one pairs (pred index, truth index) of crossing lines: same line and direction
    (and class, when the truth names one), times within within_s, closest first."""
    cands = []
    for i, p in enumerate(pred):
        for j, g in enumerate(truth):
            if p["line"] != g["line"] or p["direction"] != g["direction"]:
                continue
            if g.get("class") is not None and p.get("class") != g["class"]:
                continue
            dt = abs(p["t_s"] - g["t_s"])
            if dt <= within_s:
                cands.append((dt, i, j))
    cands.sort()
    used_p, used_t, pairs = set(), set(), []
    for _, i, j in cands:
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            pairs.append((i, j))
    return pairs


def count_present(zones: list[PolygonZone], people: list[Box], vehicles: list[Box]) -> dict[tuple[str, str], int]:
    """(zone, 'person'|'vehicle') -> how many boxes (0-1 xyxy) have their foot point in the zone; zeros left out."""
    out: dict[tuple[str, str], int] = {}
    for cls, boxes in (("person", people), ("vehicle", vehicles)):
        if not boxes:
            continue
        arr = np.asarray(boxes, np.float64).reshape(-1, 4)
        for zone in zones:
            n = int(zone.trigger(arr).sum())
            if n:
                out[(zone.name, cls)] = n
    return out
