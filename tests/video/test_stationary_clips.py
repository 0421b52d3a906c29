"""Stationary things on real footage: the CC-BY parking clip untouched, and with a car composited to
arrive and stay (11-Q's recipes in tests/data/derived, derived with ffmpeg and cached)."""

import pytest

from tests.video.derived_runs import RECIPES, STATIONARY, predict
from video.config import parse_config
from video.pipeline import analyze
from video.synthetic.evaluate import match_events

CARS = ("car-arrives-centre", "car-arrives-edge")


@pytest.fixture(scope="module")
def predicted():
    """Each car recipe's predicted situations."""
    # In this process, one after the other: two short clips, no worker processes to wait for.
    return predict(CARS, workers=1)


def test_untouched_parking_clip_has_no_stationary_thing(shared_dir):
    # Cars only drive through; the painted marks drift with the camera and exposure swings with white
    # cars: none of that is a left object or a stopped vehicle (it used to be an object_left in a corner).
    cfg = parse_config({"code": "CC-PARK", "url": "x.mp4", "lon": 114.35, "lat": 22.7, "fps": 5,
                        "zones": [{"name": "lot", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]],
                                   "rules": [{"kind": "vehicle_stopped", "seconds": 5},
                                             {"kind": "object_left", "seconds": 5}]}]})
    pred = list(analyze(shared_dir / "video" / "parking-lot-cars.mp4", cfg))
    assert [p for p in pred if p["rule"] in STATIONARY] == []


@pytest.mark.parametrize("name", CARS)
def test_a_car_that_arrives_and_stays_is_one_stopped_vehicle(predicted, name):
    truth = RECIPES[name]["truth"]
    pred = [p for p in predicted[name] if p["rule"] in STATIONARY]
    print(f"\n{name}: truth {truth}\n  events {pred}")
    assert len(match_events(pred, truth)) == len(truth) == 1
    assert len(pred) == 1
    # Within the rule's seconds plus a few of the car stopping.
    assert truth[0]["start_s"] <= pred[0]["start_s"] <= truth[0]["start_s"] + 4.0
