"""Test clips: H.264 .mp4 files made with ffmpeg from synthetic frames (OpenCV here cannot write H.264)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from video.synthetic import build


def encode_h264(frames: Iterable[np.ndarray], path: Path, fps: float, gop: int = 10) -> Path:
    """Pipe BGR frames into ffmpeg as an H.264 .mp4 with a key frame every `gop` frames."""
    frames = iter(frames)
    first = next(frames)
    h, w = first.shape[:2]
    proc = subprocess.Popen(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}",
         "-r", str(fps), "-i", "-", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         "-g", str(gop), "-movflags", "+faststart", str(path)],
        stdin=subprocess.PIPE,
    )
    proc.stdin.write(first.tobytes())
    for f in frames:
        proc.stdin.write(np.ascontiguousarray(f).tobytes())
    proc.stdin.close()
    assert proc.wait(timeout=120) == 0, "ffmpeg failed"
    return path


def scene_clip(path: Path, seconds: float = 30.0, seed: int = 7) -> Path:
    """A normal street scene (people walking through) of about `seconds`, 480x270 at 5 fps."""
    scene = build("walk_through", seed, "drawn")
    frames = [f for f, t in scene.frames()]
    n = int(seconds * 5)
    # Repeat the scene forwards and backwards to the wanted length: no cut, no identical neighbours.
    out = []
    while len(out) < n:
        out.extend(frames if (len(out) // len(frames)) % 2 == 0 else frames[::-1])
    return encode_h264(out[:n], path, 5.0)


def covered_clip(path: Path, seconds: float = 30.0, seed: int = 1) -> Path:
    """A lens covered by a hand or a bag: dark, nearly uniform frames with sensor noise."""
    rng = np.random.default_rng(seed)
    frames = (np.clip(rng.normal(14, 2.0, (270, 480, 3)), 0, 255).astype(np.uint8) for _ in range(int(seconds * 5)))
    return encode_h264(frames, path, 5.0)
