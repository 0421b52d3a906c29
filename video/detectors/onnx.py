"""An ONNX object detector through cv2.dnn (YOLO-style outputs), adapted to person and vehicle classes."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from video.detections import Detections
from video.detectors import YOLO_LAYOUTS
from video.detectors.boxes import suppress

logger = logging.getLogger(__name__)

# COCO ids: person; car, motorcycle, bus, truck. Other label maps pass their own.
COCO_CLASSES: dict[str, tuple[int, ...]] = {"person": (0,), "vehicle": (2, 3, 5, 7)}

def _check_layout(layout: str) -> None:
    if layout not in YOLO_LAYOUTS:
        raise ValueError(f"unknown YOLO layout {layout!r}; expected one of {', '.join(YOLO_LAYOUTS)}")


def resolve_layout(shape: Sequence[int], layout: str = "auto") -> str:
    """The head layout ("v8" or "v5") of an output of this shape; "auto" decides from the shape alone."""
    # "v8" is (1, 4+C, N), attributes on the middle axis, no objectness (YOLOv8/v11 exports);
    # "v5" is (1, N, 5+C), one row per candidate with objectness (YOLOv5 exports).
    _check_layout(layout)
    if layout != "auto":
        return layout
    rows, cols = int(shape[-2]), int(shape[-1])
    # An attribute axis holds 4 box values and at least one class: a shorter axis must be the candidates.
    if rows < 5 <= cols:
        return "v5"
    if cols < 5 <= rows:
        return "v8"
    # Both could hold attributes: real heads have thousands of candidates against 4+C (84 for COCO)
    # attributes, so the longer axis is the candidates. A model with fewer candidates must say its layout.
    return "v5" if rows >= cols else "v8"


def parse_yolo(
    output: np.ndarray,
    classes: Mapping[str, Sequence[int]],
    score_threshold: float = 0.4,
    objectness: bool | None = None,
    layout: str = "auto",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode a YOLO head into (cxcywh boxes in input pixels, scores, class names) for the wanted classes."""
    # layout "v8" reads (1, 4+C, N), "v5" (1, N, 5+C), "auto" asks resolve_layout; objectness=None follows
    # the layout (v5 rows carry it, v8 columns do not), True/False overrides it for odd exports.
    out = np.asarray(output, np.float32)
    out = out.reshape(out.shape[-2], out.shape[-1]) if out.ndim >= 2 else out.reshape(1, -1)
    layout = resolve_layout(out.shape, layout)
    if layout == "v8":
        out = out.T
    if objectness is None:
        objectness = layout == "v5"
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
        layout: str = "auto",
    ) -> None:
        _check_layout(layout)  # refuse a bad layout name now, not at the first frame
        self.net = cv2.dnn.readNetFromONNX(str(model_path))
        self.input_size = tuple(int(v) for v in input_size)
        # Label -> class ids; its keys are the labels the Detector protocol's `classes` promises.
        self.classes = dict(classes or COCO_CLASSES)
        self.score_threshold = score_threshold
        self.objectness = objectness
        self.layout = layout
        logger.info("loaded ONNX detector %s, input %sx%s, layout %s", model_path, *self.input_size, layout)

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
        if self.layout == "auto":
            # The shape is the model's, not the frame's: decide once, say so, and stop guessing.
            self.layout = resolve_layout(output.shape)
            logger.info("ONNX output %s read as YOLO layout %s (configure layout= if wrong)",
                        tuple(output.shape), self.layout)
        return self.to_detections(output, (x0, y0, x1 - x0, y1 - y0))

    def to_detections(self, output: np.ndarray, region: tuple[int, int, int, int]) -> Detections:
        """Map a raw network output for an input covering region (x, y, w, h) of the frame to Detections."""
        cxcywh, score, names = parse_yolo(output, self.classes, self.score_threshold, self.objectness,
                                          self.layout)
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
        # Suppress within a class: a person standing in front of a bus lies inside its box and must stay.
        keep = np.concatenate([np.flatnonzero(names == n)[suppress(xyxy[names == n], score[names == n])]
                               for n in dict.fromkeys(names)])
        keep.sort()
        return Detections(xyxy[keep], score[keep], names[keep])
