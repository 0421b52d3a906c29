"""Motion gate benchmark on the CC-BY clips: ms per frame and share of still frames flagged, beside Frigate.

Run: .venv/bin/python benchmarks/video_gate.py [--shared ../shared]   (one core: taskset -c 0 ...)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this folder comes first on sys.path and its video.py would shadow the video
# package: the repo root goes first.
sys.path.insert(0, str(ROOT))

from video.motion import MotionGate  # noqa: E402
CLIPS = [("parking-lot-cars.mp4", "parking-lot-cars.labels.json", "cars"),
         ("indoor-people-one-by-one.mp4", "indoor-people-one-by-one.labels.json", "people")]


def measure(path: Path, intervals: list[tuple[float, float]]) -> tuple[float, float, float]:
    """(ms per frame for the gate alone, share of still frames flagged, share of busy frames flagged)."""
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    gate = MotionGate()
    t0 = time.perf_counter()
    flags = [gate.update(f).moving for f in frames]
    ms = (time.perf_counter() - t0) / len(frames) * 1000
    ts = np.arange(len(frames)) / fps
    still = np.array([not any(a - 0.5 <= t <= b + 0.5 for a, b in intervals) for t in ts])
    busy = np.array([any(a + 0.3 <= t <= b - 0.3 for a, b in intervals) for t in ts])
    f = np.array(flags)
    return ms, float(f[still].mean()), float(f[busy].mean())


def main() -> int:
    """Print the gate's figures for each clip next to the peer's."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = ap.parse_args()
    cv2.setNumThreads(1)
    print(f"{'clip':<32}{'ms/frame':>9}{'still flagged':>15}{'busy flagged':>14}   peer (Frigate)")
    for clip, labels, key in CLIPS:
        lab = json.loads((ROOT / "tests" / "data" / labels).read_text())
        ms, still, busy = measure(Path(args.shared) / "video" / clip, [(x["enter_s"], x["leave_s"]) for x in lab[key]])
        print(f"{clip:<32}{ms:>9.2f}{still * 100:>14.1f}%{busy * 100:>13.1f}%   1.2-1.9 ms, 38-59 % still flagged")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
