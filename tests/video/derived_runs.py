"""Shared by the tests that run recipes of tests/data/derived: the recipes, and their predictions."""

from pathlib import Path

import pytest

from video.synthetic.derived import default_cache, find_footage, load_recipes
from video.synthetic.evaluate import run_recipes

ROOT = Path(__file__).resolve().parents[2]
RECIPES = {r["name"]: r for r in load_recipes(ROOT / "tests" / "data" / "derived")}
STATIONARY = {"object_left", "vehicle_stopped"}


def predict(names: tuple[str, ...], workers: int) -> dict[str, list]:
    """Each named recipe's predicted situations (derived clips are cached between runs); fails, never
    skips, when the CC-BY footage is missing."""
    try:
        footage = find_footage(ROOT)
    except FileNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    jobs = [(RECIPES[name], str(footage), str(default_cache()), 640, None) for name in names]
    return dict(zip(names, run_recipes(jobs, workers=workers)))
