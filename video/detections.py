"""The one canonical detections type every detector adapts into."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Class names are strings, not ids, so ONNX models with different label maps adapt at the edge.
PERSON = "person"
VEHICLE = "vehicle"
OBJECT = "object"


@dataclass(frozen=True)
class Detections:
    """N boxes in pixel xyxy of one frame, with confidence and class name per box."""

    xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    confidence: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    label: np.ndarray = field(default_factory=lambda: np.zeros((0,), dtype=object))

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        conf = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        label = np.asarray(self.label, dtype=object).reshape(-1)
        if not (len(xyxy) == len(conf) == len(label)):
            raise ValueError(f"detections disagree in length: {len(xyxy)} boxes, {len(conf)} scores, {len(label)} labels")
        if len(xyxy) and bool(np.any(xyxy[:, 2:] < xyxy[:, :2])):
            raise ValueError("boxes must be x1 <= x2 and y1 <= y2")
        object.__setattr__(self, "xyxy", xyxy)
        object.__setattr__(self, "confidence", conf)
        object.__setattr__(self, "label", label)

    def __len__(self) -> int:
        return len(self.xyxy)

    @classmethod
    def empty(cls) -> Detections:
        """No detections."""
        return cls()

    @classmethod
    def merge(cls, parts: list[Detections]) -> Detections:
        """Concatenate several detection sets."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls()
        return cls(
            np.concatenate([p.xyxy for p in parts]),
            np.concatenate([p.confidence for p in parts]),
            np.concatenate([p.label for p in parts]),
        )

    def filter(self, mask: np.ndarray) -> Detections:
        """The detections where mask is true."""
        mask = np.asarray(mask, dtype=bool)
        return Detections(self.xyxy[mask], self.confidence[mask], self.label[mask])

    def of(self, label: str) -> Detections:
        """Only the detections of one class."""
        return self.filter(self.label == label)

    @property
    def area(self) -> np.ndarray:
        """Box areas in square pixels."""
        return (self.xyxy[:, 2] - self.xyxy[:, 0]) * (self.xyxy[:, 3] - self.xyxy[:, 1])

    def scaled(self, sx: float, sy: float) -> Detections:
        """The same detections with coordinates multiplied by (sx, sy)."""
        return Detections(self.xyxy * np.array([sx, sy, sx, sy], np.float32), self.confidence, self.label)


def _pairwise_intersection(a, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N,M) intersection areas of boxes a (N,4) and b (M,4), with both sets' own areas."""
    a = np.asarray(a, np.float32).reshape(-1, 4)
    b = np.asarray(b, np.float32).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    # np.maximum, not np.clip: the same numbers, and this runs ~20 times a busy frame (clip's overhead).
    inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter, area_a, area_b


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of boxes a (N,4) and b (M,4), xyxy."""
    inter, area_a, area_b = _pairwise_intersection(a, b)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def box_cover(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise share of each box in a (N,4) that lies inside each box in b (M,4)."""
    inter, area_a, _ = _pairwise_intersection(a, b)
    return inter / np.maximum(area_a[:, None], 1e-9)
