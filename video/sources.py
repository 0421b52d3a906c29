"""Frame sources: rtsp://, http(s):// MJPEG and local files, sampled to an analysis rate and size.

A `FrameSource` yields `Sample`s forever (until stopped): a frame at the target rate, or a `None`
frame about once a second while the stream is down, so the caller's offline check keeps ticking.
It reconnects by itself with capped exponential backoff; a bad frame or a broken stream is logged
(with the URL redacted) and never raises out of `samples()`.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

logger = logging.getLogger(__name__)

FFMPEG_OPTIONS = "rtsp_transport;tcp|analyzeduration;500000"
"""OpenCV's FFmpeg capture options: TCP RTSP and short probing open a stream in 0.2-0.8 s, not 5 s."""

# OpenCV's FFmpeg backend is not safe to open concurrently, and the options live in the environment.
_OPEN_LOCK = threading.Lock()
_SECRET_PARAMS = re.compile(r"(?i)((?:^|[?&;])(?:password|passwd|pwd|pass|token|key|secret|auth|sig|signature)=)[^&;#]*")


def redact(url: str) -> str:
    """The URL with user, password and secret-looking query values replaced by '***'."""
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = "***@" + netloc.rsplit("@", 1)[1]
        query = _SECRET_PARAMS.sub(r"\1***", parts.query)
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        # An unparsable URL may still hold a secret: show only its scheme.
        return url.split("://", 1)[0] + "://***"


def is_live(url: str) -> bool:
    """True for network streams (rtsp, http); False for local files."""
    return url.lower().startswith(("rtsp://", "rtsps://", "http://", "https://"))


def local_path(url: str) -> str:
    """A file:// URL or plain path as a filesystem path."""
    return url[len("file://"):] if url.lower().startswith("file://") else url


@dataclass
class Backoff:
    """Capped exponential backoff with jitter, so many cameras do not reconnect in lockstep."""

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.1
    _next: float = 0.0

    def delay(self) -> float:
        """The next wait in seconds; each call grows it up to the cap."""
        base = self._next or self.initial
        self._next = min(self.cap, base * self.factor)
        return base * (1.0 + random.uniform(-self.jitter, self.jitter))

    def reset(self) -> None:
        """Back to the initial delay (after a successful read)."""
        self._next = 0.0


@dataclass(frozen=True)
class Sample:
    """One analysis instant: a BGR frame (None while the stream is down), monotonic t and wall time."""

    frame: np.ndarray | None
    t: float
    wall: float


def open_capture(url: str, open_timeout_s: float = 5.0, read_timeout_s: float = 5.0) -> cv2.VideoCapture | None:
    """Open a capture (serialised in this process); None when it does not open."""
    target = url if is_live(url) else local_path(url)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(open_timeout_s * 1000),
              cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(read_timeout_s * 1000)]
    with _OPEN_LOCK:
        # Set here, not by the caller: OpenCV reads it at every open, and only the open needs it.
        os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", FFMPEG_OPTIONS)
        try:
            cap = cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)
        except cv2.error as exc:
            logger.warning("cannot open %s: %s", redact(url), exc)
            return None
    if not cap.isOpened():
        cap.release()
        return None
    return cap


class FrameSource:
    """One camera stream: open, read, sample to `fps` and `width`, reconnect with backoff."""

    def __init__(self, url: str, fps: float = 5.0, width: int | None = 640, loop: bool = False,
                 realtime: bool | None = None, backoff: Backoff | None = None,
                 open_timeout_s: float = 5.0, read_timeout_s: float = 5.0, max_bad_reads: int = 3) -> None:
        self.url = url
        self.fps = fps
        self.width = width
        self.loop = loop
        self.live = is_live(url)
        # Files play at their own speed for demos; analysis of a clip wants realtime=False.
        self.realtime = self.live if realtime is None else realtime
        self.backoff = backoff or Backoff()
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self.max_bad_reads = max_bad_reads
        self.cap: cv2.VideoCapture | None = None
        self.connected = False
        self.reconnects = 0
        self.last_frame_at: float | None = None
        self.measured_fps = 0.0
        self._file_fps = 0.0
        self._file_index = 0

    @property
    def name(self) -> str:
        """The URL as it may be logged or shown."""
        return redact(self.url)

    def open(self) -> bool:
        """Open the stream once (no retry); True when it is ready to read."""
        self.close()
        self.cap = open_capture(self.url, self.open_timeout_s, self.read_timeout_s)
        if self.cap is None:
            return False
        self._file_fps = float(self.cap.get(cv2.CAP_PROP_FPS) or 0.0) if not self.live else 0.0
        if not (0.5 < self._file_fps < 240):
            self._file_fps = 25.0
        self._file_index = 0
        self.connected = True
        return True

    def close(self) -> None:
        """Release the capture."""
        if self.cap is not None:
            try:
                self.cap.release()
            except cv2.error:
                pass
        self.cap = None
        self.connected = False

    def read(self, decode: bool = True) -> np.ndarray | None:
        """One frame from the open stream (grab only when decode is False); None on failure, no reconnect."""
        if self.cap is None:
            return None
        try:
            if not decode:
                ok = self.cap.grab()
                frame = None
            else:
                ok, frame = self.cap.read()
        except cv2.error as exc:
            logger.debug("read failed on %s: %s", self.name, exc)
            return None
        if not ok:
            return None
        self._file_index += 1
        if decode and (frame is None or frame.size == 0 or frame.ndim not in (2, 3)):
            return None
        return frame if decode else np.empty(0, np.uint8)

    def _resize(self, frame: np.ndarray) -> np.ndarray:
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        h, w = frame.shape[:2]
        if not self.width or w <= self.width:
            return frame
        return cv2.resize(frame, (self.width, max(1, round(h * self.width / w))), interpolation=cv2.INTER_AREA)

    def samples(self, stop: threading.Event | None = None) -> Iterator[Sample]:
        """Samples at the target rate until stop is set (or a non-looping file ends); never raises."""
        stop = stop or threading.Event()
        period = 1.0 / self.fps
        next_due = 0.0      # live: monotonic seconds; file: seconds of file time
        clip_offset = 0.0   # file time of earlier loops, so t keeps growing across a loop
        opened_at = 0.0
        bad = 0
        last_none = 0.0
        last_good = time.monotonic()
        while not stop.is_set():
            try:
                if self.cap is None:
                    if not self.open():
                        delay = self.backoff.delay()
                        logger.warning("cannot open %s; retrying in %.1f s", self.name, delay)
                        yield from self._idle(stop, delay)
                        continue
                    logger.info("opened %s", self.name)
                    opened_at = time.monotonic() - clip_offset
                    last_good = time.monotonic()
                    next_due = time.monotonic() if self.live else max(next_due, clip_offset)
                    bad = 0
                now = time.monotonic()
                clip_t = clip_offset + self._file_index / self._file_fps
                due = now >= next_due if self.live else clip_t + 1e-6 >= next_due
                if due and not self.live and self.realtime:
                    # Pace a file at its own speed, as a camera would deliver it.
                    wait = opened_at + clip_t - now
                    if wait > 0 and stop.wait(wait):
                        break
                frame = self.read(decode=due)
                if frame is None:
                    bad += 1
                    if not self.live and self._file_index > 0:
                        if not self.loop:
                            logger.info("end of %s", self.name)
                            break
                        clip_offset = clip_t
                        self.close()  # reopen from the start: seeking is unreliable in some containers
                        continue
                    # A few failed reads, or one that blocked for the read timeout: the stream is gone.
                    if bad >= self.max_bad_reads or time.monotonic() - last_good >= self.read_timeout_s:
                        logger.warning("stream %s broke after %s bad reads; reconnecting", self.name, bad)
                        self.close()
                        self.reconnects += 1
                        yield from self._idle(stop, self.backoff.delay())
                        continue
                    now = time.monotonic()
                    if now - last_none >= 1.0:
                        last_none = now
                        yield Sample(None, now, time.time())
                    continue
                bad = 0
                last_good = time.monotonic()
                self.backoff.reset()
                if not due:
                    continue
                now = time.monotonic()
                if self.last_frame_at is not None:
                    inst = 1.0 / max(now - self.last_frame_at, 1e-3)
                    self.measured_fps = inst if self.measured_fps == 0 else 0.9 * self.measured_fps + 0.1 * inst
                self.last_frame_at = now
                if self.live:
                    # Skip missed slots after a stall instead of bursting to catch up.
                    next_due = max(next_due + period, now - period / 2)
                    t = now
                else:
                    next_due += period
                    t = now if self.realtime else clip_t
                yield Sample(self._resize(frame), t, time.time())
            except Exception:  # a broken stream must never stop the caller's loop
                logger.exception("source %s failed; reconnecting", self.name)
                self.close()
                yield from self._idle(stop, self.backoff.delay())
        self.close()

    def _idle(self, stop: threading.Event, seconds: float) -> Iterator[Sample]:
        """Wait while down, yielding a None sample about once a second."""
        end = time.monotonic() + seconds
        while not stop.is_set():
            now = time.monotonic()
            yield Sample(None, now, time.time())
            if now >= end or stop.wait(min(1.0, end - now)):
                return
