"""An ONNX object detector through cv2.dnn (YOLO-style outputs), adapted to person and vehicle classes."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from video.detections import Detections
from video.detectors.boxes import suppress

logger = logging.getLogger(__name__)

# COCO ids: person; car, motorcycle, bus, truck. Other label maps pass their own.
COCO_CLASSES: dict[str, tuple[int, ...]] = {"person": (0,), "vehicle": (2, 3, 5, 7)}


def parse_yolo(
    output: np.ndarray,
    classes: Mapping[str, Sequence[int]],
    score_threshold: float = 0.4,
    objectness: bool | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode a YOLO head into (cxcywh boxes in input pixels, scores, class names) for the wanted classes.

    Accepts (1, N, 4+C) or (1, N, 5+C) rows (YOLOv5, with objectness) and the transposed (1, 4+C, N)
    of YOLOv8; objectness=None guesses v5 when the rows are the long axis.
    """
    out = np.asarray(output, np.float32)
    out = out.reshape(out.shape[-2], out.shape[-1]) if out.ndim == 3 else out.reshape(-1, out.shape[-1])
    rows_are_boxes = out.shape[0] >= out.shape[1]
    if not rows_are_boxes:
        out = out.T
    if objectness is None:
        objectness = rows_are_boxes
    boxes = out[:, :4]
    scores_all = out[:, 5:] * out[:, 4:5] if objectness else out[:, 4:]
    wanted = {cid: name for name, ids in classes.items() for cid in ids if cid < scores_all.shape[1]}
    if not wanted:
        return np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0,), dtype=object)
    ids = np.array(sorted(wanted))
    sub = scores_all[:, ids]
    best = sub.argmax(axis=1)
    score = sub[np.arange(len(sub)), best]
    ok = score >= score_threshold
    names = np.array([wanted[int(ids[b])] for b in best[ok]], dtype=object)
    return boxes[ok], score[ok], names


class OnnxDetector:
    """Runs a YOLO-style ONNX model on the whole frame (or the rois' union) via cv2.dnn."""

    def __init__(
        self,
        model_path: str,
        input_size: tuple[int, int] = (640, 640),
        classes: Mapping[str, Sequence[int]] | None = None,
        score_threshold: float = 0.4,
        objectness: bool | None = None,
    ) -> None:
        self.net = cv2.dnn.readNetFromONNX(str(model_path))
        self.input_size = input_size
        self.classes = dict(classes or COCO_CLASSES)
        self.score_threshold = score_threshold
        self.objectness = objectness
        logger.info("loaded ONNX detector %s, input %sx%s", model_path, *input_size)

    def detect(self, frame: np.ndarray, rois: np.ndarray | None = None) -> Detections:
        """Detections of the configured classes in frame pixel coordinates."""
        h, w = frame.shape[:2]
        x0, y0, x1, y1 = 0, 0, w, h
        if rois is not None and len(rois):
            r = np.asarray(rois, np.float32).reshape(-1, 4)
            # One pass over the rois' union keeps the cost of a network call per frame, not per roi.
            x0, y0 = int(max(0, r[:, 0].min())), int(max(0, r[:, 1].min()))
            x1, y1 = int(min(w, r[:, 2].max())), int(min(h, r[:, 3].max()))
            if x1 - x0 < 8 or y1 - y0 < 8:
                return Detections.empty()
        crop = frame[y0:y1, x0:x1]
        blob = cv2.dnn.blobFromImage(crop, 1 / 255.0, self.input_size, swapRB=True, crop=False)
        self.net.setInput(blob)
        output = self.net.forward()
        return self.to_detections(output, (x0, y0, x1 - x0, y1 - y0))

    def to_detections(self, output: np.ndarray, region: tuple[int, int, int, int]) -> Detections:
        """Map a raw network output for an input covering region (x, y, w, h) of the frame to Detections."""
        cxcywh, score, names = parse_yolo(output, self.classes, self.score_threshold, self.objectness)
        if not len(score):
            return Detections.empty()
        x, y, rw, rh = region
        sx, sy = rw / self.input_size[0], rh / self.input_size[1]
        xyxy = np.stack([
            (cxcywh[:, 0] - cxcywh[:, 2] / 2) * sx + x,
            (cxcywh[:, 1] - cxcywh[:, 3] / 2) * sy + y,
            (cxcywh[:, 0] + cxcywh[:, 2] / 2) * sx + x,
            (cxcywh[:, 1] + cxcywh[:, 3] / 2) * sy + y,
        ], axis=1)
        keep = suppress(xyxy, score)
        return Detections(xyxy[keep], score[keep], names[keep])
