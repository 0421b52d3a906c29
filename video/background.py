"""Two views of the background, long and short, and a clock per pixel: finds new things that stay still.

Short-window models (MOG2 with default ratios) absorb a still object within a tenth of their history,
so abandoned bags and parked cars vanish before a rule can time them. Here a pixel is a candidate when
it differs from the **long-term** background (learnt only where the scene matches it and never under
a still blob, so a parked car is not learnt for `absorb_s`) and matches the **short-term** one (a
running average over `short_s`, so a moving car does not match it). A candidate pixel starts a clock;
clocks that ran `still_s` make blobs, and a blob must bring an outline of its own (not a ghost, not a
soft change of light) and keep its place for `confirm_s` before it is reported. Global gain is
compensated before any comparison (auto-exposure), and each pixel is compared with the range of the
long-term background's neighbourhood (`sway` pixels each way) with a margin that grows with
brightness, so a camera that sways or drifts a pixel, saturated white paint and slow light changes
do not make foreground. docs/cameras.md ("Stationary things") tells the whole story.
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
    """A new object that has not moved since `since`; box in 0-1 image coordinates (xyxy).

    `area` is the box's share of the frame, `fill` the share of the box its pixels cover.
    """

    box: tuple[float, float, float, float]
    since: float
    area: float
    fill: float = 1.0

    def age(self, now: float) -> float:
        """Seconds the object has been still at time now."""
        return max(0.0, now - self.since)


class StationaryDetector:
    """Long- and short-term backgrounds at ~320x180, updated a few times a second; reports still blobs."""

    def __init__(
        self,
        size: tuple[int, int] = (320, 180),
        interval_s: float = 0.4,
        threshold: float = 18.0,
        relative: float = 0.08,
        learn_s: float = 12.0,
        short_s: float = 0.8,
        absorb_s: float = 900.0,
        still_s: float = 1.0,
        grace_s: float = 6.0,
        clear_s: float = 1.0,
        min_pixels: int = 20,
        scene_change: float = 0.45,
        confirm_s: float = 1.5,
        sway: int = 1,
        edge_min: float = 12.0,
    ) -> None:
        self.size = size
        self.interval_s = interval_s
        self.threshold = threshold
        self.relative = relative
        self.learn_s = learn_s
        self.short_s = short_s
        self.absorb_s = absorb_s
        self.still_s = still_s
        self.grace_s = grace_s
        self.clear_s = clear_s
        self.min_pixels = min_pixels
        self.scene_change = scene_change
        self.confirm_s = confirm_s
        self.edge_min = edge_min
        self._sway = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * sway + 1, 2 * sway + 1))
        self._close = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
        self.reset()

    def reset(self) -> None:
        """Forget the background; the next frame becomes the new one."""
        self._long: np.ndarray | None = None
        self._short: np.ndarray | None = None
        self._onset: np.ndarray | None = None
        self._last_still: np.ndarray | None = None
        self._last_fg: np.ndarray | None = None
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
        if self._long is None:
            self._init(cur)
            return []
        # Auto-exposure: bring the frame to the background's level; paint saturated in both stays 255.
        cur = np.minimum(cur * gain_between(self._long, cur), 255.0)
        fg = self._foreground(cur)
        if fg.mean() > self.scene_change:
            return self._scene_changed(cur, t)
        self._changed_since = None
        short_rate = min(1.0, self.interval_s / self.short_s)
        still = fg & (cv2.absdiff(cur, self._short) < self.threshold)
        self._short += short_rate * (cur - self._short)
        self._last_fg[fg] = t
        self._last_still[still] = t
        fresh = still & np.isnan(self._onset)
        self._onset[fresh] = t
        # The clock stops when the background has shown again for clear_s (one noisy update is not
        # enough), or when nothing still was there for grace_s. Someone walking in front of a bag is
        # foreground that is not still: within grace_s that does not restart the bag's clock.
        gone = ((t - self._last_fg) > self.clear_s) | ((t - self._last_still) > self.grace_s)
        self._onset[gone] = np.nan
        self._learn(cur, fg, t)
        self._objects = self._confirmed(self._blobs(cur, t), t)
        return self._objects

    def _foreground(self, cur: np.ndarray) -> np.ndarray:
        # Compared with the neighbourhood's range, a pixel is foreground only when no background
        # pixel within `sway` matches it: edges of paint on a swaying camera stay background.
        lo = cv2.erode(self._long, self._sway)
        hi = cv2.dilate(self._long, self._sway)
        margin = self.threshold + self.relative * hi
        return (cur < lo - margin) | (cur > hi + margin)

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
        self._long = cur.copy()
        self._short = cur.copy()
        self._onset = np.full(cur.shape, np.nan, np.float32)
        self._last_still = np.full(cur.shape, -np.inf, np.float32)
        self._last_fg = np.full(cur.shape, -np.inf, np.float32)
        self._guard = np.zeros(cur.shape, bool)
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
        # Where the scene matches, follow it within learn_s (light, sway); foreground is not learnt,
        # so a parked car stays new until absorb_s.
        rate = min(1.0, self.interval_s / self.learn_s)
        # Nor is anything under a still blob: parts of a car close to the road's grey (its windows) would
        # otherwise be learnt pixel by pixel and the car would crumble before its rule's seconds.
        cv2.accumulateWeighted(cur, self._long, rate, mask=(~(fg | self._guard)).view(np.uint8))
        # An object still for absorb_s is part of the scene now (a car parked for the night).
        old = (t - np.nan_to_num(self._onset, nan=t)) > self.absorb_s
        if old.any():
            self._long[old] = cur[old]
            self._onset[old] = np.nan

    def _blobs(self, cur: np.ndarray, t: float) -> list[Stationary]:
        onset = self._onset
        ripe = ((t - np.nan_to_num(onset, nan=t)) >= self.still_s).astype(np.uint8)
        self._guard[:] = False
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
            verdict = self._edges_say(cur, labels, i, x, y, bw, bh)
            if verdict != "object":
                # A ghost (what stood there at the start has left) or a soft change of light: the old
                # view is the stale one, learn the present one there at once.
                logger.debug("still blob at %s is a %s, learnt", (x, y, bw, bh), verdict)
                self._long[y:y + bh, x:x + bw][inside] = cur[y:y + bh, x:x + bw][inside]
                self._onset[y:y + bh, x:x + bw][inside] = np.nan
                continue
            self._guard[y:y + bh, x:x + bw] = True
            times = onset[y:y + bh, x:x + bw][inside]
            times = times[~np.isnan(times)]
            since = float(np.median(times)) if len(times) else t
            found.append(Stationary((x / w, y / h, (x + bw) / w, (y + bh) / h), since, bw * bh / (w * h),
                                    float(area) / (bw * bh)))
        return _merge(found)

    def _edges_say(self, cur: np.ndarray, labels: np.ndarray, i: int, x: int, y: int, bw: int, bh: int) -> str:
        """'object', 'ghost' or 'light': whose edges run along the blob's outline, the frame's or the background's.

        A new object brings its own outline; where an old one left, the outline is in the background
        instead; a change of light (a cloud's shadow, a lamp) has a soft outline in neither. Edges in
        both (texture of the ground) cancel out.
        """
        pad = 3
        y0, y1 = max(0, y - pad), min(cur.shape[0], y + bh + pad)
        x0, x1 = max(0, x - pad), min(cur.shape[1], x + bw + pad)
        m = (labels[y0:y1, x0:x1] == i).astype(np.uint8)
        ring = (cv2.dilate(m, None, iterations=2) - cv2.erode(m, None, iterations=1)).astype(bool)
        e_cur = _edges(cur[y0:y1, x0:x1])[ring]
        e_bg = _edges(self._long[y0:y1, x0:x1])[ring]
        cur_only = float(np.maximum(e_cur - e_bg, 0).mean())
        bg_only = float(np.maximum(e_bg - e_cur, 0).mean())
        if bg_only > 1.5 * cur_only:
            return "ghost"
        # A step of `threshold` grey levels gives Sobel about 4x that on its line; a soft ramp far less.
        if cur_only < self.edge_min:
            return "light"
        return "object"


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
    """Join nearby blobs that stopped at about the same time: the roof, windows and wheels of one car.

    Near means within `gap` of the frame, or within half the thickness of the thicker blob: a body the
    colour of the road leaves windows and wheels about that far apart.
    """
    objs = sorted(objs, key=lambda o: o.since)
    merged = True
    while merged:
        merged = False
        for i in range(len(objs)):
            for j in range(i + 1, len(objs)):
                a, b = objs[i], objs[j]
                g = max(gap, 0.5 * max(_thickness(a.box), _thickness(b.box)))
                near = (a.box[0] - g <= b.box[2] and b.box[0] - g <= a.box[2]
                        and a.box[1] - g <= b.box[3] and b.box[1] - g <= a.box[3])
                if near and abs(a.since - b.since) <= same_s:
                    box = (min(a.box[0], b.box[0]), min(a.box[1], b.box[1]), max(a.box[2], b.box[2]),
                           max(a.box[3], b.box[3]))
                    area = (box[2] - box[0]) * (box[3] - box[1])
                    fill = (a.fill * a.area + b.fill * b.area) / area if area > 0 else 1.0
                    objs[i] = Stationary(box, min(a.since, b.since), area, min(1.0, fill))
                    del objs[j]
                    merged = True
                    break
            if merged:
                break
    return objs


def _thickness(box: tuple[float, float, float, float]) -> float:
    return min(box[2] - box[0], box[3] - box[1])
