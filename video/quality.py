"""Video quality diagnosis: offline, frozen, covered, blurred (vs the camera's own baseline), moved."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from video.config import Health
from video.motion import small_grey

logger = logging.getLogger(__name__)

# One check per threshold of the camera's health config, in its order: the model is the list.
CHECKS: tuple[str, ...] = tuple(Health.model_fields)


@dataclass(frozen=True)
class Diagnosis:
    """Raw conditions seen in this frame, and the problems that have lasted past their thresholds."""

    raw: frozenset[str]
    problems: frozenset[str]


def sharpness(grey: np.ndarray) -> float:
    """Variance of the Laplacian: high for crisp edges, near zero for a blurred or flat picture."""
    # meanStdDev, not ndarray.var(): the same figure (double accumulation) at a fifth of the cost.
    _, std = cv2.meanStdDev(cv2.Laplacian(grey, cv2.CV_32F))
    return float(std[0, 0]) ** 2


def block_similarity(a: np.ndarray, b: np.ndarray, grid: tuple[int, int] = (4, 3), quantile: float = 0.75) -> float:
    """Upper-quartile normalised cross-correlation of corresponding blocks: 1 same view, ~0 a different one.

    Blocks, not the whole image, and the upper quartile, not the median: a group of people standing in
    front of the camera hides half the blocks while the rest still match, but a turned camera changes
    them all. Normalising each block makes it blind to exposure and lighting changes.
    """
    h, w = a.shape
    gx, gy = grid
    rows = [j * h // gy for j in range(gy)]
    cols = [i * w // gx for i in range(gx)]
    a, b = a.astype(np.float64), b.astype(np.float64)

    def sums(x: np.ndarray) -> np.ndarray:
        return np.add.reduceat(np.add.reduceat(x, rows, axis=0), cols, axis=1)

    # All blocks at once from five block sums (the same figures as a loop over the blocks, to 1e-6, at a
    # third of the cost: this ran up to three times a frame on every camera, ~1 ms of a quiet frame).
    n = np.outer(np.diff(rows + [h]), np.diff(cols + [w])).astype(np.float64)
    sa, sb = sums(a), sums(b)
    var_a = np.maximum(sums(a * a) - sa * sa / n, 0.0)
    var_b = np.maximum(sums(b * b) - sb * sb / n, 0.0)
    den = np.sqrt(var_a * var_b)
    textured = den >= 1e-3 * n  # a flat block (sky, wall) says nothing about where the camera points
    scores = (sums(a * b) - sa * sb / n)[textured] / den[textured]
    return float(np.quantile(scores, quantile)) if scores.size else 1.0


def shifted_similarity(view: np.ndarray, shift: float = 0.125) -> float:
    """How well a view matches itself moved diagonally by a fraction of its size (the better diagonal).

    Near 0 for a textured view, high for a plain one whose slow shading outlasts a shift: it tells how
    far below 1 the block similarity of a moved camera may stay.
    """
    h, w = view.shape
    dx, dy = max(1, int(round(w * shift))), max(1, int(round(h * shift)))
    return max(block_similarity(view[dy:, dx:], view[:-dy, :-dx]), block_similarity(view[dy:, :-dx], view[:-dy, dx:]))


class QualityMonitor:
    """Per-camera health checks; each problem must persist for its configured seconds to count."""

    def __init__(
        self,
        health: Health | None = None,
        size: tuple[int, int] = (160, 90),
        dark_level: float = 28.0,
        flat_std: float = 9.0,
        frozen_diff: float = 0.08,
        blur_ratio: float = 0.3,
        moved_similarity: float = 0.6,
        baseline_s: float = 3.0,
    ) -> None:
        self.health = health or Health()
        self.size = size
        self.dark_level = dark_level
        self.flat_std = flat_std
        self.frozen_diff = frozen_diff
        self.blur_ratio = blur_ratio
        self.moved_similarity = moved_similarity
        self.baseline_s = baseline_s
        self._prev: np.ndarray | None = None
        self._since: dict[str, float] = {}
        self._last_frame_t: float | None = None
        self._first_t: float | None = None
        self._baseline: float | None = None
        self._reference: np.ndarray | None = None
        self._moved_below: float | None = None  # similarity under which the view counts as moved
        self._bar_t: float = 0.0  # when that bar was last worked out
        self.bar_refresh_s = 10.0

    def seconds(self, check: str) -> float:
        """The configured persistence threshold of a check."""
        return float(getattr(self.health, check))

    def no_frame(self, t: float) -> Diagnosis:
        """Called when the source delivered nothing at time t."""
        if self._last_frame_t is None:
            self._last_frame_t = t
        raw = {"offline"}
        return self._settle(raw, t, offline_since=self._last_frame_t)

    def update(self, frame: np.ndarray, t: float) -> Diagnosis:
        """Check one frame at time t."""
        if self._first_t is None:
            self._first_t = t
        grey = small_grey(frame, self.size)
        raw: set[str] = set()
        mean, std = cv2.meanStdDev(grey)
        sharp = sharpness(small_grey(frame, (self.size[0] * 2, self.size[1] * 2)))
        # Uniform means low contrast and none of the fine detail this camera normally shows: a plain view
        # (asphalt, a wall) can have little contrast yet keep its texture, and a cover keeps neither.
        flat = float(std[0, 0]) < self.flat_std and (self._baseline is None or sharp < self.blur_ratio * self._baseline)
        covered = float(mean[0, 0]) < self.dark_level or flat
        if covered:
            raw.add("covered")
        if self._prev is not None and float(cv2.absdiff(grey, self._prev).mean()) < self.frozen_diff:
            raw.add("frozen")
        self._prev = grey
        if not covered:
            self._check_sharpness(sharp, t, raw)
            self._check_view(grey, t, raw)
        self._last_frame_t = t
        return self._settle(raw, t)

    def _check_sharpness(self, s: float, t: float, raw: set[str]) -> None:
        if self._baseline is None:
            self._baseline = s
            return
        if s < self.blur_ratio * self._baseline:
            raw.add("blurred")
            return
        # The baseline follows the camera's own normal slowly: learn fast at first, then over minutes.
        rate = 0.2 if t - (t if self._first_t is None else self._first_t) < self.baseline_s else 0.002
        self._baseline += rate * (s - self._baseline)

    def _check_view(self, grey: np.ndarray, t: float, raw: set[str]) -> None:
        small = cv2.resize(grey, (64, 36), interpolation=cv2.INTER_AREA)
        if self._reference is None or t - (t if self._first_t is None else self._first_t) < self.baseline_s * 0.5:
            self._reference = small
            self._moved_below = None
            return
        if self._moved_below is None or t - self._bar_t >= self.bar_refresh_s:
            # The bar is the camera's own: halfway between a perfect match and how well its view matches
            # itself displaced, so a plain view whose shading survives a shift still tells a moved camera.
            # Worked out again every bar_refresh_s, not on every reference update: the reference drifts by
            # 2 % a matching frame, and the shifted match cost two block similarities a frame on every camera.
            self._moved_below = min(0.9, max(self.moved_similarity, (1.0 + shifted_similarity(self._reference)) / 2))
            self._bar_t = t
        sim = block_similarity(small, self._reference)
        if sim < self._moved_below:
            raw.add("moved")
        elif sim > (1.0 + self._moved_below) / 2:
            # Follow slow changes (shadows, day to night) while the view clearly matches.
            self._reference = cv2.addWeighted(self._reference, 0.98, small, 0.02, 0)

    def _settle(self, raw: set[str], t: float, offline_since: float | None = None) -> Diagnosis:
        for check in CHECKS:
            if check in raw:
                start = offline_since if check == "offline" and offline_since is not None else t
                self._since.setdefault(check, start)
            else:
                self._since.pop(check, None)
        problems = {c for c, s in self._since.items() if t - s >= self.seconds(c)}
        # A covered lens is also flat and blur-free by definition; report the cause, not its symptoms.
        if "covered" in raw:
            problems.discard("frozen")
        return Diagnosis(frozenset(raw), frozenset(problems))
