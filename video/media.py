"""Evidence of a situation: a JPEG snapshot (box and zone drawn, faces blurred) and a short VP8 clip.

Media files live under `<media_dir>/camera/<CODE>/<YYYYMMDD>/`, with names the server chooses
(situation id), so a camera config can never steer a write elsewhere. Clips hold a few seconds before
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
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger(__name__)

CAMERA_DIR = "camera"
_SAFE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_CASCADE_FILE = "haarcascade_frontalface_default.xml"
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
        # Pixelating first destroys detail that a blur alone can leave recoverable.
        small = cv2.resize(roi, (max(1, (c - a) // 8), max(1, (d - b) // 8)), interpolation=cv2.INTER_AREA)
        frame[b:d, a:c] = cv2.GaussianBlur(cv2.resize(small, (c - a, d - b), interpolation=cv2.INTER_NEAREST),
                                           (0, 0), max(1.0, (c - a) / 10))
    return frame


def anonymise(frame: np.ndarray, heads: np.ndarray | None = None) -> np.ndarray:
    """A copy with detected faces blurred, plus the given head boxes (pixel xyxy) the cascade may miss."""
    out = frame.copy()
    boxes = find_faces(out)
    if heads is not None and len(heads):
        boxes = np.concatenate([boxes.astype(np.float32), np.asarray(heads, np.float32).reshape(-1, 4)])
    return blur_regions(out, boxes)


def head_of(box01: tuple[float, float, float, float], w: int, h: int) -> np.ndarray:
    """The head region (top fifth) of a person box given in 0-1 coordinates, in pixels."""
    x1, y1, x2, y2 = box01
    return np.array([[x1 * w, y1 * h, x2 * w, (y1 + (y2 - y1) * 0.2) * h]], np.float32)


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
                  blur_faces: bool = True, person: bool = False, quality: int = 85) -> bytes:
    """JPEG bytes of the frame with faces blurred (before drawing) and the evidence drawn."""
    h, w = frame.shape[:2]
    heads = head_of(box, w, h) if (person and box is not None) else None
    img = anonymise(frame, heads) if blur_faces else frame.copy()
    draw_evidence(img, box, polygon, label)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def write_clip(frames: list[np.ndarray], path: Path, fps: float) -> int:
    """Write frames as a VP8 .webm (atomically: temp file, then rename); returns frames written."""
    if not frames:
        return 0
    h, w = frames[0].shape[:2]
    tmp = path.with_name(path.stem + ".part.webm")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"VP80"), fps, (w, h))
    if not writer.isOpened():
        raise OSError(f"cannot write {tmp.name}: no VP8 encoder")
    n = 0
    try:
        for f in frames:
            if f.shape[:2] != (h, w):
                f = cv2.resize(f, (w, h))
            writer.write(f)
            n += 1
    finally:
        writer.release()
    os.replace(tmp, path)
    return n


class FrameRing:
    """The last `seconds` of frames (references, not copies: sources hand out fresh arrays)."""

    def __init__(self, seconds: float = 3.0, fps: float = 5.0) -> None:
        self.frames: deque[tuple[float, np.ndarray]] = deque(maxlen=max(1, int(round(seconds * fps)) + 1))

    def append(self, frame: np.ndarray, t: float) -> None:
        """Keep a frame taken at t."""
        self.frames.append((t, frame))

    def since(self, t0: float) -> list[tuple[float, np.ndarray]]:
        """Frames taken at or after t0, oldest first."""
        return [(t, f) for t, f in self.frames if t >= t0]

    def nbytes(self) -> int:
        """Memory held by the frames."""
        return sum(f.nbytes for _, f in self.frames)


def latest_snapshot_name(camera: str) -> str:
    """Where a camera's latest frame is kept, relative to the media directory (the camera page reads it)."""
    return f"snapshots/{camera}/latest.jpg"


def write_latest(media_dir: Path, camera: str, frame: np.ndarray, blur_faces: bool = True) -> Path:
    """Replace the camera's latest snapshot atomically (faces blurred), so a reader never sees half a file."""
    path = Path(media_dir) / latest_snapshot_name(camera)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(snapshot_jpeg(frame, blur_faces=blur_faces))
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
    frames: list[np.ndarray] = field(default_factory=list)


class MediaRecorder:
    """Per camera: keeps the ring, writes the snapshot at a start, and the clip once `post_s` have passed."""

    def __init__(self, media_dir: Path, camera: str, fps: float = 5.0, pre_s: float = 3.0, post_s: float = 3.0,
                 blur_faces: bool = True) -> None:
        self.media_dir = Path(media_dir)
        self.camera = camera
        self.fps = fps
        self.pre_s = pre_s
        self.post_s = post_s
        self.blur_faces = blur_faces
        self.ring = FrameRing(pre_s, fps)
        self._pending: list[_Pending] = []

    def feed(self, frame: np.ndarray, t: float) -> list[str]:
        """Add a frame; write the clips that are complete; return their relative paths."""
        self.ring.append(frame, t)
        done = []
        for p in list(self._pending):
            p.frames.append(frame)
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
        frame = self.ring.frames[-1][1]
        paths = []
        try:
            target = self.media_dir / snap_rel
            target.parent.mkdir(parents=True, exist_ok=True)
            data = snapshot_jpeg(frame, box, polygon, label, blur_faces=self.blur_faces, person=person)
            tmp = target.with_name(target.stem + ".part.jpg")
            tmp.write_bytes(data)
            os.replace(tmp, target)
            paths.append(snap_rel)
        except (OSError, ValueError, cv2.error) as exc:
            logger.warning("camera %s: snapshot not written: %s", self.camera, exc)
        if clip:
            pre = [f for _, f in self.ring.since(t - self.pre_s)]
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
            frames = [anonymise(f) for f in p.frames] if self.blur_faces else p.frames
            write_clip(frames, target, self.fps)
            return True
        except (OSError, cv2.error) as exc:
            logger.warning("camera %s: clip %s not written: %s", self.camera, target.name, exc)
            return False


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
