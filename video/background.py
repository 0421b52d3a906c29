"""Long-term background with a per-pixel persistence clock: finds new objects that stay still.

Short-window models (MOG2 with default ratios) absorb a still object within a tenth of their history,
so abandoned bags and parked cars vanish before a rule can time them. Here the background learns only
where the scene matches it, and each foreground pixel remembers since when it has been still.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from video.motion import gain_between, small_grey

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stationary:
    """A new object that has not moved since `since`; box in 0-1 image coordinates (xyxy)."""

    box: tuple[float, float, float, float]
    since: float
    area: float

    def age(self, now: float) -> float:
        """Seconds the object has been still at time now."""
        return max(0.0, now - self.since)


class StationaryDetector:
    """Background at ~320x180, updated a few times a second, reporting still foreground blobs."""

    def __init__(
        self,
        size: tuple[int, int] = (320, 180),
        interval_s: float = 0.4,
        threshold: float = 22.0,
        learn_s: float = 30.0,
        absorb_s: float = 900.0,
        still_s: float = 1.0,
        grace_s: float = 4.0,
        min_pixels: int = 20,
        scene_change: float = 0.45,
        confirm_s: float = 1.5,
    ) -> None:
        self.size = size
        self.interval_s = interval_s
        self.threshold = threshold
        self.learn_s = learn_s
        self.absorb_s = absorb_s
        self.still_s = still_s
        self.grace_s = grace_s
        self.min_pixels = min_pixels
        self.scene_change = scene_change
        self.confirm_s = confirm_s
        self._close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
        self.reset()

    def reset(self) -> None:
        """Forget the background; the next frame becomes the new one."""
        self._bg: np.ndarray | None = None
        self._prev: np.ndarray | None = None
        self._onset: np.ndarray | None = None
        self._last_still: np.ndarray | None = None
        self._last_t = -np.inf
        self._changed_since: float | None = None
        self._objects: list[Stationary] = []
        self._blob_first: list[tuple[tuple[float, float, float, float], float]] = []

    def update(self, frame: np.ndarray, t: float, hold: bool = False) -> list[Stationary]:
        """Feed one frame at time t; return the still objects (reused between update intervals).

        hold=True means the picture is untrustworthy (covered, frozen): keep the model, report nothing.
        """
        if hold:
            self._changed_since = None
            return []
        if t - self._last_t < self.interval_s:
            return self._objects
        self._last_t = t
        cur = cv2.GaussianBlur(small_grey(frame, self.size), (5, 5), 0).astype(np.float32)
        if self._bg is None:
            self._init(cur)
            return []
        cur = cur * gain_between(self._bg, cur)
        fg = cv2.absdiff(cur, self._bg) > self.threshold
        if fg.mean() > self.scene_change:
            return self._scene_changed(cur, t)
        self._changed_since = None
        still = fg & (cv2.absdiff(cur, self._prev) < self.threshold * 0.6)
        self._prev = cur
        self._last_still[still] = t
        fresh = still & np.isnan(self._onset)
        self._onset[fresh] = t
        # Where the background shows again the object is gone; but someone walking in front of a bag
        # (foreground, not still) must not restart its clock: forget that only after a grace period.
        self._onset[~fg | ((t - self._last_still) > self.grace_s)] = np.nan
        self._learn(cur, fg, t)
        self._objects = self._confirmed(self._blobs(cur, t), t)
        return self._objects

    def _confirmed(self, blobs: list[Stationary], t: float) -> list[Stationary]:
        # A blob must keep its place for confirm_s before it counts: the uniform body of a car driving
        # off or a person walking away looks still pixel by pixel for a moment, but its blob shrinks.
        first = []
        out = []
        for b in blobs:
            since = t
            for box, t0 in self._blob_first:
                if _iou(box, b.box) >= 0.5:
                    since = min(since, t0)
            first.append((b.box, since))
            if t - since >= self.confirm_s:
                out.append(b)
        self._blob_first = first
        return out

    def _init(self, cur: np.ndarray) -> None:
        self._bg = cur.copy()
        self._prev = cur.copy()
        self._onset = np.full(cur.shape, np.nan, np.float32)
        self._last_still = np.full(cur.shape, -np.inf, np.float32)
        self._objects = []
        self._blob_first = []

    def _scene_changed(self, cur: np.ndarray, t: float) -> list[Stationary]:
        # Most of the picture differs: lights, a cover, a turned camera. Relearn once it settles.
        if self._changed_since is None:
            self._changed_since = t
        elif t - self._changed_since >= 2.0:
            logger.debug("scene changed for %.1f s; relearning the background", t - self._changed_since)
            self._init(cur)
            self._changed_since = None
        self._objects = []
        return []

    def _learn(self, cur: np.ndarray, fg: np.ndarray, t: float) -> None:
        rate = min(1.0, self.interval_s / self.learn_s)
        bg = self._bg
        match = ~fg
        bg[match] += rate * (cur[match] - bg[match])
        # An object still for absorb_s is part of the scene now (a car parked for the night).
        old = (t - np.nan_to_num(self._onset, nan=t)) > self.absorb_s
        if old.any():
            bg[old] = cur[old]
            self._onset[old] = np.nan

    def _blobs(self, cur: np.ndarray, t: float) -> list[Stationary]:
        onset = self._onset
        ripe = ((t - np.nan_to_num(onset, nan=t)) >= self.still_s).astype(np.uint8)
        if not ripe.any():
            return []
        # Closing merges the pieces of one car that differ from the road by different amounts.
        ripe = cv2.morphologyEx(ripe, cv2.MORPH_CLOSE, self._close)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(ripe, connectivity=8)
        w, h = self.size
        found = []
        for i in range(1, n):
            x, y, bw, bh, area = stats[i]
            if area < self.min_pixels:
                continue
            inside = labels[y:y + bh, x:x + bw] == i
            if self._is_ghost(cur, x, y, bw, bh):
                # Something that was in the first frame has left: the old view is the stale one.
                self._bg[y:y + bh, x:x + bw][inside] = cur[y:y + bh, x:x + bw][inside]
                self._onset[y:y + bh, x:x + bw][inside] = np.nan
                continue
            times = onset[y:y + bh, x:x + bw][inside]
            times = times[~np.isnan(times)]
            since = float(np.median(times)) if len(times) else t
            found.append(Stationary((x / w, y / h, (x + bw) / w, (y + bh) / h), since, bw * bh / (w * h)))
        return _merge(found)

    def _is_ghost(self, cur: np.ndarray, x: int, y: int, bw: int, bh: int) -> bool:
        # A real new object brings its own edges; a ghost's edges are in the background instead.
        pad = 2
        y0, y1, x0, x1 = max(0, y - pad), y + bh + pad, max(0, x - pad), x + bw + pad
        edge_cur = _edges(cur[y0:y1, x0:x1])
        edge_bg = _edges(self._bg[y0:y1, x0:x1])
        return float(edge_cur.sum()) < 0.6 * float(edge_bg.sum())


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _edges(img: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.magnitude(gx, gy)


def _merge(objs: list[Stationary], gap: float = 0.03, same_s: float = 2.5) -> list[Stationary]:
    """Join nearby blobs that stopped at about the same time: the roof, windows and wheels of one car."""
    objs = sorted(objs, key=lambda o: o.since)
    merged = True
    while merged:
        merged = False
        for i in range(len(objs)):
            for j in range(i + 1, len(objs)):
                a, b = objs[i], objs[j]
                near = (a.box[0] - gap <= b.box[2] and b.box[0] - gap <= a.box[2]
                        and a.box[1] - gap <= b.box[3] and b.box[1] - gap <= a.box[3])
                if near and abs(a.since - b.since) <= same_s:
                    box = (min(a.box[0], b.box[0]), min(a.box[1], b.box[1]), max(a.box[2], b.box[2]),
                           max(a.box[3], b.box[3]))
                    objs[i] = Stationary(box, min(a.since, b.since), (box[2] - box[0]) * (box[3] - box[1]))
                    del objs[j]
                    merged = True
                    break
            if merged:
                break
    return objs
