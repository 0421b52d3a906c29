"""Cheap appearance cues for the tracker: tiny templates, colour histograms and an empty-scene backdrop.

All work happens on small crops (a 12x24 template per track) or on a thumbnail refreshed twice a
second, so per-frame cost stays far below the detector's.
"""

from __future__ import annotations

import cv2
import numpy as np

from video.motion import gain_between, small_grey

_TEMPLATE = (12, 24)  # w, h of the grey appearance template: a person's outline, not their texture


def _region(frame: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """The box's pixels, edge-replicated where it leaves the frame; None when it is mostly outside."""
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    if x2 - x1 < 4 or y2 - y1 < 8:
        return None
    cx1, cy1, cx2, cy2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
    # Mostly outside the picture: nothing to compare, the object is leaving.
    if cx2 <= cx1 or cy2 <= cy1 or (cx2 - cx1) * (cy2 - cy1) < 0.6 * (x2 - x1) * (y2 - y1):
        return None
    crop = frame[cy1:cy2, cx1:cx2]
    pads = (cy1 - y1, y2 - cy2, cx1 - x1, x2 - cx2)
    return cv2.copyMakeBorder(crop, *pads, cv2.BORDER_REPLICATE) if any(pads) else crop


def _grey(img: np.ndarray) -> np.ndarray:
    return (cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img).astype(np.float32)


def appearance(frame: np.ndarray, box: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(grey template, hue-saturation histogram) of the box's crop; (None, None) if mostly off-frame."""
    crop = _region(frame, box)
    if crop is None:
        return None, None
    small = cv2.resize(crop, _TEMPLATE, interpolation=cv2.INTER_AREA)
    if small.ndim != 3:
        return _grey(small), None
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [8, 4], [0, 180, 0, 256]).ravel()
    return _grey(small), hist / max(float(hist.sum()), 1.0)


def search(frame: np.ndarray, box: np.ndarray, template: np.ndarray, reach: tuple[float, float] = (0.5, 0.12)
           ) -> tuple[np.ndarray, float] | None:
    """Where the template fits best near box: (shifted box, correlation), None when off-frame.

    The neighbourhood is resized so the box becomes template-sized: one small matchTemplate per track.
    """
    bw, bh = float(box[2] - box[0]), float(box[3] - box[1])
    rx, ry = reach[0] * bw, reach[1] * bh
    region = _region(frame, np.array([box[0] - rx, box[1] - ry, box[2] + rx, box[3] + ry]))
    if region is None or bw < 4 or bh < 8:
        return None
    tw, th = _TEMPLATE
    fx, fy = tw / bw, th / bh
    size = (max(tw, int(round(region.shape[1] * fx))), max(th, int(round(region.shape[0] * fy))))
    small = _grey(cv2.resize(region, size, interpolation=cv2.INTER_AREA))
    res = cv2.matchTemplate(small, template.astype(np.float32), cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(res)
    dx = bx / fx - rx
    dy = by / fy - ry
    return box + np.array([dx, dy, dx, dy], np.float32), float(best)


def template_match(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(normalised cross-correlation, mean absolute difference after matching brightness) of two templates."""
    da, db = a - a.mean(), b - b.mean()
    den = float(np.sqrt((da * da).sum() * (db * db).sum()))
    ncc = float((da * db).sum()) / den if den > 1e-6 else 0.0
    return ncc, float(np.abs(da - db).mean())


def hist_similarity(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Bhattacharyya coefficient of two normalised histograms, 0.5 when either is unknown."""
    if a is None or b is None:
        return 0.5
    return float(np.sqrt(a * b).sum())


class Backdrop:
    """A slow grey thumbnail of the empty scene, learned only where no track stands and nothing moves.

    It answers "is something there?" for a box: a track may coast through detector misses only while
    its box still differs from the empty scene, so it ends when the person walks off.
    """

    def __init__(self, size: tuple[int, int] = (320, 180), every_s: float = 0.5, learn_s: float = 20.0,
                 level: float = 20.0) -> None:
        self.size = size
        self.every_s = every_s
        self.learn_s = learn_s
        self.level = level
        self.reset()

    def reset(self) -> None:
        """Forget the scene."""
        self._bg: np.ndarray | None = None
        self._gain = 1.0
        self._last_t = -np.inf

    def update(self, frame: np.ndarray, t: float, keep_out: np.ndarray) -> None:
        """Learn the scene from frame at time t, except inside keep_out boxes (pixel xyxy)."""
        if t - self._last_t < self.every_s:
            return
        self._last_t = t
        cur = small_grey(frame, self.size).astype(np.float32)
        if self._bg is None:
            self._bg = cur
            return
        self._gain = gain_between(self._bg, cur)
        cur *= self._gain
        sx, sy = self.size[0] / frame.shape[1], self.size[1] / frame.shape[0]
        rate = np.full(cur.shape, min(1.0, self.every_s / self.learn_s), np.float32)
        # Something that differs from the scene is learned ten times slower than the scene itself.
        rate[np.abs(cur - self._bg) > self.level] *= 0.1
        for x1, y1, x2, y2 in np.asarray(keep_out, np.float32).reshape(-1, 4):
            top, left = max(0, int(y1 * sy) - 1), max(0, int(x1 * sx) - 1)
            rate[top:max(0, int(y2 * sy) + 2), left:max(0, int(x2 * sx) + 2)] = 0
        self._bg += rate * (cur - self._bg)

    def foreground(self, frame: np.ndarray, box: np.ndarray) -> float:
        """Share of the box that differs from the empty scene (1.0 before the scene is known)."""
        if self._bg is None:
            return 1.0
        crop = _region(frame, box)
        sx, sy = self.size[0] / frame.shape[1], self.size[1] / frame.shape[0]
        bg = _region(self._bg, np.asarray(box, np.float32) * np.array([sx, sy, sx, sy], np.float32))
        if crop is None or bg is None:
            return 0.0
        cur = _grey(cv2.resize(crop, _TEMPLATE, interpolation=cv2.INTER_AREA)) * self._gain
        ref = cv2.resize(bg, _TEMPLATE, interpolation=cv2.INTER_AREA)
        return float((np.abs(cur - ref) > self.level).mean())
