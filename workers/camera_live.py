"""The camera worker's side of the live view: frames for cameras someone is watching.

A runner thread only computes: while its camera is watched, it encodes its current frame (privacy blur
as in today's snapshots) about once a second and leaves it in `LiveTap.latest`, one frame deep, so a
slow Redis never queues pictures up. The worker's main thread, which does all I/O, asks Redis which of
its cameras are watched and writes the newest frame of each (`LiveRelay.tick`). See
geodata/camera_frames.py for the keys.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from geodata import camera_frames
from video.media import Privacy, snapshot_jpeg

logger = logging.getLogger(__name__)

LIVE_EVERY_S = 1.0
"""One frame a second: enough to see the place now, and cheap to encode at analysis width."""
WATCH_POLL_S = 0.25
"""How often the main thread asks which cameras are watched (one MGET); bounds the time to first image."""
LIVE_QUALITY = 75


class LiveTap:
    """In a runner: the latest encoded frame while someone watches, for the main thread to pick up."""

    def __init__(self, privacy: Privacy, every_s: float = LIVE_EVERY_S) -> None:
        self.privacy = privacy
        self.every_s = every_s
        self.wanted = threading.Event()
        # Replaced whole (one reference), so the main thread reads a consistent frame without a lock.
        self.latest: camera_frames.LiveFrame | None = None
        self._seq = 0
        self._at = float("-inf")

    def feed(self, frame: np.ndarray, t: float, wall: float, people: np.ndarray | None) -> None:
        """Encode this frame if the camera is watched and a second has passed since the last one."""
        if not self.wanted.is_set():
            self._at = float("-inf")  # the next watch starts with the very next frame
            return
        if t - self._at < self.every_s:
            return
        self._at = t
        try:
            jpeg = snapshot_jpeg(frame, privacy=self.privacy, people=people, quality=LIVE_QUALITY)
        except Exception:
            # A picture for a viewer must never cost the frame's events: log and skip this second.
            logger.exception("live frame not encoded")
            return
        self._seq += 1
        self.latest = camera_frames.LiveFrame(self._seq, wall, "", jpeg)


class LiveRelay:
    """In the worker's main thread: tells runners whether they are watched and stores their frames."""

    def __init__(self, client, worker_id: str, poll_s: float = WATCH_POLL_S) -> None:
        self.client = client
        self.worker_id = worker_id
        self.poll_s = poll_s
        self._polled = float("-inf")
        self._sent: dict[str, tuple[int, int]] = {}  # code -> (runner gen, seq) last written

    def tick(self, runners: dict) -> None:
        """Poll the watch keys when due, then write each watched runner's new frame (one pipeline)."""
        now = time.monotonic()
        if now - self._polled >= self.poll_s:
            self._polled = now
            watched = camera_frames.watched(self.client, list(runners))
            for code, runner in runners.items():
                (runner.live.wanted.set if code in watched else runner.live.wanted.clear)()
        fresh = []
        for code, runner in runners.items():
            frame = runner.live.latest
            if frame is None or not runner.live.wanted.is_set():
                continue
            mark = (runner.gen, frame.seq)
            if self._sent.get(code) != mark:
                fresh.append((code, mark, frame))
        if not fresh:
            return
        with self.client.pipeline(transaction=False) as pipe:
            for code, _, frame in fresh:
                try:
                    camera_frames.put_frame(pipe, code, camera_frames.LiveFrame(
                        frame.seq, frame.captured_at, self.worker_id, frame.jpeg))
                except camera_frames.BadFrame as exc:
                    logger.warning("camera %s: live frame dropped: %s", code, exc)
            pipe.execute()
        for code, mark, _ in fresh:
            self._sent[code] = mark
        for code in [c for c in self._sent if c not in runners]:
            del self._sent[code]
