"""Box suppression shared by the detectors."""

from __future__ import annotations

import numpy as np

from video.detections import box_cover, box_iou


def suppress(xyxy: np.ndarray, scores: np.ndarray, iou: float = 0.45, nested: float = 0.75) -> np.ndarray:
    """Indices to keep: greedy NMS by score, then drop boxes lying mostly inside a bigger kept box."""
    xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
    if not len(xyxy):
        return np.zeros((0,), int)
    order = np.argsort(-np.asarray(scores))
    keep: list[int] = []
    for i in order:
        if keep and box_iou(xyxy[i:i + 1], xyxy[keep]).max() > iou:
            continue
        keep.append(int(i))
    kept = xyxy[keep]
    areas = (kept[:, 2] - kept[:, 0]) * (kept[:, 3] - kept[:, 1])
    cover = box_cover(kept, kept)
    np.fill_diagonal(cover, 0.0)
    # A box inside a larger one is usually a torso or leg window of the same person, not a second person.
    inner = [(cover[j] > nested) & (areas > areas[j]) for j in range(len(kept))]
    return np.array([k for k, bad in zip(keep, inner) if not bad.any()], int)
