"""Vehicles on the move without a model (issue 14): moving blobs, tracked and classed by size.

HOG finds only people. For counting lines and zone counts a camera without an ONNX model finds
vehicles as blobs that differ from a slow, gain-compensated background (the 160x90 thumbnail the
motion gate already made, so it costs one difference and one connected-components pass). A frame
difference alone would not do: a car's uniform roof does not change between two frames, so it
shows as two thin bands, its front and its back. Blobs are tracked by a second `Tracker` (no frame:
overlap and centre distance with motion prediction, no templates) and kept when they have a
vehicle's size by the rules of the stationary classes (video.still_kind): the footprint in metres
on a calibrated camera, else the `vehicle_area` range of the zone the blob stands in, the defaults
for a blob outside every zone. A blob that is mostly a tracked person is that person.
With an ONNX model that names vehicles, its vehicle boxes are tracked instead.

The same blobs, tracked apart (`MovingPeople`) and named a person when a detected person's box
covers one, carry people across a counting line where the person detector does not see them: HOG
finds someone only once they are wholly in the picture and not in every frame.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np

from video.calibration import Calibration
from video.config import DEFAULT_VEHICLE_AREA, Zone
from video.detections import VEHICLE, Detections, box_cover
from video.motion import gain_between, small_grey
from video.still_kind import FootprintRule, footprint_m, kind_by_area
from video.tracker import Tracker
from video.zones import PolygonZone

logger = logging.getLogger(__name__)


class MovingBlobs:
    """Foreground blobs against a background learnt within learn_s where the scene shows.

    What stands still for still_s (a car that parked) becomes background at once, so only what moves
    makes blobs. A second view, the empty scene, never takes a parked car in (only what stayed for
    empty_s): the ground a parked car uncovers when it drives off matches it and is background at
    once, instead of a "ghost" that would stick to the car's blob as it leaves.
    """

    def __init__(self, size: tuple[int, int] = (160, 90), threshold: float = 22.0, relative: float = 0.08,
                 learn_s: float = 6.0, still_s: float = 1.6, still_level: float = 10.0, empty_s: float = 60.0,
                 min_pixels: int = 24, close: int = 7, scene_change: float = 0.6) -> None:
        self.size = size
        self.threshold = threshold
        self.relative = relative
        self.learn_s = learn_s
        self.still_s = still_s
        self.still_level = still_level
        self.empty_s = empty_s
        self.min_pixels = min_pixels
        self.scene_change = scene_change
        self._close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close, close))
        self.reset()

    def reset(self) -> None:
        """Forget the background; the next frame becomes it."""
        self._bg: np.ndarray | None = None
        self._empty: np.ndarray | None = None
        self._prev: np.ndarray | None = None
        self._changed: np.ndarray | None = None
        self._t = 0.0

    def update(self, frame: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Boxes (N,4, 0-1 xyxy) of the blobs that differ from the background, and each box's share of the frame."""
        empty = np.zeros((0, 4), np.float32), np.zeros((0,), np.float32)
        cur = small_grey(frame, self.size).astype(np.float32)
        if self._bg is None:
            self._bg, self._empty, self._prev, self._t = cur, cur.copy(), cur, t
            self._changed = np.full(cur.shape, t, np.float32)
            return empty
        dt, self._t = max(0.0, t - self._t), t
        # Auto-exposure darkens the whole parking clip when a white car passes: compare at one level.
        cur = np.minimum(cur * gain_between(self._bg, cur), 255.0)
        fg = np.abs(cur - self._bg) > self.threshold + self.relative * self._bg
        ground = np.abs(cur - self._empty) <= self.threshold + self.relative * self._empty
        # Where the scene shows it is learnt within seconds (light, drift). Foreground that has not
        # changed for still_s is not moving: a parked car, or the ground one uncovers when it drives off
        # (a "ghost" that would otherwise stick to the car as it leaves). It is background from now on.
        self._changed[np.abs(cur - self._prev) > self.still_level] = t
        self._prev = cur
        still_for = t - self._changed
        settled = fg & (still_for >= self.still_s)
        learn = min(1.0, dt / self.learn_s)
        rate = np.where(fg, 0.0, learn).astype(np.float32)
        rate[settled | (fg & ground)] = 1.0
        self._bg += rate * (cur - self._bg)
        # The empty scene follows light and drift where it shows, and takes in only what stayed empty_s.
        rate = np.where(ground, learn, 0.0).astype(np.float32)
        rate[still_for >= self.empty_s] = 1.0
        self._empty += rate * (cur - self._empty)
        fg &= ~(settled | ground)
        if fg.mean() > self.scene_change:
            # Lights, a cover, a turned camera: no blob is a vehicle; the background catches up.
            self._bg = cur
            return empty
        mask = cv2.morphologyEx(fg.view(np.uint8), cv2.MORPH_CLOSE, self._close)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        w, h = self.size
        keep = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= self.min_pixels]
        if not keep:
            return empty
        s = stats[keep].astype(np.float32)
        boxes = np.stack([s[:, 0] / w, s[:, 1] / h, (s[:, 0] + s[:, 2]) / w, (s[:, 1] + s[:, 3]) / h], axis=1)
        return boxes.astype(np.float32), (s[:, 2] * s[:, 3] / (w * h)).astype(np.float32)


class VehicleTracks:
    """The vehicles of one camera as tracks (ids and 0-1 boxes): moving blobs classed by size, or a model's boxes."""

    def __init__(self, zones: list[Zone], calibration: Calibration | None = None,
                 footprint: FootprintRule | None = None) -> None:
        self.blobs = MovingBlobs()
        # Blob boxes change shape as a car enters the picture or passes a shadow: a generous size gate.
        self.tracker = Tracker(min_hits=2, max_missing_s=1.5)
        self.zones = [(PolygonZone.from_config(z), z) for z in zones]
        self.calibration = calibration if calibration is not None and calibration.calibrated else None
        self.footprint = footprint or FootprintRule()

    def is_vehicle(self, box: tuple[float, float, float, float], area: float) -> bool:
        """Whether a blob (0-1 xyxy, share of the frame) has a vehicle's size, by the stationary classes' rules."""
        if self.calibration is not None:
            fp = footprint_m(self.calibration, box)
            if fp is not None:
                return self.footprint.kind(*fp) == "vehicle"
        inside = [z for pz, z in self.zones if pz.trigger(np.array([box]))[0]]
        if not inside:
            lo, hi = DEFAULT_VEHICLE_AREA
            return lo <= area <= hi
        return any(kind_by_area(area, z) == "vehicle" for z in inside)

    def vehicle_sized(self, boxes: np.ndarray, areas: np.ndarray) -> np.ndarray:
        """is_vehicle() for every blob (N,4 0-1 xyxy, N shares of the frame) at once: one zone test per
        zone for all blobs, not one per blob and zone (the blobs of a busy street, every frame)."""
        if self.calibration is not None or not len(boxes):
            return np.array([self.is_vehicle(tuple(float(v) for v in b), float(a)) for b, a in zip(boxes, areas)],
                            bool).reshape(-1)
        areas = np.asarray(areas, np.float64)
        lo, hi = DEFAULT_VEHICLE_AREA
        in_any = np.zeros(len(boxes), bool)
        sized = np.zeros(len(boxes), bool)
        for pz, z in self.zones:
            inside = pz.trigger(boxes)
            in_any |= inside
            # kind_by_area's "vehicle": within the zone's vehicle range (checked before its object range).
            sized |= inside & (areas >= z.vehicle_range[0]) & (areas <= z.vehicle_range[1])
        return np.where(in_any, sized, (areas >= lo) & (areas <= hi))

    def update(self, frame: np.ndarray, t: float, people: np.ndarray, detections: Detections | None = None,
               blobs: tuple[np.ndarray, np.ndarray] | None = None) -> list[tuple[int, tuple[float, float, float, float]]]:
        """(track id, 0-1 box) of the confirmed vehicles now.

        people: 0-1 boxes of the tracked people (their blobs are not vehicles). detections: a model's
        boxes in frame pixels, whose vehicles are tracked instead of blobs; None without such a model.
        blobs: this frame's MovingBlobs.update(), when the caller shares one background with MovingPeople.
        """
        h, w = frame.shape[:2]
        scale = np.array([w, h, w, h], np.float32)
        if detections is not None:
            dets = detections.of(VEHICLE)
        else:
            boxes, areas = self.blobs.update(frame, t) if blobs is None else blobs
            sized = self.vehicle_sized(boxes, areas)
            keep = [i for i in range(len(boxes)) if sized[i] and not _is_person(boxes[i], people)]
            boxes = boxes[keep]
            dets = Detections(boxes * scale, np.full(len(boxes), 0.6, np.float32), np.array([VEHICLE] * len(boxes)))
        self.tracker.update(dets, t)
        return [(tr.id, tuple(float(v) for v in np.clip(tr.box / scale, 0.0, 1.0)))
                for tr in self.tracker.confirmed() if tr.last_seen == t]


class MovingPeople:
    """Moving blobs as tracks, each named a person when a person the detector found in that frame covers it.

    A person walking in from the picture's edge is boxed by HOG only once wholly in view, often past a
    line drawn near that edge; one walking out may be boxed once and never again, too few sightings to
    confirm a person track. Their moving blob is there all along. A blob track keeps, from the frame a
    person box covered it (the vehicles' `_is_person` rule: the blob lies mostly within the box, and
    is at most twice its size, which a car's blob under a false HOG box is not), that person's track
    id: video.lines.BlobCrossings counts its crossings as that person's.
    """

    def __init__(self, max_missing_s: float = 1.0) -> None:
        # Blobs change shape as someone steps in from the edge: the blob tracker's centre-distance gate
        # and motion prediction carry them; a blob gone for 1 s is someone else when it comes back.
        self.tracker = Tracker(min_hits=2, max_missing_s=max_missing_s)
        self.named: dict[int, int] = {}  # blob track id -> the person track id that last covered it

    def update(self, t: float, blobs: np.ndarray, detected: list[tuple[int, np.ndarray]], size: tuple[int, int]
               ) -> list[tuple[int, tuple[float, float, float, float]]]:
        """(blob track id, 0-1 box) of the confirmed moving blobs now; names those a person covers.

        blobs: this frame's moving blobs (N,4, 0-1 xyxy). detected: (person track id, 0-1 box) of the
        people the detector found in this frame (a coasting track's box is a guess, not a sighting).
        size: the frame's (width, height); blobs are tracked in pixels, as the tracker's gates expect.
        """
        w, h = size
        scale = np.array([w, h, w, h], np.float32)
        boxes = np.asarray(blobs, np.float32).reshape(-1, 4) * scale
        dets = Detections(boxes, np.full(len(boxes), 0.6, np.float32), np.array(["blob"] * len(boxes)))
        self.tracker.update(dets, t)
        out = []
        for tr in self.tracker.confirmed():
            if tr.last_seen != t:
                continue
            box = np.clip(tr.box / scale, 0.0, 1.0)
            for pid, pbox in detected:
                if _is_person(box, np.asarray(pbox, np.float32).reshape(1, 4)):
                    self.named[tr.id] = pid
                    break
            out.append((tr.id, tuple(float(v) for v in box)))
        live = {tr.id for tr in self.tracker.tracks}
        self.named = {k: v for k, v in self.named.items() if k in live}
        return out


def _is_person(blob: np.ndarray, people: np.ndarray) -> bool:
    """A blob lying almost wholly (70 %) within a tracked person's box grown by 15 %, and at most twice its size.

    Strict on purpose: HOG now and then boxes a car seen from above as a person, and such a box
    overlaps the car's blob only in part; a person's own blob lies within their box.
    """
    if not len(people):
        return False
    bw, bh = people[:, 2] - people[:, 0], people[:, 3] - people[:, 1]
    grown = np.stack([people[:, 0] - 0.15 * bw, people[:, 1] - 0.15 * bh,
                      people[:, 2] + 0.15 * bw, people[:, 3] + 0.15 * bh], axis=1)
    inside = box_cover(blob[None], grown)[0] >= 0.7
    area = (blob[2] - blob[0]) * (blob[3] - blob[1])
    return bool((inside & (area <= 2.0 * bw * bh)).any())
