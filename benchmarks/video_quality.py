"""Long precision/recall sweep of the video rules on synthetic scenes (held-out seeds, both sprite kinds).

Run: .venv/bin/python benchmarks/video_quality.py [--seeds 101-120] [--people real,drawn] [--jobs 2] [-v]
Tuning used seeds 1-4; every other seed is held out. `-v` prints each scene's misses and false events.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# benchmarks/video.py would shadow the video package when this runs as a script: the repo root first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from video.synthetic import SCENARIOS, match_events, score  # noqa: E402
from video.synthetic.evaluate import run_scenes, table  # noqa: E402


def parse_seeds(text: str) -> list[int]:
    """'101-120,131' -> [101, ..., 120, 131]."""
    seeds: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        seeds += list(range(int(a), int(b or a) + 1))
    return seeds


def _errors(pred: list[dict], truth: list[dict]) -> list[str]:
    pairs = match_events(pred, truth)
    hit_p, hit_t = {i for i, _ in pairs}, {j for _, j in pairs}
    fmt = "{rule}/{zone} {start_s:.1f}-{end_s}"
    return ([f"missed {fmt.format(**g)}" for j, g in enumerate(truth) if j not in hit_t]
            + [f"false  {fmt.format(**p)}" for i, p in enumerate(pred) if i not in hit_p])


def main() -> int:
    """Run the sweep and print the per-rule table for each sprite kind and pooled."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", default="101-112")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--people", default="real,drawn")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    jobs = [(n, s, p) for p in args.people.split(",") for s in parse_seeds(args.seeds)
            for n in args.scenarios.split(",")]
    t0 = time.perf_counter()
    results = run_scenes(jobs, args.jobs)
    by_kind: dict[str, list] = {}
    for (name, seed, people), (pred, truth) in zip(jobs, results):
        by_kind.setdefault(people, []).append((pred, truth))
        if args.verbose:
            for line in _errors(pred, truth):
                print(f"{people:<6}{name:<14}{seed:>5}  {line}")
    for people, runs in by_kind.items():
        print(f"\n{people} people, seeds {args.seeds}, {len(runs)} scenes\n" + table(score(runs)))
    if len(by_kind) > 1:
        print("\npooled\n" + table(score([r for runs in by_kind.values() for r in runs])))
    print(f"\n{len(jobs)} scenes in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
