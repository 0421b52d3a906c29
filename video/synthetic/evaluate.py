"""Scoring situations against ground truth: rule and zone agree and the times overlap by >= 50 % of the shorter."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context


def overlap(a: dict, b: dict) -> float:
    """Temporal overlap of two situations' [start_s, end_s] as a share of the shorter one (issue 11).

    A zero-length situation (end equal to start, or no end) overlaps fully an interval that holds it.
    """
    a0, a1 = a["start_s"], a["end_s"] if a["end_s"] is not None else a["start_s"]
    b0, b1 = b["start_s"], b["end_s"] if b["end_s"] is not None else b["start_s"]
    inter = min(a1, b1) - max(a0, b0)
    shorter = min(a1 - a0, b1 - b0)
    if shorter <= 0:
        return 1.0 if inter >= -1e-6 else 0.0
    return max(0.0, inter) / shorter


def match_events(pred: list[dict], truth: list[dict], min_overlap: float = 0.5) -> list[tuple[int, int]]:
    """Greedy one-to-one pairs (pred index, truth index) of the same rule and zone, best overlap first."""
    cands = []
    for i, p in enumerate(pred):
        for j, g in enumerate(truth):
            if p["rule"] == g["rule"] and p["zone"] == g["zone"]:
                o = overlap(p, g)
                if o >= min_overlap:
                    cands.append((-o, i, j))
    cands.sort()
    used_p, used_t, pairs = set(), set(), []
    for _, i, j in cands:
        if i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
            pairs.append((i, j))
    return pairs


def score(runs: list[tuple[list[dict], list[dict]]]) -> dict[str, dict[str, float]]:
    """Per-rule precision, recall and counts over several (predicted, truth) runs."""
    tally: dict[str, dict[str, float]] = defaultdict(lambda: {"tp": 0, "pred": 0, "truth": 0})
    for pred, truth in runs:
        for p in pred:
            tally[p["rule"]]["pred"] += 1
        for g in truth:
            tally[g["rule"]]["truth"] += 1
        for i, _ in match_events(pred, truth):
            tally[pred[i]["rule"]]["tp"] += 1
    out = {}
    for rule, c in sorted(tally.items()):
        out[rule] = {
            "precision": c["tp"] / c["pred"] if c["pred"] else 1.0,
            "recall": c["tp"] / c["truth"] if c["truth"] else 1.0,
            **c,
        }
    return out


def table(scores: dict[str, dict[str, float]]) -> str:
    """A plain-text precision/recall table."""
    lines = [f"{'rule':<16}{'truth':>6}{'pred':>6}{'tp':>5}{'precision':>11}{'recall':>8}"]
    for rule, c in scores.items():
        lines.append(f"{rule:<16}{c['truth']:>6}{c['pred']:>6}{c['tp']:>5}{c['precision']:>11.2f}{c['recall']:>8.2f}")
    return "\n".join(lines)


def run_scene(job: tuple[str, int, str]) -> tuple[list[dict], list[dict]]:
    """Generate one scene (scenario, seed, people) and analyse it: (predicted situations, truth)."""
    import cv2

    from video.pipeline import analyze_frames
    from video.synthetic.scenes import build

    cv2.setNumThreads(1)
    name, seed, people = job
    scene = build(name, seed, people)
    return list(analyze_frames(scene.frames(), scene.config)), scene.truth


def run_scenes(jobs: list[tuple[str, int, str]], workers: int = 2) -> list[tuple[list[dict], list[dict]]]:
    """run_scene over many jobs in worker processes (spawned: safe beside threads), in job order."""
    if workers <= 1:
        return [run_scene(j) for j in jobs]
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(run_scene, jobs, chunksize=1))


def run_recipe(job: tuple[dict, str, str, int, dict | None]) -> list[dict]:
    """Derive one recipe's clip and analyse it as `gridwatch video analyze` does: its predicted situations.

    job: (recipe, footage dir, cache dir, analysis width, ONNX model options or None for HOG).
    """
    from pathlib import Path

    import cv2

    from video.config import parse_config
    from video.detectors import make_detector
    from video.pipeline import analyze
    from video.synthetic.derived import derive

    cv2.setNumThreads(1)
    recipe, footage, cache, width, model = job
    clip = derive(recipe, Path(footage), Path(cache))
    detector = make_detector(**model) if model else None
    return list(analyze(clip, parse_config(recipe["camera"]), detector=detector, analysis_width=width))


def run_recipes(jobs: list[tuple[dict, str, str, int, dict | None]], workers: int = 2) -> list[list[dict]]:
    """run_recipe over many jobs in worker processes (spawned), in job order."""
    if workers <= 1:
        return [run_recipe(j) for j in jobs]
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        return list(pool.map(run_recipe, jobs, chunksize=1))
