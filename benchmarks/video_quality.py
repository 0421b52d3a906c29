"""Precision and recall of every video rule and health check, on synthetic scenes and on real footage.

Run: .venv/bin/python benchmarks/video_quality.py [--sets synthetic,derived] [--seeds 101-112]
     [--people real,drawn] [--jobs 2] [--footage DIR] [--cache DIR] [--model yolo.onnx ...] [-v]
     [--rules line_crossing,...]  (only the recipes that hold those rules, and only their rows)

Two sets:
- synthetic: held-out seeds of the synthetic scenes (video/synthetic; tuning used seeds 1-4);
- derived: the recipes of tests/data/derived/ (issue 11), clips derived with ffmpeg from the CC-BY
  footage in ../shared/video (or --footage, or $GRIDWATCH_FOOTAGE) and the footage as it is, each with
  its camera config and hand-made truth. Derived clips are cached (--cache) under a content hash.
An event matches a truth when rule and zone agree and they overlap by at least half the shorter of the
two intervals, one event to one truth; a `line_crossing` (issue 14) matches when line and direction agree
and the times are within 1 s. False alarms per hour are the unmatched events on the untouched
clips. The analysis is `gridwatch video analyze`'s (video.pipeline.analyze) with the camera worker's
defaults, printed first. `-v` prints every miss and false event.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

# benchmarks/video.py would shadow the video package when this runs as a script: the repo root first.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grid.camera_matters import RULE_MATTERS  # noqa: E402
from video.lines import match_crossings  # noqa: E402
from video.synthetic import SCENARIOS, match_events  # noqa: E402
from video.synthetic.derived import default_cache, find_footage, load_recipes  # noqa: E402
from video.synthetic.evaluate import run_recipes, run_scenes  # noqa: E402
from workers.camera import CameraWorkerConfig  # noqa: E402
from workers.cli.model_args import add_model_arguments  # noqa: E402

CROSSING = "line_crossing"
RULES = tuple(RULE_MATTERS) + (CROSSING,)  # the five rules, the five health checks, then counting lines
STATIONARY = ("object_left", "vehicle_stopped")
GOAL = 0.9
RECIPES = ROOT / "tests" / "data" / "derived"


def parse_seeds(text: str) -> list[int]:
    """'101-120,131' -> [101, ..., 120, 131]."""
    seeds: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        seeds += list(range(int(a), int(b or a) + 1))
    return seeds


def match_all(pred: list[dict], truth: list[dict]) -> list[tuple[int, int]]:
    """One-to-one (pred index, truth index) pairs: situations by rule, zone and overlap, crossings by line,
    direction and time within 1 s."""
    pairs = []
    for crossing in (False, True):
        pi = [i for i, p in enumerate(pred) if (p["rule"] == CROSSING) == crossing]
        ti = [j for j, g in enumerate(truth) if (g["rule"] == CROSSING) == crossing]
        match = match_crossings if crossing else match_events
        pairs += [(pi[i], ti[j]) for i, j in match([pred[i] for i in pi], [truth[j] for j in ti])]
    return pairs


def tally(runs: list[tuple[list[dict], list[dict]]]) -> dict[str, dict[str, int]]:
    """Per rule: truths, predicted events and matched pairs over several (predicted, truth) runs."""
    out = {r: {"truth": 0, "pred": 0, "tp": 0} for r in RULES}
    for pred, truth in runs:
        for p in pred:
            out.setdefault(p["rule"], {"truth": 0, "pred": 0, "tp": 0})["pred"] += 1
        for g in truth:
            out.setdefault(g["rule"], {"truth": 0, "pred": 0, "tp": 0})["truth"] += 1
        for i, _ in match_all(pred, truth):
            out[pred[i]["rule"]]["tp"] += 1
    return out


def _ratio(num: int, den: int) -> str:
    return f"{num / den:.2f}" if den else "-"


def _mark(num: int, den: int) -> str:
    return "" if not den else ("ok" if num / den >= GOAL else "BELOW")


def table(counts: dict[str, dict[str, int]]) -> str:
    """Per-rule truth/pred/tp, precision and recall beside the goal ("-": nothing to divide by)."""
    lines = [f"{'rule':<16}{'truth':>6}{'pred':>6}{'tp':>5}{'precision':>11}{'':>6}{'recall':>8}{'':>6}  goal {GOAL}"]
    for rule, c in counts.items():
        lines.append(f"{rule:<16}{c['truth']:>6}{c['pred']:>6}{c['tp']:>5}"
                     f"{_ratio(c['tp'], c['pred']):>11}{_mark(c['tp'], c['pred']):>6}"
                     f"{_ratio(c['tp'], c['truth']):>8}{_mark(c['tp'], c['truth']):>6}")
    return "\n".join(lines)


def errors(pred: list[dict], truth: list[dict]) -> list[str]:
    """Each missed truth and each false event, one line each."""
    pairs = match_all(pred, truth)
    hit_p, hit_t = {i for i, _ in pairs}, {j for _, j in pairs}

    def fmt(e: dict) -> str:
        if e["rule"] == CROSSING:
            return f"{CROSSING}/{e['line']} {e['direction']} {e.get('class')} {e['t_s']:.1f}"
        end = "open" if e["end_s"] is None else f"{e['end_s']:.1f}"
        box = f" box {[round(v, 2) for v in e['box']]}" if e.get("box") else ""
        return f"{e['rule']}/{e['zone']} {e['start_s']:.1f}-{end}{box}"

    return ([f"missed {fmt(g)}" for j, g in enumerate(truth) if j not in hit_t]
            + [f"false  {fmt(p)}" for i, p in enumerate(pred) if i not in hit_p])


def clip_seconds(recipe: dict, footage: Path) -> float:
    """The analysed length of a recipe's clip: its duration_s, or the source clip's own length."""
    if not recipe.get("untouched"):
        return float(recipe["background"]["duration_s"])
    import cv2

    cap = cv2.VideoCapture(str(footage / recipe["background"]["clip"]))
    try:
        return cap.get(cv2.CAP_PROP_FRAME_COUNT) / (cap.get(cv2.CAP_PROP_FPS) or 25.0)
    finally:
        cap.release()


def synthetic(args) -> None:
    """The synthetic set: one table per sprite kind and pooled."""
    jobs = [(n, s, p) for p in args.people.split(",") for s in parse_seeds(args.seeds) for n in args.scenarios.split(",")]
    t0 = time.perf_counter()
    results = run_scenes(jobs, args.jobs)
    by_kind: dict[str, list] = {}
    for (name, seed, people), (pred, truth) in zip(jobs, results):
        by_kind.setdefault(people, []).append((pred, truth))
        if args.verbose:
            for line in errors(pred, truth):
                print(f"{people:<6}{name:<14}{seed:>5}  {line}")
    for people, runs in by_kind.items():
        print(f"\nsynthetic: {people} people, seeds {args.seeds}, {len(runs)} scenes\n"
              + table(_only(tally(runs), args.rules)))
    if len(by_kind) > 1:
        print("\nsynthetic: pooled\n" + table(_only(tally([r for runs in by_kind.values() for r in runs]), args.rules)))
    print(f"({len(jobs)} scenes in {time.perf_counter() - t0:.0f} s)")


def derived(args, model: dict | None) -> None:
    """The derived and real set: one table, then false alarms per hour on the untouched clips."""
    footage = Path(args.footage) if args.footage else find_footage(ROOT)
    if not footage.is_dir():
        raise FileNotFoundError(f"footage directory {footage} is missing")
    recipes = [r for r in load_recipes(RECIPES) if _holds(r, args.rules)]
    t0 = time.perf_counter()
    preds = run_recipes([(r, str(footage), args.cache, args.width, model) for r in recipes], args.jobs)
    runs = [(pred, r["truth"]) for r, pred in zip(recipes, preds)]
    print(f"\nderived and real clips ({len(recipes)} recipes in {RECIPES.relative_to(ROOT)})")
    for r, (pred, truth) in zip(recipes, runs):
        matched = len(match_all(pred, truth))
        print(f"  {r['name']:<26}{len(truth):>3} truths {len(pred):>3} events {matched:>3} matched")
        if args.verbose:
            for line in errors(pred, truth):
                print(f"      {line}")
    print(table(_only(tally(runs), args.rules)))
    # The counting-line recipes play the same footage again (lines only, no zones): counting their
    # hours twice would halve every rate. Their false crossings show as line_crossing precision above.
    untouched = [(r, pred) for r, pred in zip(recipes, preds) if r.get("untouched") and not r["camera"].get("lines")]
    hours = sum(clip_seconds(r, footage) for r, _ in untouched) / 3600
    false: dict[str, int] = {rule: 0 for rule in RULES}
    for r, pred in untouched:
        hit = {i for i, _ in match_all(pred, r["truth"])}
        for i, p in enumerate(pred):
            if i not in hit:
                false[p["rule"]] = false.get(p["rule"], 0) + 1
    names = ", ".join(r["background"]["clip"] for r, _ in untouched)
    if untouched:
        print(f"\nfalse alarms per hour on the untouched clips ({names}; {hours * 3600:.0f} s)")
    for rule, n in _only(false, args.rules).items() if untouched else ():
        goal = "  goal 0" + ("  ok" if n == 0 else "  ABOVE") if rule in STATIONARY else ""
        print(f"  {rule:<16}{n:>3} events  {n / hours:>7.1f} /h{goal}")
    print(f"({len(recipes)} clips in {time.perf_counter() - t0:.0f} s)")


def _holds(recipe: dict, rules: set[str] | None) -> bool:
    """Whether a recipe says something about one of the rules (all of them: None): a truth of one, or
    for line_crossing a counting line (an untouched clip with lines and no crossing would count too)."""
    if rules is None:
        return True
    return bool({g["rule"] for g in recipe["truth"]} & rules) or (CROSSING in rules and bool(recipe["camera"].get("lines")))


def _only(counts: dict, rules: set[str] | None) -> dict:
    return counts if rules is None else {r: c for r, c in counts.items() if r in rules}


def main() -> int:
    """Print the settings, then the tables of the chosen sets."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="synthetic,derived")
    ap.add_argument("--seeds", default="101-112")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--people", default="real,drawn")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--footage", default=None, help="directory of the CC-BY clips (default ../shared/video)")
    ap.add_argument("--cache", default=str(default_cache()), help="where derived clips are kept")
    ap.add_argument("--width", type=int, default=CameraWorkerConfig.analysis_width, help="analysis width")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--rules", default=None, help="comma-separated rules: only the derived recipes that hold them "
                    "and only their rows (e.g. line_crossing with --sets derived)")
    add_model_arguments(ap)
    args = ap.parse_args()
    args.rules = set(args.rules.split(",")) if args.rules else None
    model = ({"model_path": args.model, "input_size": args.model_size, "layout": args.model_layout}
             if args.model else None)
    worker = CameraWorkerConfig()
    print(json.dumps({
        "width": args.width, "analysis_fps": "each camera config's fps (5 in every recipe and scene)",
        "detector": args.model or "HOG (built-in)", "privacy_blur": worker.blur_faces,
        "privacy_blur_note": "blur touches only snapshots and clips, never the analysed frames",
        "pipeline": "video.pipeline.analyze, as gridwatch video analyze",
    }))
    sets = args.sets.split(",")
    t0 = time.perf_counter()
    if "synthetic" in sets:
        synthetic(args)
    if "derived" in sets:
        derived(args, model)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
