"""Does a thing still stand where a case's snapshot showed it? A pure comparison of one image region.

A camera's recheck of a left object or a stopped vehicle cannot rely on the background model of a
runner that started after the thing arrived: that model learnt the thing as part of the scene, so the
rule no longer fires and the look would say `gone` while the thing still stands there. The case's own
evidence snapshot (written when the situation started, with the thing in its box) does not have that
blind spot: the region of its box in the current frame either still looks like the snapshot or not.

The comparison is a zero-mean normalised cross-correlation of the grey box region, so a change of
exposure or light (gain and offset) does not count as a change; the zone outline, the box and the
label that `video.media.draw_evidence` painted on the snapshot are masked out of both images.
"""

from __future__ import annotations

import cv2
import numpy as np

# Grey levels of standard deviation under which a region has no texture to correlate; there the
# difference of mean brightness (after the frames' overall gain is matched) decides instead.
FLAT_STD = 4.0
# Mean difference (grey levels) at which a flat region counts as wholly different.
FLAT_SPAN = 40.0
# The box is shrunk by this share of its size on each side: its edge carries the painted rectangle and
# the stationary blob's box includes some ground around the thing.
INSET = 0.12
MIN_PIXELS = 30


def overlay_mask(shape: tuple[int, int], box: tuple | None, polygon: list | None) -> np.ndarray:
    """True where draw_evidence left the picture alone: outside its polygon lines, box outline and label."""
    h, w = shape
    mask = np.full((h, w), 255, np.uint8)
    if polygon:
        pts = np.array([[x * w, y * h] for x, y in polygon], np.int32)
        cv2.polylines(mask, [pts], True, 0, 6)
    if box is not None:
        x1, y1, x2, y2 = box
        cv2.rectangle(mask, (int(x1 * w), int(y1 * h)), (int(x2 * w), int(y2 * h)), 0, 6)
    mask[:26, : min(w, 420)] = 0  # the label, written from (6, 18) in 0.5-scale text
    return mask > 0


def _region(img: np.ndarray, box: tuple, size: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    h, w = img.shape[:2]
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * INSET, (y2 - y1) * INSET
    a, b = int(round((x1 + dx) * w)), int(round((y1 + dy) * h))
    c, d = int(round((x2 - dx) * w)), int(round((y2 - dy) * h))
    a, b, c, d = max(0, a), max(0, b), min(w, c), min(h, d)
    crop = img[b:d, a:c]
    if crop.size == 0:
        return np.zeros((0, 0), np.float32), (a, b, c, d)
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA).astype(np.float32), (a, b, c, d)


def region_similarity(frame: np.ndarray, evidence: np.ndarray, box: tuple, polygon: list | None = None) -> float | None:
    """How much the box region of `frame` looks as in `evidence` (-1..1; None when there is no region).

    `box` is (x1, y1, x2, y2) in 0-1 image coordinates, as situations carry it; the two images may differ
    in size (the region is compared at the current frame's pixel size).
    """
    if frame is None or evidence is None or box is None:
        return None
    fh, fw = frame.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    if not (0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1):
        return None
    size = (max(4, int(round((x2 - x1) * (1 - 2 * INSET) * fw))), max(4, int(round((y2 - y1) * (1 - 2 * INSET) * fh))))
    cur, _ = _region(frame, (x1, y1, x2, y2), size)
    ev, (a, b, c, d) = _region(evidence, (x1, y1, x2, y2), size)
    if cur.size == 0 or ev.size == 0:
        return None
    keep = overlay_mask(evidence.shape[:2], (x1, y1, x2, y2), polygon)[b:d, a:c].astype(np.uint8)
    keep = cv2.resize(keep, size, interpolation=cv2.INTER_NEAREST) > 0
    if int(keep.sum()) < MIN_PIXELS:
        return None
    cv, ev = cur[keep], ev[keep]
    # The overall exposure may differ between the snapshot and now: match the frames' medians first.
    gain = float(np.median(evidence)) / max(1.0, float(np.median(frame)))
    cv = cv * gain
    cs, es = float(cv.std()), float(ev.std())
    if cs < FLAT_STD or es < FLAT_STD:
        if cs < FLAT_STD and es < FLAT_STD:
            return 1.0 - 2.0 * min(1.0, abs(float(cv.mean()) - float(ev.mean())) / FLAT_SPAN)
        return 0.0  # texture on one side only: not the same thing
    return float(np.mean((cv - cv.mean()) * (ev - ev.mean())) / (cs * es))
