"""End to end on synthetic scenes generated with seeds never used for tuning.

Tuning looked at seeds 1-4, 41-45 and 101-110; 51-55 were first run when this file got its floors.
Goal from issue 4: precision and recall >= 0.9 per rule, each rule with at least five truths: five
held-out seeds of every scenario give that (walk_through, the longest clip, on two of them: intrusion
has dozens of truths anyway). The scenes run in two worker processes to stay in budget.
The long sweep (many seeds, both sprite kinds) is benchmarks/video_quality.py.
"""

import cv2
import pytest

from video.synthetic import SCENARIOS, build, score
from video.synthetic.evaluate import run_scenes, table

cv2.setNumThreads(1)
HELD_OUT = [51, 52, 53, 54, 55]
RULES = ("intrusion", "loitering", "crowd", "object_left", "vehicle_stopped", "covered", "blurred", "frozen", "moved")


UNSEEN = [(name, seed, "auto") for seed in HELD_OUT for name in SCENARIOS
          if name != "walk_through" or seed in HELD_OUT[:2]]
DRAWN = [(name, 32, "drawn") for name in ("walk_through", "lingering")]


@pytest.fixture(scope="module")
def scene_runs() -> dict:
    """(predicted, truth) of every scene this module scores, by job: one pool of two processes for all
    of them (each spawned process imports OpenCV and the pipeline afresh, a second or two apiece)."""
    jobs = DRAWN + UNSEEN  # long scenes first, short ones (frozen, turned) last: both cores finish together
    return dict(zip(jobs, run_scenes(jobs, workers=2)))


@pytest.fixture(scope="module")
def unseen_scores(scene_runs):
    return score([scene_runs[job] for job in UNSEEN])


def test_precision_recall_per_rule_on_unseen_seeds(unseen_scores):
    print(f"\nsynthetic, held-out seeds {HELD_OUT}, all scenarios\n" + table(unseen_scores))
    for rule in RULES:
        c = unseen_scores[rule]
        assert c["truth"] >= 5, f"only {c['truth']} truths for {rule}"
        assert c["precision"] >= 0.9, f"{rule} precision {c['precision']:.2f} ({c['tp']}/{c['pred']})"
        assert c["recall"] >= 0.9, f"{rule} recall {c['recall']:.2f} ({c['tp']}/{c['truth']})"


def test_drawn_people_fallback_is_detected(scene_runs):
    # The generator must work without ../shared: drawn figures that HOG finds.
    s = score([scene_runs[job] for job in DRAWN])
    print("\nsynthetic drawn people, seed 32\n" + table(s))
    assert s["intrusion"]["truth"] >= 4 and s["loitering"]["truth"] >= 1
    assert s["intrusion"]["recall"] >= 0.9 and s["intrusion"]["precision"] >= 0.9
    assert s["loitering"]["recall"] >= 0.99 and s["loitering"]["precision"] >= 0.99


def test_every_scenario_has_its_own_truth():
    wanted = {"walk_through": "intrusion", "gathering": "crowd", "lingering": "loitering", "bag_left": "object_left",
              "car_stop": "vehicle_stopped", "covered": "covered", "blurred": "blurred", "frozen": "frozen",
              "turned": "moved"}
    for name, rule in wanted.items():
        scene = build(name, 40, "drawn")
        assert rule in {g["rule"] for g in scene.truth}, name
