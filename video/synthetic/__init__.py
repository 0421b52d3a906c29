"""Synthetic fixed-camera scenes with ground truth (people HOG finds, a bag, a car, camera faults)."""

from video.synthetic.evaluate import match_events, score
from video.synthetic.scenes import SCENARIOS, Scene, build

__all__ = ["SCENARIOS", "Scene", "build", "match_events", "score"]
