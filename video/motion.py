"""Cheap motion gate: a low-resolution frame difference that decides when and where to look."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)

# Per thread (one camera pipeline per thread): the frame being analysed and its thumbnails.
_thumbs = threading.local()


@dataclass(frozen=True)
class Motion:
    """What the gate saw in one frame: boxes in 0-1 image coordinates (xyxy)."""

    moving: bool
    boxes: np.ndarray
    fraction: float
    gain: float


def _make_small_grey(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if frame.shape[1] != size[0] or frame.shape[0] != size[1]:
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    if frame.ndim == 3:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return frame


def small_grey(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Greyscale thumbnail of a BGR or grey frame at size (w, h), area-averaged to cut sensor noise."""
    if getattr(_thumbs, "frame", None) is not frame:
        return _make_small_grey(frame, size)
    cached = _thumbs.sizes.get(size)
    if cached is None:
        if frame.ndim == 3 and (frame.shape[1], frame.shape[0]) != size:
            # Convert once at full size, then shrink one channel: three times less to resize per stage.
            grey = _thumbs.sizes.get("full")
            if grey is None:
                grey = _thumbs.sizes["full"] = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            cached = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        else:
            cached = _make_small_grey(frame, size)
        cached.flags.writeable = False  # shared by every stage: nobody may change it in place
        _thumbs.sizes[size] = cached
    return cached


@contextmanager
def shared_thumbnails(frame: np.ndarray) -> Iterator[None]:
    """Within the block, small_grey(frame, size) is computed once per size and shared by all stages."""
    _thumbs.frame, _thumbs.sizes = frame, {}
    try:
        yield
    finally:
        _thumbs.frame, _thumbs.sizes = None, {}


def _median(a: np.ndarray) -> float:
    # A global brightness level: every other row and column gives the same median to a grey level
    # or so, at a quarter of the partition cost (medians were ~15 % of a quiet camera's CPU).
    return float(np.median(a[::2, ::2] if a.ndim == 2 and a.size > 4096 else a))


def gain_between(reference: np.ndarray, current: np.ndarray) -> float:
    """Global gain that maps current's brightness onto reference's (ratio of medians, robust to objects)."""
    return gain_of_levels(_median(reference), _median(current))


def gain_of_levels(ref: float, cur: float) -> float:
    """gain_between() from the two pictures' median levels (a caller may keep last frame's)."""
    if cur < 4.0 or ref < 4.0:
        return 1.0
    # Auto-exposure swings stay within a factor of ~2; larger ratios are scene changes, not gain.
    return float(np.clip(ref / cur, 0.4, 2.5))


class MotionGate:
    """Frame difference at ~160x90 with global gain compensation for auto-exposure."""

    def __init__(
        self,
        size: tuple[int, int] = (160, 90),
        threshold: float = 14.0,
        min_pixels: int = 6,
        dilate: int = 2,
    ) -> None:
        self.size = size
        self.threshold = threshold
        self.min_pixels = min_pixels
        self._kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * dilate + 1, 2 * dilate + 1))
        self._prev: np.ndarray | None = None
        self._prev_level = 0.0  # the previous frame's median: computed once, as that frame's own level

    def reset(self) -> None:
        """Forget the previous frame (after a cut, a reconnect or a camera move)."""
        self._prev = None

    def update(self, frame: np.ndarray) -> Motion:
        """Compare frame with the previous one; return where it changed."""
        cur = cv2.GaussianBlur(small_grey(frame, self.size), (3, 3), 0).astype(np.float32)
        prev, self._prev = self._prev, cur
        level, prev_level = _median(cur), self._prev_level
        self._prev_level = level
        if prev is None:
            return Motion(False, np.zeros((0, 4), np.float32), 0.0, 1.0)
        gain = gain_of_levels(prev_level, level)
        diff = cv2.absdiff(cur * gain, prev)
        mask = (diff > self.threshold).astype(np.uint8)
        changed = int(mask.sum())
        fraction = changed / mask.size
        if changed < self.min_pixels:
            return Motion(False, np.zeros((0, 4), np.float32), fraction, gain)
        dilated = cv2.dilate(mask, self._kernel)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(dilated, connectivity=8)
        # Count the truly changed pixels per component: dilation alone must not make noise a box.
        real = np.bincount(labels.ravel(), weights=mask.ravel(), minlength=n)
        w, h = self.size
        boxes = []
        for i in range(1, n):
            if real[i] < self.min_pixels:
                continue
            x, y, bw, bh, _ = stats[i]
            boxes.append((x / w, y / h, (x + bw) / w, (y + bh) / h))
        arr = np.array(boxes, np.float32).reshape(-1, 4)
        return Motion(len(arr) > 0, arr, fraction, gain)
