"""Still blobs become vehicles when the configured detector sees a vehicle there, not by shape alone."""

import numpy as np
import pytest

from video.config import parse_config
from video.detections import PERSON, VEHICLE
from video.detectors import make_detector
from video.pipeline import CameraPipeline, analyze_frames

from tests.video.onnx_models import yolo_model

CFG = parse_config({
    "code": "T-VEH", "name": "t", "url": "file:///dev/null", "lon": 114.0, "lat": 22.0,
    "zones": [{"name": "lot", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]],
               "rules": [{"kind": "vehicle_stopped", "seconds": 3}, {"kind": "object_left", "seconds": 3}]}],
})
W, H, FPS = 640, 360, 5.0


def _scene(box: tuple[int, int, int, int], arrive_s: float = 2.0, end_s: float = 12.0):
    """A textured still scene with sensor noise; a textured block appears at arrive_s and stays."""
    rng = np.random.default_rng(11)
    base = rng.integers(60, 190, (H // 8, W // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
    x1, y1, x2, y2 = box
    block = rng.integers(0, 255, ((y2 - y1) // 4 + 1, (x2 - x1) // 4 + 1, 3), dtype=np.uint8)
    block = block.repeat(4, 0).repeat(4, 1)[: y2 - y1, : x2 - x1]
    for k in range(int(end_s * FPS)):
        t = k / FPS
        frame = base.copy()
        if t >= arrive_s:
            frame[y1:y2, x1:x2] = block
        noise = rng.normal(0, 2, frame.shape)
        yield np.clip(frame + noise, 0, 255).astype(np.uint8), t


def _onnx(tmp_path, cls: int):
    # One centred candidate on a 64x64 input: the pipeline's grown roi around the blob puts the blob there.
    path = yolo_model(tmp_path / f"cls{cls}.onnx", (64, 64), [(32, 32, 46, 46, cls, 0.8)], num_classes=80)
    return make_detector(str(path), input_size=(64, 64), layout="v8")


def _run(detector, box):
    calls = []
    if detector is not None:
        detect = detector.detect
        detector.detect = lambda frame, rois=None: calls.append(rois) or detect(frame, rois)
    pipe = CameraPipeline(CFG, detector=detector)
    return list(analyze_frames(_scene(box), CFG, pipe)), calls


def test_detectors_say_which_classes_they_find(tmp_path):
    assert make_detector().classes == {PERSON}
    assert set(_onnx(tmp_path, 2).classes) == {PERSON, VEHICLE}


def test_blob_the_model_calls_a_car_is_a_stopped_vehicle(tmp_path):
    lines, calls = _run(_onnx(tmp_path, 2), (240, 200, 400, 280))  # COCO 2: car
    assert [ln["rule"] for ln in lines] == ["vehicle_stopped"]
    assert lines[0]["confidence"] == pytest.approx(0.8, abs=0.01)
    # Asked about the blob about once a second while it stood there, never before it appeared.
    assert 3 <= len(calls) <= 12
    assert all(len(r) == 1 for r in calls)


@pytest.mark.parametrize("box, expected", [
    ((240, 200, 400, 280), []),  # large, and no vehicle in it: neither a vehicle nor a left object
    ((300, 240, 348, 272), ["object_left"]),  # small, no vehicle: an object
])
def test_blob_the_model_does_not_call_a_vehicle(tmp_path, box, expected):
    lines, calls = _run(_onnx(tmp_path, 1), box)  # COCO 1: bicycle, outside the vehicle classes
    assert [ln["rule"] for ln in lines] == expected
    assert calls


def test_people_only_detector_keeps_the_shape_rule():
    lines, _ = _run(make_detector(), (240, 200, 400, 280))
    assert [ln["rule"] for ln in lines] == ["vehicle_stopped"]
