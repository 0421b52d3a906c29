"""Sprites for synthetic scenes: people HOG finds (real crops or drawn figures), a car, a bag."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger(__name__)

Sprite = tuple[np.ndarray, np.ndarray]  # BGR image, alpha 0-255

# Moments of the CC-BY indoor clip where one person stands clear of the table (seconds).
_INDOOR_STANDING = (12.0, 30.0, 36.0, 58.0, 80.0, 100.0, 110.0, 128.0)
_INDOOR_EMPTY = (2.0, 3.0, 4.0, 47.0, 48.0, 90.0)


def drawn_person(height: int, phase: float, colours: tuple) -> Sprite:
    """A procedurally drawn standing or walking person, height px tall, legs swinging with phase."""
    shirt, pants, skin, hair = colours
    h = float(height)
    W, H = int(h * 0.5) + 4, int(h) + 4
    img = np.zeros((H, W, 3), np.uint8)
    alpha = np.zeros((H, W), np.uint8)
    cx = W / 2

    def poly(pts, col):
        p = np.array(pts, np.int32)
        cv2.fillPoly(img, [p], col, cv2.LINE_AA)
        cv2.fillPoly(alpha, [p], 255, cv2.LINE_AA)

    def ell(c, ax, col):
        args = ((int(c[0]), int(c[1])), (max(1, int(ax[0])), max(1, int(ax[1]))), 0, 0, 360)
        cv2.ellipse(img, *args, col, -1, cv2.LINE_AA)
        cv2.ellipse(alpha, *args, 255, -1, cv2.LINE_AA)

    hr = h * 0.065
    shoulder, hip_w = h * 0.13, h * 0.1
    top = 2 + hr * 2.1
    sh_y, hip_y, foot = top + h * 0.03, 2 + h * 0.52, 2 + h - 1
    swing = np.sin(phase)
    for side in (-1, 1):
        hx = cx + side * hip_w * 0.5
        fx = hx + swing * side * h * 0.09
        poly([(hx - h * 0.045, hip_y), (hx + h * 0.045, hip_y), (fx + h * 0.035, foot), (fx - h * 0.035, foot)], pants)
        ell((fx + side * h * 0.01, foot - h * 0.01), (h * 0.045, h * 0.018), (30, 30, 30))
    poly([(cx - shoulder, sh_y + h * 0.02), (cx - shoulder * 0.9, sh_y), (cx + shoulder * 0.9, sh_y),
          (cx + shoulder, sh_y + h * 0.02), (cx + hip_w * 1.05, hip_y + h * 0.02), (cx - hip_w * 1.05, hip_y + h * 0.02)],
         shirt)
    for side in (-1, 1):
        ax = cx + side * shoulder * 0.95
        hx = ax + side * h * 0.03 - swing * side * h * 0.05
        poly([(ax - h * 0.03, sh_y + h * 0.01), (ax + h * 0.03, sh_y + h * 0.01), (hx + h * 0.025, 2 + h * 0.5),
              (hx - h * 0.025, 2 + h * 0.5)], shirt)
        ell((hx, 2 + h * 0.51), (h * 0.022, h * 0.03), skin)
    poly([(cx - h * 0.025, top - hr * 0.3), (cx + h * 0.025, top - hr * 0.3), (cx + h * 0.025, sh_y + 2),
          (cx - h * 0.025, sh_y + 2)], skin)
    ell((cx, 2 + hr), (hr * 0.85, hr), skin)
    cv2.ellipse(img, (int(cx), int(2 + hr)), (int(hr * 0.9), int(hr * 1.02)), 0, 180, 360, hair, -1, cv2.LINE_AA)
    return img, alpha


def person_colours(rng: np.random.Generator) -> tuple:
    """Clothes whose brightness differs from the grey pavement (~120) by 35 levels or more.

    HOG sees edges of brightness more than of hue: teal trousers as bright as the pavement (the old
    palette had two such colours) left a standing figure that neither HOG nor a rule could see.
    """
    palette = [(40, 40, 160), (150, 60, 30), (40, 120, 40), (30, 30, 30), (120, 40, 120), (10, 60, 150),
               (120, 100, 20), (60, 60, 90), (200, 200, 210), (30, 60, 110)]
    i, j = rng.choice(len(palette), 2, replace=False)
    skin = [(140, 170, 210), (90, 120, 170), (110, 150, 200)][int(rng.integers(3))]
    hair = [(20, 20, 30), (40, 60, 90), (30, 30, 40)][int(rng.integers(3))]
    return palette[i], palette[j], skin, hair


@functools.lru_cache(maxsize=2)
def real_people(clip: str) -> tuple[Sprite, ...]:
    """Person cut-outs made from the CC-BY indoor clip: HOG box, minus the empty-room background."""
    path = Path(clip)
    if not path.exists():
        return ()
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 10.0

    def frame_at(t: float) -> np.ndarray | None:
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(t * fps))
        ok, f = cap.read()
        return f if ok else None

    empties = [f for f in (frame_at(t) for t in _INDOOR_EMPTY) if f is not None]
    if not empties:
        return ()
    bg = np.median(np.stack(empties), axis=0).astype(np.int16)
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    sprites = []
    for t in _INDOOR_STANDING:
        f = frame_at(t)
        if f is None:
            continue
        diff = np.abs(f.astype(np.int16) - bg).max(axis=2)
        mask = cv2.morphologyEx((diff > 35).astype(np.uint8) * 255, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
        if n < 2:
            continue
        k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        x, y, w, h = stats[k, :4]
        if h < 0.5 * f.shape[0] or w > h:
            continue
        alpha = np.where(labels[y:y + h, x:x + w] == k, 255, 0).astype(np.uint8)
        sprites.append((f[y:y + h, x:x + w].copy(), cv2.GaussianBlur(alpha, (3, 3), 0)))
    cap.release()
    logger.debug("cut %s person sprites from %s", len(sprites), path)
    return tuple(sprites)


def car(length: int, colour: tuple) -> Sprite:
    """A side view of a saloon car, length px long."""
    L = float(length)
    H = int(L * 0.42)
    img = np.zeros((H, int(L), 3), np.uint8)
    alpha = np.zeros((H, int(L)), np.uint8)
    body = np.array([(0, H * 0.45), (L * 0.22, H * 0.4), (L * 0.32, H * 0.05), (L * 0.72, H * 0.05),
                     (L * 0.84, H * 0.4), (L - 1, H * 0.5), (L - 1, H * 0.8), (0, H * 0.8)], np.int32)
    cv2.fillPoly(img, [body], colour, cv2.LINE_AA)
    cv2.fillPoly(alpha, [body], 255, cv2.LINE_AA)
    for x0, x1 in ((0.35, 0.51), (0.54, 0.7)):
        win = np.array([(L * x0, H * 0.12), (L * x1, H * 0.12), (L * x1, H * 0.38), (L * x0 - L * 0.04, H * 0.38)],
                       np.int32)
        cv2.fillPoly(img, [win], (70, 50, 40), cv2.LINE_AA)
    for cxw in (0.2, 0.8):
        c = (int(L * cxw), int(H * 0.8))
        cv2.circle(img, c, int(H * 0.19), (25, 25, 25), -1, cv2.LINE_AA)
        cv2.circle(alpha, c, int(H * 0.19), 255, -1, cv2.LINE_AA)
        cv2.circle(img, c, int(H * 0.08), (150, 150, 150), -1, cv2.LINE_AA)
    cv2.rectangle(img, (int(L * 0.93), int(H * 0.5)), (int(L - 2), int(H * 0.6)), (60, 200, 230), -1)
    return img, alpha


def bag(width: int, colour: tuple) -> Sprite:
    """A holdall bag with a handle, width px wide."""
    w, h = int(width), int(width * 0.8)
    img = np.zeros((h, w, 3), np.uint8)
    alpha = np.zeros((h, w), np.uint8)
    cv2.rectangle(img, (0, int(h * 0.3)), (w - 1, h - 1), colour, -1)
    cv2.rectangle(alpha, (0, int(h * 0.3)), (w - 1, h - 1), 255, -1)
    cv2.ellipse(img, (w // 2, int(h * 0.3)), (w // 4, int(h * 0.25)), 0, 180, 360, (20, 20, 20), 2)
    cv2.ellipse(alpha, (w // 2, int(h * 0.3)), (w // 4, int(h * 0.25)), 0, 180, 360, 255, 2)
    cv2.line(img, (2, int(h * 0.55)), (w - 3, int(h * 0.55)), (200, 200, 200), 1)
    return img, alpha


def scaled(sprite: Sprite, height: int) -> Sprite:
    """The sprite resized to a height in pixels."""
    img, alpha = sprite
    f = height / img.shape[0]
    size = (max(1, int(round(img.shape[1] * f))), max(1, int(height)))
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR
    return cv2.resize(img, size, interpolation=interp), cv2.resize(alpha, size, interpolation=interp)


def paste(frame: np.ndarray, sprite: Sprite, x: int, y: int) -> None:
    """Alpha-blend a sprite onto frame with its top-left at (x, y), clipped to the frame."""
    img, alpha = sprite
    H, W = frame.shape[:2]
    h, w = alpha.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    a = alpha[y0 - y:y1 - y, x0 - x:x1 - x, None].astype(np.float32) / 255.0
    roi = frame[y0:y1, x0:x1]
    roi[:] = (roi * (1 - a) + img[y0 - y:y1 - y, x0 - x:x1 - x] * a).astype(np.uint8)
