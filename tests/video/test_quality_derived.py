"""A subset of benchmarks/video_quality.py's derived set (issue 11): clips made with ffmpeg from the CC-BY
footage by the recipes in tests/data/derived, analysed as `gridwatch video analyze` does, scored against
their hand-made truth. Only what today's pipeline meets is held here; the benchmark prints the rest.
"""

import pytest

from tests.video.derived_runs import RECIPES, STATIONARY, predict
from video.synthetic.evaluate import match_events

CHECKED = ("cloud-ramp-parking", "untouched-parking-cars", "bag-dropped-indoor", "covered-indoor")


@pytest.fixture(scope="module")
def predicted():
    """Each checked recipe's predicted situations."""
    return predict(CHECKED, workers=2)


def _report(name, pred):
    truth = RECIPES[name]["truth"]
    pairs = match_events(pred, truth)
    print(f"\n{name}: truth {truth}\n  events {pred}\n  matched {len(pairs)}")
    return pairs


def test_a_passing_cloud_raises_no_stationary_event(predicted):
    pred = predicted["cloud-ramp-parking"]
    _report("cloud-ramp-parking", pred)
    assert [p for p in pred if p["rule"] in STATIONARY] == []


def test_cars_driving_through_raise_no_stationary_event(predicted):
    pred = predicted["untouched-parking-cars"]
    _report("untouched-parking-cars", pred)
    assert [p for p in pred if p["rule"] in STATIONARY] == []


def test_a_dropped_bag_is_one_object_left_at_the_right_time(predicted):
    pred = predicted["bag-dropped-indoor"]
    pairs = _report("bag-dropped-indoor", pred)
    truth = RECIPES["bag-dropped-indoor"]["truth"]
    # Recall and precision 1 on this clip: the one truth matched, and no other event of any rule.
    assert len(pairs) == len(truth) == 1
    assert len(pred) == 1


def test_a_covered_lens_is_one_covered_event(predicted):
    pred = predicted["covered-indoor"]
    pairs = _report("covered-indoor", pred)
    assert len(pairs) == len(RECIPES["covered-indoor"]["truth"]) == 1
    assert len(pred) == 1
