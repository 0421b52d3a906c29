"""Camera analytics speed: 24 streams of 640x360 at 10 fps, analysed at 5 fps on one core.

20 quiet streams (a still street with sensor noise and lighting drift) and 4 busy ones (people walking
through all the time, drawn with video.synthetic's sprites) are generated as H.264 files with ffmpeg,
then decoded through video.sources.FrameSource exactly as the camera worker reads them. Two passes
over the same files in one process: decode only, then decode + CameraPipeline + the media ring.
Prints whether the pipeline keeps real time on one core, its CPU as a multiple of decode-only, memory
per camera, where the time goes per stage, and the motion gate's figures on the CC-BY clips
(benchmarks/video_gate.py).

Run: .venv/bin/python benchmarks/video.py [--seconds 20] [--profile]   (pins itself to CPU 0 like
`taskset -c 0`; pass --no-pin to skip)
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from video.config import parse_config  # noqa: E402
from video.media import FrameRing  # noqa: E402
from video.pipeline import CameraPipeline  # noqa: E402
from video.sources import FrameSource  # noqa: E402
from video.synthetic import build  # noqa: E402
from video.synthetic import sprites as sp  # noqa: E402
from video.synthetic.scenes import CONFIG  # noqa: E402

W, H, FPS, RATE = 640, 360, 10.0, 5.0
QUIET, BUSY = 20, 4


def rss_mb() -> float:
    """Resident memory of this process in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def encode(frames, path: Path) -> Path:
    """H.264 .mp4 from BGR frames (ffmpeg; OpenCV here has no H.264 encoder)."""
    proc = subprocess.Popen(["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24",
                             "-s", f"{W}x{H}", "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "veryfast",
                             "-pix_fmt", "yuv420p", "-g", "20", str(path)], stdin=subprocess.PIPE)
    for f in frames:
        proc.stdin.write(f.tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("ffmpeg failed")
    return path


def background(seed: int) -> np.ndarray:
    """A still street from video.synthetic (its first frame, before anyone enters), at 640x360."""
    frame, _ = next(iter(build("walk_through", seed, "drawn").frames()))
    return cv2.resize(frame, (W, H), interpolation=cv2.INTER_LINEAR).astype(np.float32)


def street(seed: int, seconds: float, busy: bool):
    """Frames of a quiet or busy stream: noise and lighting drift always, walkers when busy."""
    rng = np.random.default_rng(seed)
    bg = background(seed)
    noise = [rng.normal(0, 2.0, (H, W, 3)).astype(np.float32) for _ in range(7)]
    walkers = []
    if busy:
        # Three walkers at a time, each re-entering from a random side at a new height when it leaves.
        for k in range(3):
            walkers.append({"t0": -k * 2.5, "y": 0, "dir": 1, "speed": 0, "col": sp.person_colours(rng)})
    n = int(seconds * FPS)
    for i in range(n):
        t = i / FPS
        frame = bg * (1.0 + 0.05 * np.sin(t / 6.0 + seed)) + noise[(i * 3 + seed) % 7]
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        for w in walkers:
            if w["speed"] == 0 or t - w["t0"] > (W + 80) / w["speed"]:
                w.update(t0=t, y=float(rng.uniform(0.66, 0.95) * H), dir=int(rng.choice([-1, 1])),
                         speed=float(rng.uniform(50, 80)))
            x = (-40 + (t - w["t0"]) * w["speed"]) if w["dir"] > 0 else (W + 40 - (t - w["t0"]) * w["speed"])
            height = int(H * (0.25 + 0.5 * (w["y"] / H - 0.42) / 0.58))
            person = sp.drawn_person(height, t * 6.0, w["col"])
            sp.paste(frame, person, int(x - person[1].shape[1] / 2), int(w["y"] - person[1].shape[0]))
        yield frame


def make_clips(folder: Path, seconds: float) -> list[tuple[Path, bool]]:
    """24 stream files: 5 quiet scenes used by 4 streams each, and 4 busy scenes."""
    quiet = [encode(street(100 + k, seconds, False), folder / f"quiet{k}.mp4") for k in range(5)]
    busy = [encode(street(200 + k, seconds, True), folder / f"busy{k}.mp4") for k in range(BUSY)]
    return [(quiet[i % 5], False) for i in range(QUIET)] + [(b, True) for b in busy]


def run(streams: list[tuple[Path, bool]], analyse: bool) -> dict:
    """One pass over every stream, round-robin like one process with many cameras."""
    sources = [FrameSource(str(p), fps=RATE, width=W, loop=False, realtime=False) for p, _ in streams]
    gens = [s.samples() for s in sources]
    pipes, rings = [], []
    if analyse:
        for i, _ in enumerate(streams):
            pipes.append(CameraPipeline(parse_config(dict(CONFIG, code=f"BENCH-{i:02d}"), "bench")))
            rings.append(FrameRing(3.0, RATE))
    stage = {"quiet": [0.0, 0], "busy": [0.0, 0]}
    rss_peak = rss_mb()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    alive = list(range(len(gens)))
    frames = 0
    while alive:
        for i in list(alive):
            try:
                s = next(gens[i])
            except StopIteration:
                alive.remove(i)
                continue
            frames += 1
            if analyse and s.frame is not None:
                t0 = time.thread_time()  # CPU, not wall: the machine may be shared
                rings[i].append(s.frame, s.t)
                pipes[i].feed(s.frame, s.t)
                k = "busy" if streams[i][1] else "quiet"
                stage[k][0] += time.thread_time() - t0
                stage[k][1] += 1
        if frames % 200 == 0:
            rss_peak = max(rss_peak, rss_mb())
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    rss_peak = max(rss_peak, rss_mb())
    ring_mb = sum(r.nbytes() for r in rings) / 2**20
    return {"cpu": cpu, "wall": wall, "samples": frames, "rss_peak": rss_peak, "ring_mb": ring_mb,
            "ms_quiet": 1000 * stage["quiet"][0] / max(1, stage["quiet"][1]),
            "ms_busy": 1000 * stage["busy"][0] / max(1, stage["busy"][1])}


def gate_figures(shared: Path) -> None:
    """The motion gate on the CC-BY clips, through benchmarks/video_gate.py."""
    spec = importlib.util.spec_from_file_location("video_gate", Path(__file__).with_name("video_gate.py"))
    gate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gate)
    print(f"\n{'motion gate on CC-BY clip':<32}{'ms/frame':>9}{'still flagged':>15}{'busy flagged':>14}   peer (Frigate)")
    for clip, labels, key in gate.CLIPS:
        path = shared / "video" / clip
        if not path.exists():
            print(f"{clip:<32} missing ({path})")
            continue
        lab = json.loads((ROOT / "tests" / "data" / labels).read_text())
        ms, still, busy = gate.measure(path, [(x["enter_s"], x["leave_s"]) for x in lab[key]])
        print(f"{clip:<32}{ms:>9.2f}{still * 100:>14.1f}%{busy * 100:>13.1f}%   1.2-1.9 ms, 38-59 % still flagged")


def main() -> int:
    """Generate, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0, help="length of every stream (default 20)")
    ap.add_argument("--profile", action="store_true", help="cProfile the pipeline pass and print the top")
    ap.add_argument("--no-pin", action="store_true", help="do not pin to CPU 0")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = ap.parse_args()
    if not args.no_pin:
        os.sched_setaffinity(0, {0})  # what `taskset -c 0` does, for this process and its threads
    cv2.setNumThreads(1)
    print(f"CPU affinity {sorted(os.sched_getaffinity(0))}; {QUIET} quiet + {BUSY} busy streams, "
          f"{W}x{H} at {FPS:g} fps, analysed at {RATE:g} fps, {args.seconds:g} s each")
    with tempfile.TemporaryDirectory(prefix="gw-bench-") as tmp:
        t0 = time.perf_counter()
        streams = make_clips(Path(tmp), args.seconds)
        print(f"clips generated in {time.perf_counter() - t0:.1f} s")
        base_rss = rss_mb()
        dec = run(streams, analyse=False)
        prof = cProfile.Profile() if args.profile else None
        if prof:
            prof.enable()
        pipe = run(streams, analyse=True)
        if prof:
            prof.disable()
    n = len(streams)
    budget = args.seconds  # one core for `seconds` of 24 streams
    print(f"\ndecode only      : {dec['cpu']:.2f} s CPU for {budget:g} s of video ({100 * dec['cpu'] / budget:.1f} % of a core)")
    print(f"decode + pipeline: {pipe['cpu']:.2f} s CPU ({100 * pipe['cpu'] / budget:.1f} % of a core)")
    verdict = "KEEPS real time" if pipe["cpu"] < budget else "does NOT keep real time"
    print(f"real time        : {verdict} on one core (headroom x{budget / pipe['cpu']:.2f})")
    print(f"CPU ratio        : {pipe['cpu'] / dec['cpu']:.2f}x decode-only (goal <= 4x)")
    print(f"pipeline CPU per analysed frame: quiet {pipe['ms_quiet']:.2f} ms, busy {pipe['ms_busy']:.2f} ms")
    print(f"memory per camera: {(pipe['rss_peak'] - base_rss) / n:.1f} MiB total RSS "
          f"(decoder {(dec['rss_peak'] - base_rss) / n:.1f} MiB, media ring {pipe['ring_mb'] / n:.1f} MiB)")
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(18)
        print("\nwhere the time goes (pipeline pass, by own time):\n" + out.getvalue())
    gate_figures(Path(args.shared))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
