"""One person, one track: tables of detections over time (pixels, 5 frames a second) through the tracker."""

import numpy as np
import pytest

from video.config import parse_config
from video.detections import PERSON, Detections
from video.rules import Person, RuleEngine
from video.tracker import Tracker

STEP = 0.2  # seconds between frames
WHOLE = (200, 100, 260, 300)   # a person standing, 200 px high
OTHER = (245, 105, 305, 300)   # someone standing beside them, boxes overlapping a little
SIZE = np.array([640, 360, 640, 360], np.float32)
CROWD2 = parse_config({"code": "T", "url": "a.mp4", "lon": 114.35, "lat": 22.7,
                       "zones": [{"name": "z", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]],
                                  "rules": [{"kind": "crowd", "min_people": 2, "seconds": 1}]}]})


def _dets(*boxes):
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.8),
                      np.full(len(boxes), PERSON, dtype=object))


def _torso(box, share=0.45):
    """The upper part of a box, as HOG sometimes reports a person who fills the picture."""
    x1, y1, x2, y2 = box
    return (x1 + 8, y1, x2 - 8, y1 + share * (y2 - y1))


def _lower_hidden(box, share):
    """The box of a person whose lower part is hidden behind something (a table, a car)."""
    x1, y1, x2, y2 = box
    return (x1, y1, x2, y1 + share * (y2 - y1))


def _run(frames):
    """Feed one list of boxes per frame; return the confirmed ids seen per frame and the engine's crowd hits."""
    tracker, rules = Tracker(), RuleEngine(CROWD2)
    ids, crowd = [], 0
    for i, boxes in enumerate(frames):
        t = i * STEP
        tracker.update(_dets(*boxes), t)
        live = [tr for tr in tracker.confirmed() if t - tr.last_seen <= 0.6]
        ids.append(sorted(tr.id for tr in live))
        people = [Person(tr.id, tuple(float(v) for v in tr.box / SIZE), tr.confidence) for tr in live]
        crowd += sum(h.rule == "crowd" for h in rules.evaluate(t, people, []))
    return ids, crowd


def _one_id(ids):
    return {i for frame in ids for i in frame}


@pytest.mark.parametrize("missed", [1, 3, 5, 10, 14])
def test_person_missed_for_n_frames_keeps_its_id(missed):
    frames = [[WHOLE]] * 5 + [[]] * missed + [[WHOLE]] * 5
    ids, crowd = _run(frames)
    assert _one_id(ids) == {1}
    assert ids[-1] == [1] and crowd == 0


@pytest.mark.parametrize("name, boxes", [
    ("steps behind a table at once", [WHOLE] * 5 + [_lower_hidden(WHOLE, 0.5)] * 10),
    ("sinks behind it slowly", [_lower_hidden(WHOLE, s) for s in (1.0, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.45)]),
    ("only the torso, now and then", [WHOLE, WHOLE, _torso(WHOLE), WHOLE, _torso(WHOLE), _torso(WHOLE), WHOLE]),
    ("torso first, whole later", [_torso(WHOLE)] * 4 + [WHOLE] * 6),
    ("half hidden and missed", [WHOLE] * 3 + [[]] * 4 + [_lower_hidden(WHOLE, 0.5)] * 3 + [[]] * 3 + [WHOLE] * 3),
])
def test_half_hidden_person_keeps_one_id(name, boxes):
    frames = [[b] if isinstance(b, tuple) else b for b in boxes]
    ids, crowd = _run(frames)
    assert len(_one_id(ids)) == 1, f"{name}: ids {ids}"
    assert all(len(f) <= 1 for f in ids), f"{name}: ids {ids}"
    assert crowd == 0, name


@pytest.mark.parametrize("name, frames", [
    ("standing side by side", [[WHOLE, OTHER]] * 12),
    ("one of them missed now and then", [[WHOLE, OTHER], [WHOLE, OTHER], [WHOLE], [WHOLE, OTHER], [OTHER],
                                         [WHOLE, OTHER], [WHOLE], [WHOLE], [WHOLE, OTHER], [WHOLE, OTHER]]),
    ("arriving one after the other", [[WHOLE]] * 4 + [[WHOLE, OTHER]] * 8),
])
def test_two_people_side_by_side_stay_two(name, frames):
    ids, crowd = _run(frames)
    assert ids[-1] == [1, 2], f"{name}: ids {ids}"
    assert _one_id(ids) == {1, 2}, f"{name}: ids {ids}"
    assert crowd > 0, f"{name}: two people for over a second are a crowd of 2"


@pytest.mark.parametrize("name, frames", [
    ("whole and torso boxes in turn", [[WHOLE] if i % 3 else [_torso(WHOLE)] for i in range(30)]),
    ("whole and torso in one frame", [[WHOLE, _torso(WHOLE)]] * 15),
    ("duplicate boxes", [[WHOLE, (202, 104, 262, 300)]] * 15),
    ("torso first, then both", [[_torso(WHOLE)]] * 4 + [[WHOLE, _torso(WHOLE)]] * 10 + [[WHOLE]] * 5),
    ("missed, then a part", [[WHOLE]] * 5 + [[]] * 6 + [[_torso(WHOLE)]] * 3 + [[WHOLE]] * 5),
])
def test_one_person_never_makes_a_crowd_of_two(name, frames):
    ids, crowd = _run(frames)
    assert crowd == 0, f"{name}: ids {ids}"
    assert all(len(f) <= 1 for f in ids), f"{name}: ids {ids}"


def _walker(i, speed=12.0):
    """A walker's box in frame i, moving right at speed px a frame (60 px/s at 5 fps)."""
    x1, y1, x2, y2 = WHOLE
    return (x1 + speed * i, y1, x2 + speed * i, y2)


def _seen(box, seed=0):
    """A 640x360 frame with a drawn person filling box: the tracker keeps a picture only of what it sees."""
    from video.synthetic import sprites

    rng = np.random.default_rng(seed)
    frame = np.clip(rng.normal(120, 3, (360, 640, 3)), 0, 255).astype(np.uint8)
    person = sprites.drawn_person(int(box[3] - box[1]), 0.0, sprites.person_colours(rng))
    sprites.paste(frame, person, int(box[0]), int(box[3]) - person[1].shape[0])
    return frame


def _update(tracker, box, t, **kw):
    return tracker.update(_dets(box) if box else _dets(), t, _seen(box or _walker(t / STEP)), **kw)


def test_only_a_steady_walker_detected_last_frame_may_skip_the_detector():
    tracker = Tracker()
    _update(tracker, _walker(0), 0.0)
    # Seen once: not confirmed, so not skippable, but fresh (its second look confirms it).
    assert not tracker.skippable() and [tr.id for tr in tracker.fresh()] == [1]
    _update(tracker, _walker(1), STEP)
    _update(tracker, _walker(2), 2 * STEP)
    assert [tr.id for tr in tracker.skippable()] == [1] and not tracker.fresh()
    pred = tracker.predict(tracker.tracks[0], 3 * STEP)
    assert abs(pred[0] - _walker(3)[0]) < 6  # the prediction is where the walker will be
    _update(tracker, None, 3 * STEP, skipped=frozenset({1}))
    # Not searched this frame: it must be searched the next one (never two skipped frames running)...
    assert not tracker.skippable()
    # ... and, not having been missed, it kept its pace.
    assert tracker.tracks[0].velocity[0] > 0.9 * 12 / STEP
    _update(tracker, _walker(4), 4 * STEP)
    assert [tr.id for tr in tracker.skippable()] == [1] and tracker.tracks[0].id == 1


def test_with_two_skips_allowed_a_walker_its_picture_follows_skips_two_frames_then_is_searched():
    tracker = Tracker(max_skips=2)
    for i in range(3):
        _update(tracker, _walker(i), i * STEP)
    assert [tr.id for tr in tracker.skippable()] == [1]
    _update(tracker, None, 3 * STEP, skipped=frozenset({1}))
    walker = tracker.tracks[0]
    # Found by its picture where the walker now is: it may be spared once more...
    assert walker.last_seen == 3 * STEP and walker.skips == 1
    assert abs(walker.box[0] - _walker(3)[0]) < 6
    assert [tr.id for tr in tracker.skippable()] == [1]
    _update(tracker, None, 4 * STEP, skipped=frozenset({1}))
    # ... but never a third frame running.
    assert tracker.tracks[0].skips == 2 and not tracker.skippable()
    _update(tracker, _walker(5), 5 * STEP)
    assert tracker.tracks[0].skips == 0 and [tr.id for tr in tracker.skippable()] == [1]
    assert [tr.id for tr in tracker.tracks] == [1]


def test_a_skipped_walker_its_picture_lost_is_searched_in_the_next_frame():
    tracker = Tracker(max_skips=2)
    for i in range(3):
        _update(tracker, _walker(i), i * STEP)
    empty = np.clip(np.random.default_rng(5).normal(120, 3, (360, 640, 3)), 0, 255).astype(np.uint8)
    tracker.update(_dets(), 3 * STEP, empty, skipped=frozenset({1}))
    # Nothing there looks like the walker: not seen this frame, so the detector must look next frame.
    assert tracker.tracks[0].last_seen == 2 * STEP and not tracker.skippable()


def test_someone_standing_or_jumping_is_never_skippable():
    standing = Tracker()
    empty = np.clip(np.random.default_rng(0).normal(120, 3, (360, 640, 3)), 0, 255).astype(np.uint8)
    standing.update(_dets(), 0.0, empty)  # the empty scene first, as a camera sees it
    for i in range(1, 6):
        _update(standing, WHOLE, i * STEP)
    assert standing.confirmed() and not standing.skippable()
    jumpy = Tracker()
    for i, x in enumerate([0, 12, 60, 72]):  # a box that lands far from its prediction is not steady
        _update(jumpy, _walker(x, 1.0), i * STEP)
        if i == 2:
            assert not jumpy.skippable()
