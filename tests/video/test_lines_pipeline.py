"""Counting lines end to end (issue 14): the pipeline on synthetic scenes and on clips derived from real footage.

The expected crossings come from the scene's own keyframes (when an actor's foot or centre passes the
line) or from hand-made labels (tests/data/derived/lines-*.json), never from a pipeline run.
"""

import cv2
import numpy as np
import pytest

from tests.video.derived_runs import RECIPES, predict
from video.config import parse_config
from video.lines import match_crossings
from video.pipeline import CameraPipeline
from video.synthetic.scenes import CONFIG, W, build

cv2.setNumThreads(1)


def _with_lines(scene, lines):
    scene.config = parse_config({**CONFIG, "lines": lines}, "synthetic")
    return scene


def _when_x(keys, x_px):
    """Times at which an actor moving along keyframes (t, x, y) passes x_px, and its direction (+1 right)."""
    out = []
    for (t0, x0, _), (t1, x1, _) in zip(keys, keys[1:]):
        if (x0 - x_px) * (x1 - x_px) < 0:
            out.append((t0 + (t1 - t0) * (x_px - x0) / (x1 - x0), 1 if x1 > x0 else -1))
    return out


def _run(scene):
    pipe = CameraPipeline(scene.config)
    crossings, present = [], []
    for frame, t in scene.frames():
        pipe.feed(frame, t)
        crossings += [c.as_line() for c in pipe.crossings]
        present.append((t, dict(pipe.present)))
    return crossings, present


@pytest.mark.parametrize("seed", [61, 62])
def test_people_walking_through_cross_a_line_once_each_way(seed):
    line = {"name": "mid", "points": [[0.5, 0.45], [0.5, 1.0]], "in_side": [0.8, 0.7], "classes": ["person"]}
    scene = _with_lines(build("walk_through", seed, "drawn"), [line])
    truth = [{"line": "mid", "direction": "in" if d > 0 else "out", "class": "person", "t_s": t}
             for a in scene.actors for t, d in _when_x(a.keys, W * 0.5)]
    got, present = _run(scene)
    print(f"\ntruth {truth}\ncrossings {got}")
    assert len(truth) == 3
    assert len(match_crossings(got, truth)) == 3
    assert len(got) == 3
    # People walking on the ground are in the plaza zone while they are in view.
    assert max(p.get(("plaza", "person"), 0) for _, p in present) >= 1


def test_a_car_crosses_vehicle_lines_and_people_lines_ignore_it():
    lines = [{"name": "west", "points": [[0.2, 0.45], [0.2, 1.0]], "in_side": [0.5, 0.7], "classes": ["vehicle"]},
             {"name": "east", "points": [[0.85, 0.45], [0.85, 1.0]], "in_side": [0.5, 0.7], "classes": ["vehicle"]},
             {"name": "people", "points": [[0.2, 0.45], [0.2, 1.0]], "in_side": [0.5, 0.7], "classes": ["person"]}]
    scene = _with_lines(build("car_stop", 63), lines)
    car = scene.actors[0]
    assert car.kind == "car"
    truth = [{"line": "west", "direction": "in", "class": "vehicle", "t_s": t} for t, _ in _when_x(car.keys, W * 0.2)]
    truth += [{"line": "east", "direction": "out", "class": "vehicle", "t_s": t} for t, _ in _when_x(car.keys, W * 0.85)]
    got, present = _run(scene)
    print(f"\ntruth {truth}\ncrossings {got}")
    assert len(truth) == 2
    assert len(match_crossings(got, truth)) == 2
    assert [c for c in got if c["line"] == "people"] == []
    assert len(got) == 2
    # While it stands in the plaza the car is one vehicle there.
    stop, go = car.keys[1][0], car.keys[2][0]
    during = [p.get(("plaza", "vehicle"), 0) for t, p in present if stop + 3 <= t <= go - 1]
    assert during and np.median(during) == 1
    assert all(p.get(("plaza", "vehicle"), 0) == 0 for t, p in present if t < car.keys[0][0])


def test_crossings_are_reset_each_frame_and_present_is_empty_without_a_picture():
    scene = _with_lines(build("walk_through", 61, "drawn"), [])
    pipe = CameraPipeline(scene.config)
    for frame, t in scene.frames():
        pipe.feed(frame, t)
        assert pipe.crossings == []
        if t > 4:
            break
    pipe.feed(None, 5.0)
    assert pipe.crossings == [] and pipe.present == {}


CLIPS = ("lines-parking-pingpong", "lines-indoor-pingpong")
# Truths each clip must match today (benchmarks/video_quality.py prints them all): every one. Indoor,
# the woman walking back in from the right edge is first detected by HOG past the line (at 10.6 s, the
# line at 10.1 s): her `in` is counted only because her moving blob crossed it and her person box
# covered that blob 0.5 s later (video.moving.MovingPeople, video.lines.BlobCrossings); without them
# this clip matched 1. Her `out` is found with HOG at scale 1.05 and 8-pixel window padding (the
# defaults; at 1.08 and no padding it was lost). Every crossing reported must be true, so a coasting
# box wobbling on the line makes no false crossing, and the blob of a tracked walker adds no second one.
MATCHED = {"lines-parking-pingpong": 4, "lines-indoor-pingpong": 2}


@pytest.fixture(scope="module")
def derived_crossings():
    """Each derived clip's predicted crossings, as `gridwatch video analyze` prints them."""
    preds = predict(CLIPS, workers=2)
    return {name: [p for p in pred if p["rule"] == "line_crossing"] for name, pred in preds.items()}


@pytest.mark.parametrize("name", CLIPS)
def test_derived_clip_crossings_match_the_labels(derived_crossings, name):
    truth = RECIPES[name]["truth"]
    got = derived_crossings[name]
    pairs = match_crossings(got, truth)
    print(f"\n{name}: truth {truth}\n  crossings {got}\n  matched {len(pairs)}")
    assert len(pairs) >= MATCHED[name]
    # Every crossing reported is a true one (right line, direction and class, within 1 s).
    assert len(got) == len(pairs)


def test_video_analyze_prints_a_crossing_line(tmp_path, capsys):
    import argparse
    import json

    from workers.cli import video_cmd

    # A light 64x40 box (a car from above) crosses a textured grey lot from left to right at 80 px/s.
    clip = tmp_path / "car.avi"
    out = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 5, (320, 180))
    rng = np.random.default_rng(0)
    lot = np.clip(rng.normal(90, 12, (180, 320, 3)), 0, 255).astype(np.uint8)
    lot = cv2.GaussianBlur(lot, (5, 5), 0)
    for i in range(40):
        frame = lot.copy()
        x = int(-70 + 16 * i)
        if -64 < x < 320:
            cv2.rectangle(frame, (max(0, x), 70), (min(319, x + 64), 110), (215, 215, 220), -1)
            cv2.rectangle(frame, (max(0, x + 20), 76), (min(319, x + 40), 104), (60, 60, 70), -1)
        out.write(frame)
    out.release()
    cam = tmp_path / "cam.json"
    cam.write_text(json.dumps({"code": "T", "url": str(clip), "lon": 114.35, "lat": 22.7, "privacy": "off",
                               "lines": [{"name": "gate", "points": [[0.5, 0.0], [0.5, 1.0]], "in_side": [0.9, 0.5],
                                          "classes": ["vehicle"]}]}))
    parser = argparse.ArgumentParser()
    video_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["video", "analyze", str(clip), "--camera", str(cam)])
    assert args.func(args, None) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    crossings = [x for x in lines if x["rule"] == "line_crossing"]
    assert len(crossings) == 1, lines
    c = crossings[0]
    assert set(c) == {"rule", "line", "direction", "class", "t_s", "track"}
    assert (c["line"], c["direction"], c["class"]) == ("gate", "in", "vehicle")
    assert isinstance(c["track"], int)
    # Its centre passes x = 160 px at (160 - 32 + 70) / 80 s = 2.5 s.
    assert abs(c["t_s"] - 2.475) <= 0.5
