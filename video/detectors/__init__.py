"""Detectors: a small protocol every detector meets, HOG people by default, ONNX through cv2.dnn."""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, runtime_checkable

import numpy as np

from video.detections import Detections

# YOLO head layouts the ONNX adapter reads; here, not in onnx.py, so the CLI lists them without cv2.
YOLO_LAYOUTS = ("auto", "v8", "v5")


@runtime_checkable
class Detector(Protocol):
    """Finds people (and vehicles, if it can) in regions of a BGR frame."""

    # The labels (video.detections PERSON, VEHICLE) it can report: the pipeline asks a detector that
    # knows vehicles about still blobs, and falls back to their shape with a people-only one.
    classes: Collection[str]

    def detect(self, frame: np.ndarray, rois: np.ndarray | None = None) -> Detections:
        """Detections in frame pixel coordinates; rois (N,4) pixel xyxy limit where to look, None = everywhere."""
        ...


def make_detector(model_path: str | None = None, **options) -> Detector:
    """The default HOG people detector, or an ONNX model through cv2.dnn when a model path is given."""
    if model_path:
        from video.detectors.onnx import OnnxDetector

        return OnnxDetector(model_path, **options)
    from video.detectors.hog import HogPeopleDetector

    return HogPeopleDetector(**options)
