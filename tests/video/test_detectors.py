"""Detectors: HOG finds the synthetic people on motion crops; the ONNX adapter parses YOLO outputs."""

import numpy as np
import pytest

from video.detections import Detections
from video.detectors import Detector, make_detector
from video.detectors.boxes import suppress
from video.detectors.onnx import parse_yolo
from video.synthetic import sprites


def test_hog_finds_drawn_people_on_crops():
    hog = make_detector()
    assert isinstance(hog, Detector)
    rng = np.random.default_rng(5)
    found = 0
    for k in range(10):
        frame = np.clip(rng.normal(120, 3, (270, 480, 3)), 0, 255).astype(np.uint8)
        person = sprites.drawn_person(int(rng.integers(95, 130)), k * 0.8, sprites.person_colours(rng))
        x, y = int(rng.integers(40, 380)), 260 - person[1].shape[0]
        sprites.paste(frame, person, x, y)
        roi = np.array([[x, y, x + person[1].shape[1], y + person[1].shape[0]]], np.float32)
        dets = hog.detect(frame, roi)
        if len(dets) and abs((dets.xyxy[0, 0] + dets.xyxy[0, 2]) / 2 - (roi[0, 0] + roi[0, 2]) / 2) < 20:
            found += 1
    assert found >= 8


def test_suppress_drops_nested_and_overlapping_boxes():
    boxes = np.array([[0, 0, 100, 200], [5, 5, 100, 200], [20, 40, 60, 120], [300, 0, 380, 160]], np.float32)
    keep = suppress(boxes, np.array([2.0, 1.5, 1.0, 1.8]))
    assert sorted(keep.tolist()) == [0, 3]


@pytest.mark.parametrize("layout", ["v8", "v5"])
def test_parse_yolo_layouts(layout):
    # Two candidates: a person at (100,100) and a truck (COCO 7) at (300,200); 80 classes.
    rows = np.zeros((200, 84), np.float32)  # real heads have thousands of candidates, mostly empty
    rows[0, :4] = [100, 100, 40, 120]
    rows[0, 4 + 0] = 0.9
    rows[1, :4] = [300, 200, 150, 80]
    rows[1, 4 + 7] = 0.7
    if layout == "v5":
        out = np.concatenate([rows[:, :4], np.ones((200, 1), np.float32), rows[:, 4:]], axis=1)[None]
        boxes, scores, names = parse_yolo(out, {"person": [0], "vehicle": [2, 3, 5, 7]})
    else:
        boxes, scores, names = parse_yolo(rows.T[None], {"person": [0], "vehicle": [2, 3, 5, 7]})
    assert list(names) == ["person", "vehicle"]
    assert np.allclose(scores, [0.9, 0.7]) and np.allclose(boxes[1], [300, 200, 150, 80])


def test_onnx_adapter_maps_output_to_frame_pixels():
    from video.detectors.onnx import OnnxDetector

    det = OnnxDetector.__new__(OnnxDetector)
    det.input_size, det.classes, det.score_threshold, det.objectness = (640, 640), {"person": (0,)}, 0.4, False
    rows = np.zeros((84, 200), np.float32)
    rows[:4, 0] = [320, 320, 64, 128]
    rows[4, 0] = 0.8
    d = det.to_detections(rows[None], (100, 50, 320, 160))
    assert isinstance(d, Detections) and len(d) == 1
    assert np.allclose(d.xyxy[0], [100 + 144, 50 + 64, 100 + 176, 50 + 96])
