"""A camera's counts per time bucket (issue 14): zone peaks and line crossings, summed in the runner thread.

Pure: the runner feeds it the pipeline's `present` and `crossings` after each frame with the frame's
wall time, and gets back the `LiveCameraCounts` to hand to the main thread (which stores and publishes
them): the closed bucket when a frame falls into the next one, and the open bucket's partial counts at
most every `partial_every_s`, so a chart moves before the 5 minutes are up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from geodata.bus.messages import LineCount, LiveCameraCounts, ZoneCount
from geodata.camera_counts import BUCKET_S, bucket_of
from video.config import CameraConfig
from video.lines import Crossing

logger = logging.getLogger(__name__)

CLASSES = ("person", "vehicle")
DIRECTIONS = ("in", "out")


@dataclass(frozen=True)
class CountsReport:
    """A bucket's counts (closed, or partial while open) for the main thread to store and publish."""

    gen: int
    counts: LiveCameraCounts


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, timezone.utc)


class CountBuckets:
    """Per camera: the peak of each (zone, class) and the crossings of each (line, class, direction)."""

    def __init__(self, config: CameraConfig, bucket_s: int = BUCKET_S, partial_every_s: float = 30.0) -> None:
        self.code = config.code
        self.bucket_s = int(bucket_s)
        self.partial_every_s = partial_every_s
        # Every configured line and class has a series from its first bucket on, zero while nobody
        # crosses: an empty bucket on the chart then means "counted, none", not "not counted".
        self._line_keys = [(ln.name, c) for ln in config.lines for c in ln.classes]
        self._start: float | None = None
        self._peaks: dict[tuple[str, str], int] = {}
        self._crossed: dict[tuple[str, str], list[int]] = {}
        self._partial_at = float("-inf")

    def seed(self, bucket_start: datetime, zones: list[ZoneCount], lines: list[LineCount]) -> None:
        """Start from the counts stored for the open bucket (the camera was restarted within it)."""
        self._open(bucket_start.timestamp())
        for z in zones:
            self._peaks[(z.name, z.cls)] = max(self._peaks.get((z.name, z.cls), 0), z.peak)
        for ln in lines:
            pair = self._crossed.setdefault((ln.name, ln.cls), [0, 0])
            pair[0] += ln.in_
            pair[1] += ln.out

    def _open(self, start: float) -> None:
        self._start = start
        self._peaks = {}
        self._crossed = {key: [0, 0] for key in self._line_keys}

    def feed(self, wall: float, present: dict[tuple[str, str], int], crossings: list[Crossing]) -> list[LiveCameraCounts]:
        """Count one frame seen at epoch `wall`; return the messages due (a closed bucket, a partial one)."""
        out: list[LiveCameraCounts] = []
        start = bucket_of(wall, self.bucket_s)
        if self._start is not None and start != self._start:
            # A frame in another bucket closes the open one (a clock stepped back closes it too: the
            # counts so far are true, only their bucket ends early).
            closed = self.close(wall)
            if closed is not None:
                out.append(closed)
        if self._start is None:
            self._open(start)
            self._partial_at = wall
        for (zone, cls), n in present.items():
            if cls not in CLASSES:
                logger.warning("camera %s: zone count of unknown class %r ignored", self.code, cls)
                continue
            key = (zone, cls)
            self._peaks[key] = max(self._peaks.get(key, 0), int(n))
        for c in crossings:
            if c.cls not in CLASSES or c.direction not in DIRECTIONS:
                logger.warning("camera %s: crossing %s/%s of line %s ignored", self.code, c.cls, c.direction, c.line)
                continue
            self._crossed.setdefault((c.line, c.cls), [0, 0])[DIRECTIONS.index(c.direction)] += 1
        if wall - self._partial_at >= self.partial_every_s:
            self._partial_at = wall
            msg = self._message(wall, closed=False)
            if msg is not None:
                out.append(msg)
        return out

    def close(self, wall: float) -> LiveCameraCounts | None:
        """The open bucket as a closed message (None when nothing was counted); the next frame opens another."""
        msg = self._message(wall, closed=True) if self._start is not None else None
        self._start = None
        self._peaks, self._crossed = {}, {}
        return msg

    def _message(self, wall: float, closed: bool) -> LiveCameraCounts | None:
        if not self._peaks and not self._crossed:
            return None
        return LiveCameraCounts(
            at=_utc(wall), camera=self.code, bucket_start=_utc(self._start), bucket_s=self.bucket_s, closed=closed,
            zones=[ZoneCount(name=z, cls=c, peak=n) for (z, c), n in sorted(self._peaks.items())],
            lines=[LineCount(name=ln, cls=c, in_=pair[0], out=pair[1]) for (ln, c), pair in sorted(self._crossed.items())],
        )
