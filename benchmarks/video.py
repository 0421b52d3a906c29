"""Camera analytics speed: 24 streams of 640x360 at 10 fps analysed at 5 fps, a mixed and an all-busy run.

Mixed run (one core): 20 quiet streams (a still street with sensor noise and lighting drift) and 4
busy ones (people walking through all the time, drawn with video.synthetic's sprites). All-busy run
(both cores, two processes of 12 streams): people and cars in view all the time, raising situations
all the time. The streams are generated as H.264 files with ffmpeg, then decoded through
video.sources.FrameSource exactly as the camera worker reads them, and every sample goes through the
camera worker's own CameraRunner.step (workers/camera.py): pipeline, situations, incident messages,
snapshots, privacy blur and VP8 clips, with the worker's default settings. Each run has two passes over
the same files: decode only, then decode + CameraRunner.step.
Prints whether the pipeline keeps real time, its CPU as a multiple of decode-only, memory per camera,
where the time goes per stage, and the motion gate's figures on the CC-BY clips
(benchmarks/video_gate.py).

Run: .venv/bin/python benchmarks/video.py [--seconds 20] [--runs mixed,busy,busy-lines] [--profile] [--max-skips N]   (the
mixed run pins itself to CPU 0 like `taskset -c 0`, the busy runs one process to each of CPU 0 and 1; pass
--no-pin to skip). `busy-lines` is the all-busy run with a counting line (people and vehicles, issue 14)
across the street on every stream, so the worker also follows moving vehicles and counts crossings.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import inspect
import io
import json
import multiprocessing
import os
import pstats
import queue
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grid.camera_matters import RULE_MATTERS  # noqa: E402
from video import media  # noqa: E402
from video.config import parse_config  # noqa: E402
from video.detectors import make_detector  # noqa: E402
from video.pipeline import CameraPipeline  # noqa: E402
from video.sources import FrameSource  # noqa: E402
from video.synthetic import build  # noqa: E402
from video.synthetic import sprites as sp  # noqa: E402
from video.synthetic.scenes import CONFIG  # noqa: E402
from workers import camera as camera_worker  # noqa: E402
from workers.camera import CameraRunner, CameraWorkerConfig  # noqa: E402

W, H, FPS, RATE = 640, 360, 10.0, 5.0
QUIET, BUSY = 20, 4
ALL_BUSY, BUSY_SCENES, CORES = 24, 6, 2
# The busy-lines run's counting line: top to bottom across the middle of the street, people and vehicles.
LINE = {"name": "mid", "points": [[0.5, 0.3], [0.5, 1.0]], "in_side": [0.6, 0.6], "classes": ["person", "vehicle"]}


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


def street(seed: int, seconds: float, busy: bool, cars: bool = False):
    """Frames of a stream: noise and lighting drift always, walkers when busy, cars driving and parking too."""
    rng = np.random.default_rng(seed)
    bg = background(seed)
    noise = [rng.normal(0, 2.0, (H, W, 3)).astype(np.float32) for _ in range(7)]
    walkers = []
    if busy:
        # Three walkers at a time, each re-entering from a random side at a new height when it leaves.
        for k in range(3):
            walkers.append({"t0": -k * 2.5, "y": 0, "dir": 1, "speed": 0, "col": sp.person_colours(rng)})
    autos = []
    if cars:
        # Two cars at a time on the road behind the walkers; every other pass one parks for 8 s mid-frame.
        for k in range(2):
            autos.append({"t0": -k * 4.0, "end": -1.0, "k": k})
    n = int(seconds * FPS)
    for i in range(n):
        t = i / FPS
        frame = bg * (1.0 + 0.05 * np.sin(t / 6.0 + seed)) + noise[(i * 3 + seed) % 7]
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        for c in autos:
            if t >= c["end"]:
                speed, stop = float(rng.uniform(80, 140)), float(rng.choice([0.0, 8.0]))
                length = int(rng.uniform(0.2, 0.28) * W)
                stop_x = float(rng.uniform(0.3, 0.7) * W)
                colour = tuple(int(v) for v in rng.integers(30, 230, 3))
                c.update(t0=t, speed=speed, stop=stop, stop_x=stop_x, dir=int(rng.choice([-1, 1])),
                         y=float((0.5 + 0.06 * c["k"]) * H), sprite=sp.car(length, colour),
                         end=t + (W + length + 80) / speed + stop)
            run_s = t - c["t0"]
            to_stop = (c["stop_x"] + 40 + c["sprite"][1].shape[1] / 2) / c["speed"]
            if run_s > to_stop:
                run_s = max(to_stop, run_s - c["stop"])
            x = -40 - c["sprite"][1].shape[1] / 2 + run_s * c["speed"]
            x = x if c["dir"] > 0 else W - x
            img, alpha = c["sprite"]
            if c["dir"] < 0:
                img, alpha = img[:, ::-1], alpha[:, ::-1]
            sp.paste(frame, (img, alpha), int(x - alpha.shape[1] / 2), int(c["y"] - alpha.shape[0]))
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


def make_busy_clips(folder: Path, seconds: float) -> list[tuple[Path, bool]]:
    """24 all-busy stream files (people and cars in view all the time): 6 scenes used by 4 streams each."""
    scenes = [encode(street(300 + k, seconds, True, cars=True), folder / f"allbusy{k}.mp4")
              for k in range(BUSY_SCENES)]
    return [(scenes[i % BUSY_SCENES], True) for i in range(ALL_BUSY)]


def settings_line(max_skips: int | None = None) -> str:
    """The analysis settings both runs use: the worker's defaults, as in the quality run (CameraPipeline's),
    but for --max-skips."""
    worker = CameraWorkerConfig()
    skips = max_skips if max_skips is not None else inspect.signature(CameraPipeline).parameters["max_skips"].default
    config = parse_config(dict(CONFIG, code="BENCH-00"), "bench")
    det = make_detector()
    params = ", ".join(f"{k} {getattr(det, k)}" for k in ("scale", "window_padding", "crop_height", "weight_threshold")
                       if hasattr(det, k))
    privacy = getattr(config, "privacy", "faces (Haar search)") if worker.blur_faces else "off"
    return (f"settings: analysis width {worker.analysis_width} px, {config.fps:g} fps, steady walkers unsearched "
            f"at most {skips} frame(s) running, detector "
            f"{type(det).__name__} ({params}), privacy blur {privacy}, clips {worker.clip_pre_s:g} s before + "
            f"{worker.clip_post_s:g} s after")


# The order the profile prints in: the worker's steps, with what the media lines contain indented.
STAGE_ORDER = ("decode (FrameSource)", "quality checks", "motion gate", "person detector", "tracker",
               "moving vehicles (lines)", "line counter", "stationary background", "rules", "situations", "incident messages", "media ring + clips",
               "  of which VP8 clip encoding", "situation snapshot", "latest snapshot",
               "privacy blur (clips + snapshots)", "  of which Haar face search")


class Stages:
    """CPU time (thread_time) spent inside named functions, by wrapping them for one run."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._undo: list = []

    def wrap(self, owner, name: str, label: str) -> None:
        """Time owner.name under label (skipped when the code has no such function)."""
        fn = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name, None)
        if fn is None:
            return
        cpu, calls = self.cpu, self.calls

        def timed(*args, **kwargs):
            t0 = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                cpu[label] += time.thread_time() - t0
                calls[label] += 1

        setattr(owner, name, timed)
        self._undo.append((owner, name, fn))

    def install(self, pipeline) -> None:
        """Wrap the pipeline's stages and the worker's media and message steps."""
        from video.background import StationaryDetector
        from video.lines import LineCounter
        from video.motion import MotionGate
        from video.moving import VehicleTracks
        from video.quality import QualityMonitor
        from video.rules import RuleEngine
        from video.situations import SituationTracker
        from video.tracker import Tracker

        for owner, name, label in [
            (QualityMonitor, "update", "quality checks"), (MotionGate, "update", "motion gate"),
            (type(pipeline.detector), "detect", "person detector"), (Tracker, "update", "tracker"),
            (StationaryDetector, "update", "stationary background"), (RuleEngine, "evaluate", "rules"),
            (VehicleTracks, "update", "moving vehicles (lines)"), (LineCounter, "update", "line counter"),
            (SituationTracker, "update", "situations"), (media.MediaRecorder, "feed", "media ring + clips"),
            (media.MediaRecorder, "flush", "media ring + clips"),
            (media.MediaRecorder, "start", "situation snapshot"), (camera_worker, "write_latest", "latest snapshot"),
            (camera_worker, "situation_message", "incident messages"),
            (media, "write_clip", "  of which VP8 clip encoding"),
            (getattr(media, "Privacy", None), "apply", "privacy blur (clips + snapshots)"),
            (None if hasattr(media, "Privacy") else media, "anonymise", "privacy blur (clips + snapshots)"),
            (media, "find_faces", "  of which Haar face search"),
        ]:
            if owner is not None:
                self.wrap(owner, name, label)

    def remove(self) -> None:
        """Put the original functions back."""
        for owner, name, fn in reversed(self._undo):
            setattr(owner, name, fn)
        self._undo.clear()


def run(streams: list[tuple[Path, bool]], analyse: bool, media_dir: Path | None = None, lines: bool = False,
        skip: bool = True, max_skips: int | None = None) -> dict:
    """One pass over every stream, round-robin like one process with many cameras, each sample through
    the camera worker's CameraRunner.step."""
    sources = [FrameSource(str(p), fps=RATE, width=W, loop=False, realtime=False) for p, _ in streams]
    gens = [s.samples() for s in sources]
    runners, outbox, stages = [], queue.Queue(), Stages()
    worker = CameraWorkerConfig()
    if analyse:
        for i, src in enumerate(sources):
            extra = {"lines": [LINE]} if lines and streams[i][1] else {}
            config = parse_config(dict(CONFIG, code=f"BENCH-{i:02d}", url=str(streams[i][0]), **extra), "bench")
            runner = CameraRunner(config, 1, outbox, media_dir, worker, dict(RULE_MATTERS))
            runner.source = src  # health reads the source the samples come from, as in the worker
            # --no-skip: the detector searches every motion roi every frame, as before issue 11's skipping.
            runner.pipeline.skip_steady = runner.pipeline.skip_steady and skip
            if max_skips is not None:  # --max-skips: frames in a row a steady walker may go unsearched
                runner.pipeline.tracker.max_skips = max_skips
            runners.append(runner)
        stages.install(runners[0].pipeline)
    stage = {"quiet": [0.0, 0], "busy": [0.0, 0]}
    decode_cpu = 0.0
    situations = crossings = 0
    rss_peak = rss_mb()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    alive = list(range(len(gens)))
    frames = 0
    try:
        while alive:
            for i in list(alive):
                t0 = time.thread_time()  # CPU, not wall: the machine may be shared
                try:
                    s = next(gens[i])
                except StopIteration:
                    alive.remove(i)
                    continue
                finally:
                    decode_cpu += time.thread_time() - t0
                frames += 1
                if analyse and s.frame is not None:
                    t0 = time.thread_time()
                    runners[i].step(s)
                    crossings += len(runners[i].pipeline.crossings)
                    k = "busy" if streams[i][1] else "quiet"
                    stage[k][0] += time.thread_time() - t0
                    stage[k][1] += 1
            if frames % 200 == 0:
                rss_peak = max(rss_peak, rss_mb())
            while not outbox.empty():
                item = outbox.get_nowait()
                situations += isinstance(item, camera_worker.Publish) and item.message.situation.phase.value == "start"
        for r in runners:
            r.recorder.flush()
    finally:
        stages.remove()
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    rss_peak = max(rss_peak, rss_mb())
    ring_mb = sum(r.recorder.ring.nbytes() for r in runners) / 2**20
    written = list(media_dir.rglob("*")) if media_dir else []
    return {"cpu": cpu, "wall": wall, "samples": frames, "rss_peak": rss_peak, "ring_mb": ring_mb,
            "decode_cpu": decode_cpu, "stages": dict(stages.cpu), "calls": dict(stages.calls),
            "situations": situations, "crossings": crossings, "snapshots": sum(p.suffix == ".jpg" for p in written),
            "clips": sum(p.suffix == ".webm" for p in written),
            "ms_quiet": 1000 * stage["quiet"][0] / max(1, stage["quiet"][1]),
            "ms_busy": 1000 * stage["busy"][0] / max(1, stage["busy"][1]),
            "analysed": stage["quiet"][1] + stage["busy"][1]}


def measure(streams: list[tuple[Path, bool]], media_dir: Path, profile: bool = False, lines: bool = False,
            skip: bool = True, max_skips: int | None = None) -> dict:
    """Decode-only pass, then the worker pass, in this process; memory relative to before both."""
    base_rss = rss_mb()
    dec = run(streams, analyse=False)
    prof = cProfile.Profile() if profile else None
    if prof:
        prof.enable()
    pipe = run(streams, analyse=True, media_dir=media_dir, lines=lines, skip=skip, max_skips=max_skips)
    if prof:
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(18)
        pipe["profile"] = out.getvalue()
    return {"dec": dec, "pipe": pipe, "base_rss": base_rss, "n": len(streams)}


def _busy_child(cpu: int | None, streams: list, media_dir: str, out, lines: bool = False, skip: bool = True,
                max_skips: int | None = None) -> None:
    """One of the all-busy run's processes: pinned to one core, measures its share of the streams."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    cv2.setNumThreads(1)
    out.put((cpu, measure([(Path(p), b) for p, b in streams], Path(media_dir), lines=lines, skip=skip,
                          max_skips=max_skips)))


def report(name: str, results: list[dict], seconds: float) -> None:
    """Real time per core, CPU against decode-only, memory per camera and the per-stage profile."""
    for k, r in enumerate(results):
        dec, pipe = r["dec"], r["pipe"]
        core = f"core {k}" if len(results) > 1 else "one core"
        print(f"\n[{name}, {core}: {r['n']} streams]")
        print(f"decode only      : {dec['cpu']:.2f} s CPU for {seconds:g} s of video "
              f"({100 * dec['cpu'] / seconds:.1f} % of a core)")
        print(f"decode + pipeline: {pipe['cpu']:.2f} s CPU ({100 * pipe['cpu'] / seconds:.1f} % of a core)")
        verdict = "KEEPS real time" if pipe["cpu"] < seconds else "does NOT keep real time"
        print(f"real time        : {verdict} on {core} (headroom x{seconds / pipe['cpu']:.2f})")
        print(f"pipeline CPU per analysed frame: quiet {pipe['ms_quiet']:.2f} ms, busy {pipe['ms_busy']:.2f} ms; "
              f"{pipe['situations']} situations, {pipe['snapshots']} snapshots, {pipe['clips']} clips, "
              f"{pipe['crossings']} line crossings")
        print(f"memory per camera: {(pipe['rss_peak'] - r['base_rss']) / r['n']:.1f} MiB total RSS "
              f"(decoder {(dec['rss_peak'] - r['base_rss']) / r['n']:.1f} MiB, "
              f"media ring {pipe['ring_mb'] / r['n']:.1f} MiB)")
    dec_cpu = sum(r["dec"]["cpu"] for r in results)
    pipe_cpu = sum(r["pipe"]["cpu"] for r in results)
    ok = all(r["pipe"]["cpu"] < seconds for r in results)
    n = sum(r["n"] for r in results)
    print(f"\n{name}: {n} streams {'KEEP' if ok else 'do NOT keep'} real time on {len(results)} core(s); "
          f"CPU ratio {pipe_cpu / dec_cpu:.2f}x decode-only")
    frames = sum(r["pipe"]["analysed"] for r in results)
    total = defaultdict(float)
    for r in results:
        total["decode (FrameSource)"] += r["pipe"]["decode_cpu"]
        for k, v in r["pipe"]["stages"].items():
            total[k] += v
    print(f"per-stage profile ({name}, CPU per analysed frame, share of the worker pass):")
    for k in STAGE_ORDER:
        if k in total:
            v = total[k]
            print(f"  {k:<36}{1000 * v / max(1, frames):>8.2f} ms{100 * v / pipe_cpu:>7.1f} %")
    if not ok:
        # What holds it back: the biggest top-level stage, and how much it would have to shrink.
        budget = 1000 * seconds * len(results) / max(1, frames)
        need = 1000 * pipe_cpu / max(1, frames)
        top = max((k for k in total if not k.startswith(" ") and not k.startswith("privacy")), key=total.get)
        stage_ms = 1000 * total[top] / max(1, frames)
        print(f"held back by: {top} at {stage_ms:.2f} ms of the {need:.2f} ms each frame needs, against a budget of "
              f"{budget:.2f} ms a frame per core; real time needs it {need - budget:.2f} ms "
              f"({100 * (need - budget) / stage_ms:.0f} %) cheaper, or about "
              f"{n * budget / need / len(results):.1f} such streams per core")
    for r in results:
        if "profile" in r["pipe"]:
            print(f"\nwhere the time goes ({name}, by own time):\n" + r["pipe"]["profile"])


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
    ap.add_argument("--runs", default="mixed,busy", help="which runs: mixed, busy, busy-lines (default mixed,busy)")
    ap.add_argument("--profile", action="store_true", help="cProfile the mixed run's worker pass and print the top")
    ap.add_argument("--no-pin", action="store_true", help="do not pin to CPUs")
    ap.add_argument("--no-skip", action="store_true",
                    help="detect on every motion roi every frame (no skipping of steady walkers): the old way")
    ap.add_argument("--max-skips", type=int, default=None,
                    help="frames in a row a steady walker may go unsearched (default: the pipeline's, 1)")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = ap.parse_args()
    runs = set(args.runs.split(","))
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory(prefix="gw-bench-") as tmp:
        if "mixed" in runs:
            if not args.no_pin:
                os.sched_setaffinity(0, {0})  # what `taskset -c 0` does, for this process and its threads
            print(f"\n== mixed run: CPU affinity {sorted(os.sched_getaffinity(0))}; {QUIET} quiet + {BUSY} busy "
                  f"streams, {W}x{H} at {FPS:g} fps, analysed at {RATE:g} fps, {args.seconds:g} s each")
            print(settings_line(args.max_skips))
            t0 = time.perf_counter()
            streams = make_clips(Path(tmp), args.seconds)
            print(f"clips generated in {time.perf_counter() - t0:.1f} s")
            (Path(tmp) / "media-mixed").mkdir()
            mixed = measure(streams, Path(tmp) / "media-mixed", args.profile, skip=not args.no_skip,
                            max_skips=args.max_skips)
            report("mixed run", [mixed], args.seconds)
            print("goal for the mixed run: <= 4x decode-only, real time on one core")
        busy_streams = None
        for name in ("busy", "busy-lines"):
            if name not in runs:
                continue
            lines = name == "busy-lines"
            title = "all-busy run" + (" with lines" if lines else "")
            print(f"\n== {title}: {ALL_BUSY} streams with people and cars in view all the time, {W}x{H} at "
                  f"{FPS:g} fps, analysed at {RATE:g} fps, {args.seconds:g} s each, {CORES} processes of "
                  f"{ALL_BUSY // CORES} streams{'' if args.no_pin else ', one pinned to each CPU'}"
                  + (f"; counting line {LINE['points']} ({', '.join(LINE['classes'])}) on every stream" if lines else ""))
            print(settings_line(args.max_skips))
            if busy_streams is None:
                t0 = time.perf_counter()
                busy_streams = make_busy_clips(Path(tmp), args.seconds)
                print(f"clips generated in {time.perf_counter() - t0:.1f} s")
            ctx = multiprocessing.get_context("spawn")
            out = ctx.Queue()
            procs = []
            for k in range(CORES):
                part = [(str(p), b) for p, b in busy_streams[k::CORES]]
                media_dir = Path(tmp) / f"media-{name}-{k}"
                media_dir.mkdir()
                cpu = None if args.no_pin else k
                procs.append(ctx.Process(target=_busy_child, args=(cpu, part, str(media_dir), out, lines,
                                                                                 not args.no_skip, args.max_skips)))
                procs[-1].start()
            results = [out.get() for _ in procs]
            for p in procs:
                p.join()
            report(title, [r for _, r in sorted(results, key=lambda x: x[0] or 0)], args.seconds)
            print(f"goal for the {title}: real time for all {ALL_BUSY} "
                  f"({ALL_BUSY // CORES} busy streams per core)")
    gate_figures(Path(args.shared))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
