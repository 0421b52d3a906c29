"""Detectors: HOG finds the synthetic people on motion crops; the ONNX adapter loads and runs a real model."""

import numpy as np
import pytest

from video.detections import Detections
from video.detectors import Detector, make_detector
from video.detectors.boxes import suppress
from video.detectors.onnx import OnnxDetector, parse_yolo, resolve_layout
from video.synthetic import sprites

from tests.video.onnx_models import yolo_model


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
    det = OnnxDetector.__new__(OnnxDetector)
    det.input_size, det.classes, det.score_threshold, det.objectness = (640, 640), {"person": (0,)}, 0.4, False
    det.layout = "v8"
    rows = np.zeros((84, 200), np.float32)
    rows[:4, 0] = [320, 320, 64, 128]
    rows[4, 0] = 0.8
    d = det.to_detections(rows[None], (100, 50, 320, 160))
    assert isinstance(d, Detections) and len(d) == 1
    assert np.allclose(d.xyxy[0], [100 + 144, 50 + 64, 100 + 176, 50 + 96])


COCO = {"person": [0], "vehicle": [2, 3, 5, 7]}


def _v8_head(candidates, num_classes, slots):
    """A (1, 4+C, N) head holding (cx, cy, w, h, class, score) candidates, padded with empty ones."""
    head = np.zeros((4 + num_classes, slots), np.float32)
    for i, (cx, cy, w, h, cls, score) in enumerate(candidates):
        head[:4, i] = (cx, cy, w, h)
        head[4 + cls, i] = score
    return head[None]


def test_parse_yolo_reads_fewer_candidates_than_classes():
    # (1, 7, 2): a v8 head with 3 classes and 2 candidates; the old guess took the 7 rows for candidates.
    head = _v8_head([(20, 30, 8, 16, 0, 0.9), (50, 40, 30, 12, 2, 0.75)], num_classes=3, slots=2)
    assert resolve_layout(head.shape) == "v8"
    boxes, scores, names = parse_yolo(head, COCO)
    assert list(names) == ["person", "vehicle"]
    assert np.allclose(scores, [0.9, 0.75]) and np.allclose(boxes, [[20, 30, 8, 16], [50, 40, 30, 12]])
    # The same two candidates as v5 rows (1, 2, 5+3), objectness 0.5 scaling the class scores.
    rows = np.concatenate([head[0, :4].T, np.full((2, 1), 0.5, np.float32), head[0, 4:].T], axis=1)[None]
    assert resolve_layout(rows.shape) == "v5"
    boxes, scores, names = parse_yolo(rows, COCO, score_threshold=0.3)
    assert list(names) == ["person", "vehicle"] and np.allclose(scores, [0.45, 0.375])


def test_parse_yolo_explicit_layout_overrides_a_misleading_shape():
    # (1, 7, 6): both axes could hold attributes and the longer one is not the candidates.
    head = _v8_head([(20, 30, 8, 16, 0, 0.9), (50, 40, 30, 12, 2, 0.75)], num_classes=3, slots=6)
    assert resolve_layout(head.shape) == "v5"  # the shape alone guesses wrong: the layout must be configured
    boxes, scores, names = parse_yolo(head, COCO, layout="v8")
    assert list(names) == ["person", "vehicle"] and np.allclose(boxes[1], [50, 40, 30, 12])
    with pytest.raises(ValueError, match="layout"):
        parse_yolo(head, COCO, layout="v7")


# Input 160x96 on a 640x360 frame: x scales by 4, y by 3.75. The person (class 0) stands in front of
# the car (class 2), inside its box; its score is 0.5 plus 0.4 times the frame's mean brightness.
INPUT_WH = (160, 96)
PERSON = (40, 52, 10, 24, 0, 0.5, 0.4)
CAR = (50, 56, 60, 32, 2, 0.75)
PERSON_PX = [140, 150, 180, 240]
CAR_PX = [80, 150, 320, 270]


@pytest.mark.parametrize("model_layout,slots,configured", [
    ("v8", 2, "auto"),  # fewer candidates than 4 + classes
    ("v5", 2, "auto"),
    ("v8", 6, "v8"),    # a shape auto would misread, so the deployment configures the layout
])
def test_onnx_model_loads_and_runs_through_cv2_dnn(tmp_path, model_layout, slots, configured):
    path = yolo_model(tmp_path / "tiny.onnx", INPUT_WH, [PERSON, CAR], num_classes=3,
                      layout=model_layout, slots=slots)
    det = make_detector(str(path), input_size=INPUT_WH, layout=configured)
    assert isinstance(det, OnnxDetector) and isinstance(det, Detector)
    for brightness, person_score in [(255, 0.9), (0, 0.5)]:
        frame = np.full((360, 640, 3), brightness, np.uint8)
        d = det.detect(frame)
        assert list(d.label) == ["person", "vehicle"], (brightness, d)
        assert np.allclose(d.xyxy, [PERSON_PX, CAR_PX], atol=1e-3)
        assert np.allclose(d.confidence, [person_score, 0.75], atol=1e-4)
    assert det.layout == model_layout


def test_onnx_model_on_motion_rois_maps_the_crop_back(tmp_path):
    path = yolo_model(tmp_path / "tiny.onnx", INPUT_WH, [PERSON, CAR], num_classes=3)
    det = make_detector(str(path), input_size=INPUT_WH)
    frame = np.full((360, 640, 3), 255, np.uint8)
    # The rois' union is x 320-640, y 90-360: the 160x96 input covers 320x270, so x scales by 2, y by 2.8125.
    d = det.detect(frame, np.array([[320, 90, 400, 200], [500, 150, 640, 360]], np.float32))
    assert list(d.label) == ["person", "vehicle"]
    assert np.allclose(d.xyxy[0], [320 + 35 * 2, 90 + 40 * 2.8125, 320 + 45 * 2, 90 + 64 * 2.8125], atol=1e-3)
    assert np.allclose(d.xyxy[1], [320 + 20 * 2, 90 + 40 * 2.8125, 320 + 80 * 2, 90 + 72 * 2.8125], atol=1e-3)
    assert len(det.detect(frame, np.array([[10, 10, 14, 300]], np.float32))) == 0  # too thin to look at


class _Recording:
    """The HOG detector, keeping the rois of every call (the pipeline's detector protocol)."""

    classes = frozenset({"person"})

    def __init__(self):
        self.hog = make_detector()
        self.pad_x = self.hog.pad_x
        self.calls: list[np.ndarray] = []

    def detect(self, frame, rois=None):
        self.calls.append(np.asarray(rois, np.float32).reshape(-1, 4))
        return self.hog.detect(frame, rois)


def _walk(frames: int, newcomer_at: int | None = None):
    """A 640x360 street with one drawn walker crossing at 60 px/s (5 fps); from frame newcomer_at on, a
    second person steps into view far from them. Yields (frame, t, walker box, newcomer box or None)."""
    import cv2

    from video.synthetic import build

    rng = np.random.default_rng(7)
    # An empty synthetic street (its first frame, before anyone enters), with fresh sensor noise each frame.
    empty, _ = next(iter(build("walk_through", 3, "drawn").frames()))
    bg = cv2.resize(empty, (640, 360), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    walker_col, new_col = sprites.person_colours(rng), sprites.person_colours(rng)
    for i in range(frames):
        frame = np.clip(bg + rng.normal(0, 2.0, bg.shape), 0, 255).astype(np.uint8)
        x = 60 + 12 * i
        walker = sprites.drawn_person(190, i * 1.2, walker_col)
        sprites.paste(frame, walker, x, 330 - walker[1].shape[0])
        box = (x, 330 - walker[1].shape[0], x + walker[1].shape[1], 330)
        new = None
        if newcomer_at is not None and i >= newcomer_at:
            nx = 560 - 12 * (i - newcomer_at)
            person = sprites.drawn_person(170, i * 1.2, new_col)
            sprites.paste(frame, person, nx, 320 - person[1].shape[0])
            new = (nx, 320 - person[1].shape[0], nx + person[1].shape[1], 320)
        yield frame, i * 0.2, box, new


def _pipeline(detector, skip=True, max_skips=1):
    from video.config import parse_config
    from video.pipeline import CameraPipeline
    from video.synthetic.scenes import CONFIG

    return CameraPipeline(parse_config(dict(CONFIG, code="SKIP"), "test"), detector=detector, skip_steady=skip,
                          max_skips=max_skips)


def _covers(rois: np.ndarray, box) -> bool:
    b = np.array(box, np.float32)
    return bool(len(rois)) and bool(((rois[:, 0] <= b[2]) & (rois[:, 2] >= b[0]) & (rois[:, 1] <= b[3])
                                     & (rois[:, 3] >= b[1])).any())


def test_steady_walker_is_searched_every_other_frame_and_keeps_one_track():
    det = _Recording()
    pipe = _pipeline(det)
    searched, ids, skipped = [], set(), 0
    for frame, t, box, _ in _walk(36):
        before = len(det.calls)
        pipe.feed(frame, t)
        rois = det.calls[-1] if len(det.calls) > before else np.zeros((0, 4), np.float32)
        searched.append(_covers(rois, box))
        skipped += bool(pipe._skipped)
        live = [tr for tr in pipe.tracker.confirmed() if t - tr.last_seen <= pipe.presence_s]
        ids |= {tr.id for tr in live}
        if len(searched) > 6:
            # The person is present (as rules and privacy see them) every frame, where they walk.
            assert len(live) == 1, (t, [tr.box for tr in pipe.tracker.tracks])
            cx = (live[0].box[0] + live[0].box[2]) / 2
            assert abs(cx - (box[0] + box[2]) / 2) < 0.4 * (box[2] - box[0]), (t, live[0].box, box)
    assert ids == {1}
    # Skipped on many frames, never two running: each person is detected at least every other frame.
    assert skipped >= 8
    assert not any(not a and not b for a, b in zip(searched[1:], searched[2:]))
    # The old way searches the walker on every frame.
    every = _Recording()
    pipe = _pipeline(every, skip=False)
    for frame, t, _, _ in _walk(36):
        pipe.feed(frame, t)
    assert sum(len(c) for c in every.calls) > sum(len(c) for c in det.calls)


def test_with_two_skips_allowed_a_steady_walker_is_searched_at_least_every_third_frame():
    det, every_other = _Recording(), _Recording()
    pipe, base = _pipeline(det, max_skips=2), _pipeline(every_other)
    searched, ids = [], set()
    for frame, t, box, _ in _walk(36):
        before = len(det.calls)
        pipe.feed(frame, t)
        base.feed(frame, t)
        rois = det.calls[-1] if len(det.calls) > before else np.zeros((0, 4), np.float32)
        searched.append(_covers(rois, box))
        ids |= {tr.id for tr in pipe.tracker.confirmed() if t - tr.last_seen <= pipe.presence_s}
    assert ids == {1}
    runs = "".join("s" if s else "-" for s in searched)
    # Two frames running spared, now and then, never three.
    assert "--" in runs and "---" not in runs, runs
    assert sum(len(c) for c in det.calls) < sum(len(c) for c in every_other.calls)


def test_newcomer_is_searched_on_the_first_frame_they_appear():
    det = _Recording()
    pipe = _pipeline(det)
    first, both = None, None
    for k, (frame, t, _, new) in enumerate(_walk(22, newcomer_at=15)):
        before = len(det.calls)
        pipe.feed(frame, t)
        if new is None:
            continue
        rois = det.calls[-1] if len(det.calls) > before else np.zeros((0, 4), np.float32)
        if first is None:
            first = k
            # While the walker is being skipped, the newcomer's motion is searched at once...
            assert _covers(rois, new), rois
            b = np.array(new, np.float32)
            # ... and they get a track on that very frame.
            assert any(tr.box[0] < b[2] and tr.box[2] > b[0] and tr.last_detected == t for tr in pipe.tracker.tracks)
        if both is None and len(pipe.tracker.confirmed()) == 2:
            both = k
    assert first == 15
    assert both is not None and both <= 17, both  # confirmed by their second look, the next frame or so
