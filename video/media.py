"""Evidence of a situation: a JPEG snapshot (box and zone drawn, heads blurred) and a short VP8 clip.

Media files live under `<media_dir>/camera/<CODE>/<YYYYMMDD>/`, with names the server chooses
(situation id), so a camera config can never steer a write elsewhere. Privacy blurs the heads of the
people the tracker holds in each frame (the frames reach the recorder with their person boxes); the
Haar face search runs only when a camera asks for it (`privacy: "faces"`). Clips hold a few seconds before
the start (from a ring buffer) to a few seconds after, as `.webm` (VP8 plays in every browser; this
OpenCV build has no H.264 encoder). `purge()` enforces the retention period.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger(__name__)

CAMERA_DIR = "camera"
_SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_CASCADE_FILE = "haarcascade_frontalface_default.xml"
PRIVACY_MODES = ("tracks", "faces", "off")
# The share of a person box, from its top, that privacy blurs: HOG boxes leave about an eighth of
# their height above the head, and a coasting track's box lags its person a little (docs/cameras.md).
HEAD_SHARE = 0.35
_local = threading.local()


def _face_cascade() -> cv2.CascadeClassifier:
    # One classifier per thread: detectMultiScale on a shared instance is not documented thread-safe.
    cascade = getattr(_local, "faces", None)
    if cascade is None:
        cascade = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, _CASCADE_FILE))
        if cascade.empty():
            raise RuntimeError(f"OpenCV face cascade {_CASCADE_FILE} is missing")
        _local.faces = cascade
    return cascade


def find_faces(frame: np.ndarray, min_size: int = 12) -> np.ndarray:
    """Frontal faces in a BGR frame as (N, 4) pixel xyxy boxes (Haar cascade)."""
    grey = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame)
    found = _face_cascade().detectMultiScale(grey, scaleFactor=1.1, minNeighbors=4, minSize=(min_size, min_size))
    if len(found) == 0:
        return np.zeros((0, 4), np.int32)
    found = np.asarray(found, np.int32)
    return np.column_stack([found[:, 0], found[:, 1], found[:, 0] + found[:, 2], found[:, 1] + found[:, 3]])


def blur_regions(frame: np.ndarray, boxes: np.ndarray, grow: float = 0.2) -> np.ndarray:
    """Pixelate and blur each pixel xyxy box (grown by `grow`) in place; returns the frame."""
    h, w = frame.shape[:2]
    for x1, y1, x2, y2 in np.asarray(boxes, np.float32).reshape(-1, 4):
        gx, gy = (x2 - x1) * grow, (y2 - y1) * grow
        a, b = max(0, int(x1 - gx)), max(0, int(y1 - gy))
        c, d = min(w, int(x2 + gx) + 1), min(h, int(y2 + gy) + 1)
        if c - a < 2 or d - b < 2:
            continue
        roi = frame[b:d, a:c]
        # Pixelating first destroys detail that a blur alone can leave recoverable. Blurring the 8x smaller
        # picture and scaling it back smoothly looks the same as blurring at full size, at a hundredth of
        # the cost (a full-size Gaussian of a tenth of the width cost 4-27 ms a head).
        small = cv2.resize(roi, (max(1, (c - a) // 8), max(1, (d - b) // 8)), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), max(0.5, (c - a) / 80))
        frame[b:d, a:c] = cv2.resize(small, (c - a, d - b), interpolation=cv2.INTER_LINEAR)
    return frame


def anonymise(frame: np.ndarray, heads: np.ndarray | None = None) -> np.ndarray:
    """A copy with detected faces blurred, plus the given head boxes (pixel xyxy) the cascade may miss."""
    return Privacy("faces").apply(frame, heads=heads)


def heads_of(people: np.ndarray | None, w: int, h: int) -> np.ndarray:
    """The head regions (top HEAD_SHARE, full width) of person boxes given in 0-1 xyxy, in pixels."""
    boxes = np.asarray(people if people is not None else [], np.float32).reshape(-1, 4)
    top = boxes[:, 1] + (boxes[:, 3] - boxes[:, 1]) * HEAD_SHARE
    return np.column_stack([boxes[:, 0] * w, boxes[:, 1] * h, boxes[:, 2] * w, top * h]).astype(np.float32)


@dataclass(frozen=True)
class Privacy:
    """What media blurs: the heads of the people the tracker holds ("tracks"), those and every face
    the Haar cascade finds ("faces"), or nothing ("off")."""

    mode: str = "tracks"
    # The face search, a parameter so that tests can count its calls.
    face_finder: Callable[[np.ndarray], np.ndarray] = find_faces

    def __post_init__(self) -> None:
        if self.mode not in PRIVACY_MODES:
            raise ValueError(f"privacy must be one of {', '.join(PRIVACY_MODES)}, not {self.mode!r}")

    def apply(self, frame: np.ndarray, people: np.ndarray | None = None,
              heads: np.ndarray | None = None) -> np.ndarray:
        """A copy of the frame with the heads of `people` (0-1 xyxy), the pixel boxes `heads` and, in
        "faces" mode, the faces found blurred; the frame itself is never changed."""
        out = frame.copy()
        if self.mode == "off":
            return out
        h, w = out.shape[:2]
        boxes = [heads_of(people, w, h), np.asarray(heads if heads is not None else [], np.float32).reshape(-1, 4)]
        if self.mode == "faces":
            boxes.append(np.asarray(self.face_finder(out), np.float32).reshape(-1, 4))
        return blur_regions(out, np.concatenate(boxes))


def draw_evidence(frame: np.ndarray, box: tuple | None, polygon: list | None, label: str) -> np.ndarray:
    """Draw the zone polygon (yellow), the box (red) and a label on the frame in place."""
    h, w = frame.shape[:2]
    if polygon:
        pts = np.array([[x * w, y * h] for x, y in polygon], np.int32)
        cv2.polylines(frame, [pts], True, (0, 220, 255), 2, cv2.LINE_AA)
    if box is not None:
        x1, y1, x2, y2 = box
        cv2.rectangle(frame, (int(x1 * w), int(y1 * h)), (int(x2 * w), int(y2 * h)), (0, 0, 255), 2)
    if label:
        cv2.putText(frame, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(frame, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return frame


def snapshot_jpeg(frame: np.ndarray, box: tuple | None = None, polygon: list | None = None, label: str = "",
                  privacy: Privacy = Privacy(), people: np.ndarray | None = None, person: bool = False,
                  quality: int = 85) -> bytes:
    """JPEG bytes of the frame with the people's heads blurred (before drawing) and the evidence drawn."""
    h, w = frame.shape[:2]
    # The situation's own box is a person too for person rules, even if its track has just ended.
    heads = heads_of(np.array([box]), w, h) if (person and box is not None) else None
    img = privacy.apply(frame, people, heads)
    draw_evidence(img, box, polygon, label)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def write_clip(frames: list[np.ndarray], path: Path, fps: float) -> int:
    """Write BGR frames as a VP8 .webm (atomically: temp file, then rename); returns frames written."""
    if not frames:
        return 0
    import av  # here, not at the top: the dashboard and the CLI import this module and never encode

    h, w = frames[0].shape[:2]
    w2, h2 = w - w % 2, h - h % 2  # 4:2:0 needs even sides
    tmp = path.with_name(path.stem + ".part.webm")
    n, done = 0, False
    try:
        with av.open(str(tmp), "w", format="webm") as out:
            # libvpx's realtime mode at its fastest speed: about 2 ms a 640x360 frame against OpenCV's
            # 16 ms (its writer takes no encoder options); at 1.5 Mbit/s for 5 fps the picture stays sharp.
            # static-thresh 300 leaves blocks that barely changed (a still street's sensor noise) as they
            # were: a quarter less encoding, the moving people as sharp (busy synthetic streets, issue 14).
            stream = out.add_stream("libvpx", rate=Fraction(fps).limit_denominator(1000),
                                    options={"deadline": "realtime", "cpu-used": "16", "threads": "1",
                                             "static-thresh": "300"})
            stream.width, stream.height, stream.pix_fmt, stream.bit_rate = w2, h2, "yuv420p", 1_500_000
            for f in frames:
                if f.shape[:2] != (h2, w2):
                    f = cv2.resize(f, (w2, h2)) if f.shape[:2] != (h, w) else f[:h2, :w2]
                # OpenCV's BGR -> I420 (BT.601, video range, as libav's) costs 0.13 ms a 640x360 frame against
                # 0.47 ms for libav's own conversion, and its chroma is closer (clips +3.7 dB PSNR, issue 14).
                yuv = cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_BGR2YUV_I420)
                out.mux(stream.encode(av.VideoFrame.from_ndarray(yuv, format="yuv420p")))
                n += 1
            out.mux(stream.encode())
        os.replace(tmp, path)
        done = True
    except (av.FFmpegError, ValueError) as exc:
        raise OSError(f"cannot write {tmp.name}: {exc}") from exc
    finally:
        if not done:
            tmp.unlink(missing_ok=True)  # nothing half-written stays behind
    return n


_NOBODY = np.zeros((0, 4), np.float32)


class FrameRing:
    """The last `seconds` of (t, frame, person boxes 0-1 xyxy) (references, not copies: sources hand out
    fresh arrays)."""

    def __init__(self, seconds: float = 3.0, fps: float = 5.0) -> None:
        self.frames: deque[tuple[float, np.ndarray, np.ndarray]] = deque(maxlen=max(1, int(round(seconds * fps)) + 1))

    def append(self, frame: np.ndarray, t: float, people: np.ndarray | None = None) -> None:
        """Keep a frame taken at t, with the person boxes the tracker holds in it."""
        self.frames.append((t, frame, _NOBODY if people is None else people))

    def since(self, t0: float) -> list[tuple[float, np.ndarray, np.ndarray]]:
        """Frames (t, frame, people) taken at or after t0, oldest first."""
        return [x for x in self.frames if x[0] >= t0]

    def nbytes(self) -> int:
        """Memory held by the frames."""
        return sum(f.nbytes for _, f, _ in self.frames)


def latest_snapshot_name(camera: str) -> str:
    """Where a camera's latest frame is kept, relative to the media directory (the camera page reads it)."""
    return f"snapshots/{camera}/latest.jpg"


def write_latest(media_dir: Path, camera: str, frame: np.ndarray, privacy: Privacy = Privacy(),
                 people: np.ndarray | None = None) -> Path:
    """Replace the camera's latest snapshot atomically (heads blurred), so a reader never sees half a file."""
    path = Path(media_dir) / latest_snapshot_name(camera)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(snapshot_jpeg(frame, privacy=privacy, people=people))
    tmp.replace(path)
    return path


def media_names(camera: str, situation_id: str, when: datetime) -> tuple[str, str]:
    """Relative paths (snapshot .jpg, clip .webm) of a situation's media; rejects unsafe names."""
    if not _SAFE.match(camera) or not _SAFE.match(situation_id):
        raise ValueError("camera code and situation id must be [A-Za-z0-9_.-]{1,64}")
    day = when.astimezone(timezone.utc).strftime("%Y%m%d")
    base = f"{CAMERA_DIR}/{camera}/{day}/{situation_id}"
    return f"{base}.jpg", f"{base}.webm"


@dataclass
class _Pending:
    rel: str
    until: float
    frames: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (frame, people 0-1 xyxy)


class MediaRecorder:
    """Per camera: keeps the ring, writes the snapshot at a start, and the clip once `post_s` have passed."""

    def __init__(self, media_dir: Path, camera: str, fps: float = 5.0, pre_s: float = 3.0, post_s: float = 3.0,
                 privacy: Privacy = Privacy()) -> None:
        self.media_dir = Path(media_dir)
        self.camera = camera
        self.fps = fps
        self.pre_s = pre_s
        self.post_s = post_s
        self.privacy = privacy
        self.ring = FrameRing(pre_s, fps)
        self._pending: list[_Pending] = []

    def feed(self, frame: np.ndarray, t: float, people: np.ndarray | None = None) -> list[str]:
        """Add a frame with its person boxes (0-1 xyxy); write the clips that are complete; return their paths."""
        self.ring.append(frame, t, people)
        done = []
        for p in list(self._pending):
            p.frames.append(self.ring.frames[-1][1:])
            if t >= p.until:
                self._pending.remove(p)
                if self._write_clip(p):
                    done.append(p.rel)
        return done

    def start(self, situation_id: str, t: float, wall: datetime, box: tuple | None, polygon: list | None,
              label: str, person: bool = False, clip: bool = True) -> list[str]:
        """Write the snapshot now and schedule the clip; return the relative paths (clip completes later)."""
        if not self.ring.frames:
            return []
        snap_rel, clip_rel = media_names(self.camera, situation_id, wall)
        _, frame, people = self.ring.frames[-1]
        paths = []
        try:
            target = self.media_dir / snap_rel
            target.parent.mkdir(parents=True, exist_ok=True)
            data = snapshot_jpeg(frame, box, polygon, label, self.privacy, people, person=person)
            tmp = target.with_name(target.stem + ".part.jpg")
            tmp.write_bytes(data)
            os.replace(tmp, target)
            paths.append(snap_rel)
        except (OSError, ValueError, cv2.error) as exc:
            logger.warning("camera %s: snapshot not written: %s", self.camera, exc)
        if clip:
            pre = [(f, people) for _, f, people in self.ring.since(t - self.pre_s)]
            self._pending.append(_Pending(clip_rel, t + self.post_s, pre))
            paths.append(clip_rel)
        return paths

    def flush(self) -> list[str]:
        """Write every pending clip with what it has (the camera stops)."""
        done = [p.rel for p in self._pending if self._write_clip(p)]
        self._pending.clear()
        return done

    def _write_clip(self, p: _Pending) -> bool:
        target = self.media_dir / p.rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            people = _fill_gaps([pp for _, pp in p.frames], max(1, round(self.fps)))
            write_clip([self.privacy.apply(f, pp) for (f, _), pp in zip(p.frames, people)], target, self.fps)
            return True
        except (OSError, cv2.error) as exc:
            logger.warning("camera %s: clip %s not written: %s", self.camera, target.name, exc)
            return False


def _fill_gaps(people: list[np.ndarray], reach: int) -> list[np.ndarray]:
    """Per clip frame, its person boxes, or for a frame without any, those of the nearest frame within
    `reach` frames: the tracker picks a person up a few frames after they step in and may lose them for
    a moment, and in a clip those frames would show a face."""
    out = list(people)
    for i, boxes in enumerate(people):
        if len(boxes):
            continue
        for d in range(1, reach + 1):
            near = [j for j in (i - d, i + d) if 0 <= j < len(people) and len(people[j])]
            if near:
                out[i] = np.concatenate([people[j] for j in near])
                break
    return out


@dataclass(frozen=True)
class PurgeResult:
    """What purge() removed."""

    files: int
    bytes: int


def purge(media_dir: Path, older_than: timedelta, now: float | None = None) -> PurgeResult:
    """Delete camera snapshots and clips older than `older_than` (by modification time), and empty folders."""
    root = Path(media_dir) / CAMERA_DIR
    if not root.is_dir():
        return PurgeResult(0, 0)
    cutoff = (time.time() if now is None else now) - older_than.total_seconds()
    files = size = 0
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames:
            p = Path(dirpath) / name
            try:
                st = p.lstat()
                if st.st_mtime < cutoff:
                    p.unlink()
                    files += 1
                    size += st.st_size
            except OSError as exc:
                logger.warning("cannot purge %s: %s", p.name, exc)
        if Path(dirpath) != root:
            try:
                os.rmdir(dirpath)  # only succeeds when empty
            except OSError:
                pass
    logger.info("purged %s media file(s), %s bytes, older than %s", files, size, older_than)
    return PurgeResult(files, size)
