"""The live view's two Redis keys: "someone is watching camera X" and "camera X's latest frame".

The dashboard never opens a camera stream (it holds no stream URL and no credentials): a viewer sets
the watch key, the camera worker holding that camera sees it and stores a JPEG of its current frame
about once a second while the key lives, and the dashboard relays that key to the browser. Both keys
expire by themselves, so a crashed viewer or worker leaves nothing behind.

- `gridwatch:camera:watch:<code>`: the epoch second the watch began; TTL WATCH_TTL_S (the dashboard's
  GRIDWATCH_LIVE_WATCH_TTL_S), refreshed by the open view. Workers read only whether it exists.
- `gridwatch:camera:frame:<code>`: a hash `v` (layout version, 1), `seq`, `captured_at` (epoch seconds
  of the frame's capture), `worker`, `jpeg` (at most MAX_JPEG_BYTES); TTL FRAME_TTL_S.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

WATCH_KEY = "gridwatch:camera:watch:{code}"
FRAME_KEY = "gridwatch:camera:frame:{code}"
WATCH_TTL_S = 10
"""A view that stops refreshing (closed tab, dead dashboard) stops the worker's frames after this long."""
FRAME_TTL_S = 60
"""A frame older than this is gone: the view then says that no worker answers."""
MAX_JPEG_BYTES = 1_000_000
"""A frame bigger than this is neither stored nor served (a 640-pixel JPEG is 30-80 KB)."""
LAYOUT_VERSION = 1
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class BadFrame(ValueError):
    """A stored frame that does not read as one (wrong version, not a JPEG, too big)."""


@dataclass(frozen=True)
class LiveFrame:
    """One published frame of one camera."""

    seq: int
    captured_at: float
    worker: str
    jpeg: bytes

    def age_s(self, now: float | None = None) -> float:
        """Seconds since the frame was captured (never negative: clocks of two hosts may differ a little)."""
        return max(0.0, (time.time() if now is None else now) - self.captured_at)


def valid_code(code: str) -> bool:
    """True when `code` can name a camera key (the camera codes media names accept)."""
    return isinstance(code, str) and bool(_CODE.match(code))


def _key(template: str, code: str) -> str:
    if not valid_code(code):
        raise ValueError(f"camera code must be [A-Za-z0-9_.-]{{1,64}}, not {code!r}")
    return template.format(code=code)


def watch(client, code: str, now: float | None = None, ttl_s: int = WATCH_TTL_S) -> float:
    """Start or prolong a watch of `code` for `ttl_s` seconds; returns the epoch second the watch began."""
    key = _key(WATCH_KEY, code)
    now = time.time() if now is None else now
    # NX keeps the first viewer's start; the EXPIRE prolongs the watch for every viewer.
    with client.pipeline(transaction=True) as pipe:
        pipe.set(key, f"{now:.3f}", nx=True, ex=ttl_s)
        pipe.expire(key, ttl_s)
        pipe.get(key)
        _, _, started = pipe.execute()
    return float(started) if started else now


def watch_started(client, code: str) -> float | None:
    """When the current watch of `code` began, or None when nobody watches it."""
    raw = client.get(_key(WATCH_KEY, code))
    return float(raw) if raw else None


def watched(client, codes: list[str]) -> set[str]:
    """The codes among `codes` that someone is watching now (one MGET)."""
    codes = [c for c in codes if valid_code(c)]
    if not codes:
        return set()
    values = client.mget([WATCH_KEY.format(code=c) for c in codes])
    return {c for c, v in zip(codes, values) if v is not None}


def put_frame(client, code: str, frame: LiveFrame) -> None:
    """Store `frame` as the latest of `code` (`client` may be a pipeline); refuses an oversized one."""
    if len(frame.jpeg) > MAX_JPEG_BYTES or not frame.jpeg.startswith(b"\xff\xd8"):
        raise BadFrame(f"a live frame must be a JPEG of at most {MAX_JPEG_BYTES} bytes")
    key = _key(FRAME_KEY, code)
    client.hset(key, mapping={"v": LAYOUT_VERSION, "seq": frame.seq, "captured_at": f"{frame.captured_at:.3f}",
                              "worker": frame.worker, "jpeg": frame.jpeg})
    client.expire(key, FRAME_TTL_S)


def frame_head(client, code: str) -> tuple[int, float] | None:
    """(seq, captured_at) of the latest frame of `code` without its picture, or None."""
    seq, at = client.hmget(_key(FRAME_KEY, code), ["seq", "captured_at"])
    if seq is None or at is None:
        return None
    return int(seq), float(at)


def latest_frame(client, code: str) -> LiveFrame | None:
    """The latest frame of `code`, or None; BadFrame when the key holds something else."""
    v, seq, at, worker, jpeg = client.hmget(_key(FRAME_KEY, code), ["v", "seq", "captured_at", "worker", "jpeg"])
    if seq is None or jpeg is None:
        return None
    if v is None or int(v) != LAYOUT_VERSION:
        raise BadFrame(f"live frame of {code} has layout {v!r}, expected {LAYOUT_VERSION}")
    if len(jpeg) > MAX_JPEG_BYTES or not jpeg.startswith(b"\xff\xd8"):
        raise BadFrame(f"live frame of {code} is not a JPEG of at most {MAX_JPEG_BYTES} bytes")
    return LiveFrame(int(seq), float(at), (worker or b"").decode(), jpeg)
