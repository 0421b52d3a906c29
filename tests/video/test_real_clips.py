"""The CC-BY clips with hand-made labels in tests/data: precision/recall of people and the motion gate."""

import json
from pathlib import Path

import cv2
import numpy as np

from video.config import parse_config
from video.motion import MotionGate
from video.pipeline import analyze, analyze_frames
from video.synthetic.evaluate import match_events

DATA = Path(__file__).resolve().parents[1] / "data"
cv2.setNumThreads(1)


def _labels(name):
    return json.loads((DATA / name).read_text())


def test_indoor_people_intrusion_precision_recall(shared_dir):
    labels = _labels("indoor-people-one-by-one.labels.json")
    cfg = parse_config({"code": "CC-INDOOR", "url": "x.mp4", "lon": 114.35, "lat": 22.7, "fps": 5,
                        "zones": [{"name": "room", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]],
                                   "rules": [{"kind": "intrusion"}]}]})
    pred = [p for p in analyze(shared_dir / "video" / labels["clip"], cfg) if p["rule"] == "intrusion"]
    truth = [{"rule": "intrusion", "zone": "room", "start_s": p["enter_s"], "end_s": p["leave_s"]}
             for p in labels["people"]]
    pairs = match_events(pred, truth)
    precision, recall = len(pairs) / max(1, len(pred)), len(pairs) / len(truth)
    covered = sum(min(p["end_s"], g["leave_s"]) - max(p["start_s"], g["enter_s"])
                  for p in pred for g in labels["people"] if min(p["end_s"], g["leave_s"]) > max(p["start_s"], g["enter_s"]))
    present = sum(g["leave_s"] - g["enter_s"] for g in labels["people"])
    print(f"\nindoor intrusion: {len(pred)} situations, {len(truth)} visits, precision {precision:.2f} "
          f"recall {recall:.2f}, time covered {covered / present:.2f}")
    # One situation per visit: people standing with their backs to the camera, which HOG misses for
    # seconds, are carried by the tracker (template and motion), so visits no longer split.
    assert recall >= 5 / 6 and precision >= 5 / 6
    assert covered / present >= 0.7


def test_parking_cars_passing_are_not_stopped_vehicles(shared_dir):
    labels = _labels("parking-lot-cars.labels.json")
    cfg = parse_config({"code": "CC-PARK", "url": "x.mp4", "lon": 114.35, "lat": 22.7, "fps": 5,
                        "zones": [{"name": "lot", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]],
                                   "rules": [{"kind": "vehicle_stopped", "seconds": 5}]}]})
    pred = list(analyze(shared_dir / "video" / labels["clip"], cfg))
    print(f"\nparking: {len(labels['cars'])} cars pass without stopping; situations {pred}")
    # Every car drives through: a stopped-vehicle situation here would be a false alarm.
    assert [p for p in pred if p["rule"] == "vehicle_stopped"] == []


def _gate_share(path, intervals):
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    gate, flags, i = MotionGate(), [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        t = i / fps
        i += 1
        moving = gate.update(frame).moving
        still = not any(a - 0.5 <= t <= b + 0.5 for a, b in intervals)
        busy = any(a + 0.3 <= t <= b - 0.3 for a, b in intervals)
        flags.append((still, busy, moving))
    f = np.array(flags)
    return f[f[:, 0], 2].mean(), f[f[:, 1], 2].mean()


def test_motion_gate_on_parking_cars(shared_dir):
    labels = _labels("parking-lot-cars.labels.json")
    still, busy = _gate_share(shared_dir / "video" / labels["clip"], [(c["enter_s"], c["leave_s"]) for c in labels["cars"]])
    print(f"\nparking gate: still frames flagged {still:.3f}, frames with a moving car flagged {busy:.3f}")
    assert still <= 0.05 and busy >= 0.9


def test_motion_gate_on_indoor_still_frames(shared_dir):
    labels = _labels("indoor-people-one-by-one.labels.json")
    still, busy = _gate_share(shared_dir / "video" / labels["clip"], [(p["enter_s"], p["leave_s"]) for p in labels["people"]])
    print(f"\nindoor gate: still frames flagged {still:.3f}, frames with a person flagged {busy:.3f}")
    assert still <= 0.05 and busy >= 0.2


def _clip_range(path, start_s, end_s, rate):
    """Frames of a clip from start_s to end_s sampled to rate per second, times from the clip's start."""
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    first = int(round(start_s * fps))
    cap.set(cv2.CAP_PROP_POS_FRAMES, first)
    step, i = max(1, int(round(fps / rate))), first
    try:
        while i / fps <= end_s:
            ok, frame = cap.read()
            if not ok:
                return
            if (i - first) % step == 0:
                yield frame, i / fps
            i += 1
    finally:
        cap.release()


def test_one_person_at_the_table_is_no_crowd(shared_dir):
    # Issue 11: one woman stands at the table (50.2-70.0 s) and HOG boxes her whole, then only her
    # head and shoulders: one person, one track, no crowd of 2; her visit is one intrusion and one
    # loitering situation.
    labels = _labels("indoor-people-one-by-one.labels.json")
    cfg = parse_config({"code": "CC-INDOOR", "url": "x.mp4", "lon": 114.35, "lat": 22.7, "fps": 5,
                        "zones": [{"name": "table", "polygon": [[0.3, 0.45], [0.9, 0.45], [0.9, 1.0], [0.3, 1.0]],
                                   "rules": [{"kind": "intrusion"}, {"kind": "loitering", "seconds": 5},
                                             {"kind": "crowd", "min_people": 2, "seconds": 3}]}]})
    frames = _clip_range(shared_dir / "video" / labels["clip"], 48.0, 75.0, cfg.fps)
    pred = list(analyze_frames(frames, cfg))
    print(f"\nindoor 48-75 s, crowd of 2 at the table: {pred}")
    assert [p for p in pred if p["rule"] == "crowd"] == []
    for rule in ("intrusion", "loitering"):
        spans = [(p["start_s"], p["end_s"]) for p in pred if p["rule"] == rule]
        assert len(spans) == 1, f"{rule}: {spans}"
        assert spans[0][0] <= 57.0 and spans[0][1] >= 68.0, f"{rule}: {spans}"
