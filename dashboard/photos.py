"""Uploaded photos: judged from their header before anything decodes them, then decoded, then stored.

A small file can declare a huge image (a 48 KB PNG of 20000x20000 pixels costs 1.6 GB decoded), so
the header's size is checked against MAX_PIXELS first. The decoded image must then be what the header
said (format and size), and a PNG must end with its IEND chunk (a PNG with a ZIP or a page appended,
a polyglot, is refused; JPEG is not held to that, since phone cameras legitimately append data after
the end-of-image marker, and a JPEG is only ever served as image/jpeg with nosniff). Files are written only after the whole request was accepted
(`store`), and removed again when what follows fails (`discard`).
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 megapixels: more than any tablet camera takes
_EXT = {"JPEG": ".jpg", "PNG": ".png"}
_PNG_END = b"IEND\xaeB`\x82"


class PhotoRefused(ValueError):
    """An upload that is not an acceptable photo; `code` is an i18n key, `status` the HTTP status."""

    def __init__(self, code: str, status: int = 400, **params):
        super().__init__(code)
        self.code, self.status, self.params = code, status, params


@dataclass(frozen=True)
class Photo:
    """A checked photo, not yet on disk: its bytes and the media name it will be stored under."""

    blob: bytes
    name: str


def _trailing(blob: bytes, fmt: str) -> bool:
    # Data after the first IEND is how polyglots hide a second file in a valid PNG; a PNG without
    # IEND is truncated, which decoding refuses.
    end = blob.find(_PNG_END) if fmt == "PNG" else -1
    return end >= 0 and end + len(_PNG_END) != len(blob)


def check(blob: bytes, *, max_pixels: int = MAX_PIXELS, now: datetime | None = None) -> Photo:
    """Check an upload (size, header, pixel count, decoding, trailing data); return it with its name."""
    if len(blob) > MAX_BYTES:
        raise PhotoRefused("field.photo_large", 413)
    try:
        with Image.open(io.BytesIO(blob)) as head:  # reads the header only
            fmt, (width, height) = head.format, head.size
    except Image.DecompressionBombError:
        # Pillow's own guard (more than twice its limit) fires before it tells the size.
        raise PhotoRefused("api.photo_bomb", 413, limit=max_pixels // 1_000_000) from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise PhotoRefused("api.bad_photo") from None
    if fmt not in _EXT:
        raise PhotoRefused("api.bad_photo")
    if width * height > max_pixels:
        raise PhotoRefused("api.photo_pixels", 413, width=width, height=height, limit=max_pixels // 1_000_000)
    if _trailing(blob, fmt):
        raise PhotoRefused("api.photo_trailing")
    img = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_COLOR)
    if img is None or img.shape[:2] != (height, width):
        # Decoding is the last check: a truncated file, or one whose data is not what its header says.
        raise PhotoRefused("api.bad_photo")
    day = (now or datetime.now(timezone.utc)).strftime("%Y%m%d")
    return Photo(blob, f"field/{day}/{uuid.uuid4().hex}{_EXT[fmt]}")


def store(media_dir: Path, photos: list[Photo]) -> list[Path]:
    """Write checked photos under the media directory; returns the files written."""
    written: list[Path] = []
    try:
        for p in photos:
            path = media_dir / p.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(p.blob)
            written.append(path)
    except OSError:
        discard(written)
        raise
    return written


def discard(paths: list[Path]) -> None:
    """Remove files written for a request that then failed."""
    for path in paths:
        path.unlink(missing_ok=True)
