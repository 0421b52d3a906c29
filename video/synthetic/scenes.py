"""Synthetic fixed-camera scenes with ground truth, for testing the analytics end to end."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from video.config import CameraConfig, parse_config
from video.rules import Person, RuleEngine, StillObject
from video.situations import SituationTracker
from video.synthetic import sprites as sp

logger = logging.getLogger(__name__)

W, H = 480, 270
FPS = 5.0
HORIZON = 0.42
INDOOR_CLIP = Path(__file__).resolve().parents[3] / "shared" / "video" / "indoor-people-one-by-one.mp4"
SCENARIOS = ("walk_through", "gathering", "lingering", "bag_left", "car_stop", "covered", "blurred", "frozen", "turned")

CONFIG = {
    "code": "SYN-CAM-0001", "name": "synthetic plaza", "url": "synthetic.mp4", "lon": 114.35, "lat": 22.70,
    "heading": 90, "fps": FPS,
    "zones": [
        {"name": "gate", "polygon": [[0.66, 0.45], [0.99, 0.45], [0.99, 1.0], [0.66, 1.0]],
         "rules": [{"kind": "intrusion"}]},
        {"name": "plaza", "polygon": [[0.01, 0.45], [0.99, 0.45], [0.99, 1.0], [0.01, 1.0]],
         "rules": [{"kind": "loitering", "seconds": 12}, {"kind": "crowd", "min_people": 4, "seconds": 3},
                   {"kind": "object_left", "seconds": 6}, {"kind": "vehicle_stopped", "seconds": 6}]},
    ],
    "health": {"offline": 5, "frozen": 3, "covered": 3, "blurred": 3, "moved": 3},
}


@dataclass
class Actor:
    """Something that moves through the scene along keyframes (t, x, foot_y) in pixels."""

    kind: str  # person, bag, car
    keys: list[tuple[float, float, float]]
    sprite: object = None
    colours: tuple = ()
    size: float = 0.0

    def at(self, t: float) -> tuple[float, float] | None:
        """Foot position at time t, None when off stage."""
        ts = [k[0] for k in self.keys]
        if t < ts[0] or t > ts[-1]:
            return None
        x = float(np.interp(t, ts, [k[1] for k in self.keys]))
        y = float(np.interp(t, ts, [k[2] for k in self.keys]))
        return x, y

    def moving(self, t: float, dt: float = 0.2) -> bool:
        """True when the actor's position changes around t."""
        a, b = self.at(t), self.at(t + dt)
        return a is not None and b is not None and (abs(a[0] - b[0]) + abs(a[1] - b[1])) > 0.05


@dataclass
class Scene:
    """A generated clip: frames, the camera config and the situations it should produce."""

    name: str
    seed: int
    duration: float
    config: CameraConfig
    truth: list[dict]
    actors: list[Actor] = field(default_factory=list)
    effects: dict[str, tuple[float, float]] = field(default_factory=dict)
    people_source: str = "drawn"
    _rng: np.random.Generator | None = None

    def frames(self) -> Iterator[tuple[np.ndarray, float]]:
        """(BGR frame, seconds) at the scene's rate; deterministic for the seed."""
        rng = np.random.default_rng(self.seed + 1000)
        pano = _backdrop(np.random.default_rng(self.seed))
        frozen_frame = None
        n = int(round(self.duration * FPS))
        for i in range(n):
            t = i / FPS
            if "frozen" in self.effects and _within(t, self.effects["frozen"]) and frozen_frame is not None:
                yield frozen_frame, t
                continue
            shift = 150 if "turned" in self.effects and t >= self.effects["turned"][0] else 0
            frame = pano[:, shift:shift + W].copy()
            if shift:
                # A turned camera pans and tilts a little: shift plus a slight roll.
                rot = cv2.getRotationMatrix2D((W / 2, H / 2), 4.0, 1.08)
                frame = cv2.warpAffine(frame, rot, (W, H), borderMode=cv2.BORDER_REFLECT)
            for actor in self.actors:
                self._draw(frame, actor, t)
            # Lighting drift and sensor noise: a real still camera never repeats a frame exactly.
            # Uniform integer noise in [-3, 3] has the std of 2 grey levels and costs a tenth of normal().
            gain = 1.0 + 0.04 * np.sin(t / 7.0 + self.seed)
            noisy = cv2.convertScaleAbs(frame, alpha=gain).astype(np.int16) + rng.integers(-3, 4, frame.shape, np.int16)
            frame = np.clip(noisy, 0, 255).astype(np.uint8)
            if "blurred" in self.effects and _within(t, self.effects["blurred"]):
                frame = cv2.GaussianBlur(frame, (0, 0), 5.0)
            if "covered" in self.effects and _within(t, self.effects["covered"]):
                frame = np.clip(rng.normal(14, 2.0, frame.shape), 0, 255).astype(np.uint8)
            frozen_frame = frame
            yield frame, t

    def _draw(self, frame: np.ndarray, actor: Actor, t: float) -> None:
        pos = actor.at(t)
        if pos is None:
            return
        x, y = pos
        height = int(round(_height(actor, y)))
        if actor.kind == "person":
            if self.people_source == "real" and actor.sprite is not None:
                sprite = sp.scaled(actor.sprite, height)
            else:
                phase = t * 6.0 if actor.moving(t) else 0.0
                sprite = sp.drawn_person(height, phase, actor.colours)
        else:
            sprite = sp.scaled(actor.sprite, height)
        sp.paste(frame, sprite, int(x - sprite[1].shape[1] / 2), int(y - sprite[1].shape[0]))

    def box(self, actor: Actor, t: float) -> tuple[float, float, float, float] | None:
        """The actor's true box in 0-1 coordinates at time t."""
        pos = actor.at(t)
        if pos is None:
            return None
        x, y = pos
        h = _height(actor, y)
        w = h * {"person": 0.4, "car": 2.4, "bag": 1.25}[actor.kind]
        return (x - w / 2) / W, (y - h) / H, (x + w / 2) / W, y / H


def _within(t: float, span: tuple[float, float]) -> bool:
    return span[0] <= t < span[1]


def _height(actor: Actor, foot_y: float) -> float:
    # Simple perspective: things grow linearly from the horizon to the bottom edge.
    depth = (foot_y / H - HORIZON) / (1 - HORIZON)
    return actor.size * (0.45 + 0.75 * depth)


def _backdrop(rng: np.random.Generator) -> np.ndarray:
    """A wide street scene (buildings, windows, pavement tiles) that a turned camera pans across."""
    pw = W + 160
    img = np.zeros((H, pw, 3), np.float32)
    hy = int(H * HORIZON)
    img[:hy] = np.linspace(200, 170, hy)[:, None, None] * np.array([1.0, 0.97, 0.92])
    x = 0
    while x < pw:
        bw = int(rng.integers(50, 110))
        top = int(rng.integers(10, hy - 30))
        col = rng.integers(90, 190, 3).astype(np.float32)
        img[top:hy, x:x + bw] = col
        for wy in range(top + 8, hy - 10, 18):
            for wx in range(x + 6, x + bw - 12, 16):
                img[wy:wy + 9, wx:wx + 8] = col * 0.45
        x += bw + int(rng.integers(0, 12))
    img[hy:] = np.array([118, 122, 126], np.float32)
    for ty in range(hy, H, 22):
        img[ty:ty + 1, :] *= 0.8
    for tx in range(0, pw, 34):
        img[hy:, tx:tx + 1] *= 0.85
    img[hy:] += rng.normal(0, 3.0, img[hy:].shape)
    img = cv2.GaussianBlur(img, (3, 3), 0)
    return np.clip(img, 0, 255).astype(np.uint8)


class _Cast:
    """Makes people for one scene: real cut-outs when the clip is there (or asked for), else drawn."""

    def __init__(self, rng: np.random.Generator, source: str) -> None:
        self.rng = rng
        self.real = sp.real_people(str(INDOOR_CLIP)) if source in ("auto", "real") else ()
        self.source = "real" if self.real else "drawn"

    def person(self, keys: list[tuple[float, float, float]]) -> Actor:
        sprite = self.real[int(self.rng.integers(len(self.real)))] if self.real else None
        return Actor("person", keys, sprite, sp.person_colours(self.rng), float(self.rng.uniform(112, 128)))


def _walk(rng, t0: float, x0: float, x1: float, y0: float, y1: float, speed: float) -> list[tuple[float, float, float]]:
    dur = max(abs(x1 - x0), abs(y1 - y0)) / speed
    return [(t0, x0, y0), (t0 + dur, x1, y1)]


def build(name: str, seed: int, people: str = "auto") -> Scene:
    """Generate the named scenario for a seed; people: 'auto' (real crops if available), 'real', 'drawn'."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    rng = np.random.default_rng(seed)
    cast = _Cast(rng, people)
    config = parse_config(CONFIG, "synthetic")
    actors: list[Actor] = []
    effects: dict[str, tuple[float, float]] = {}
    duration = 30.0
    ground = (H * 0.62, H * 0.95)
    if name == "walk_through":
        t = 1.0
        for _ in range(3):
            y = float(rng.uniform(*ground))
            left = bool(rng.integers(2))
            keys = _walk(rng, t, -30 if left else W + 30, W + 30 if left else -30, y, y + rng.uniform(-10, 10),
                         float(rng.uniform(45, 70)))
            actors.append(cast.person(keys))
            t = keys[-1][0] + float(rng.uniform(5.0, 7.0))
        duration = t + 2.0
    elif name == "gathering":
        n = int(rng.integers(4, 6))
        meet, leave = 6.0 + rng.uniform(0, 2), 20.0 + rng.uniform(0, 3)
        xs = np.linspace(70, W - 70, n) + rng.uniform(-8, 8, n)
        for i, x in enumerate(xs):
            y = float(rng.uniform(H * 0.7, H * 0.9))
            start = -30 if x < W / 2 else W + 30
            arrive = meet - rng.uniform(0, 1.5)
            actors.append(cast.person([(arrive - abs(x - start) / 80, start, y), (arrive, x, y),
                                       (leave + i * 0.3, x, y), (leave + i * 0.3 + abs(x - start) / 80, start, y)]))
        duration = leave + 10.0
    elif name == "lingering":
        y = float(rng.uniform(H * 0.7, H * 0.85))
        x0, x1 = float(rng.uniform(80, 160)), float(rng.uniform(220, 300))
        actors.append(cast.person([(1.0, -30, y), (3.0, x0, y), (10.0, x0 + 20, y + 8), (14.0, x1, y),
                                   (24.0, x1 - 30, y - 6), (26.0, x1, y), (30.0, W + 30, y)]))
        duration = 33.0
    elif name == "bag_left":
        y = float(rng.uniform(H * 0.72, H * 0.9))
        xd = float(rng.uniform(120, 260))
        drop = 5.0 + float(rng.uniform(0, 2))
        walker = cast.person([(drop - xd / 60, -30, y), (drop, xd, y), (drop + 1.0, xd, y), (drop + 6.0, W + 30, y)])
        keys = [(drop - xd / 60, -30 + 14, y), (drop, xd + 14, y), (drop + 22.0, xd + 14, y)]
        actors += [walker, Actor("bag", keys, sp.bag(40, (40, 60, 140)), size=30.0)]
        effects["object"] = (drop, drop + 22.0)
        duration = drop + 22.0
    elif name == "car_stop":
        y = float(rng.uniform(H * 0.78, H * 0.9))
        xs = float(rng.uniform(180, 300))
        stop, go = 4.0 + float(rng.uniform(0, 2)), 22.0 + float(rng.uniform(0, 3))
        palette = [(235, 235, 240), (30, 30, 170), (140, 60, 20), (25, 25, 25), (40, 120, 200), (60, 90, 40)]
        colour = palette[int(rng.integers(len(palette)))]
        keys = [(stop - (xs + 120) / 90, -120, y), (stop, xs, y), (go, xs, y), (go + (W + 120 - xs) / 90, W + 120, y)]
        actors.append(Actor("car", keys, sp.car(200, colour), size=70.0))
        duration = go + 6.0
    else:
        # Health scenes: a person walks by before the fault, then the fault, then normal again.
        y = float(rng.uniform(*ground))
        actors.append(cast.person(_walk(rng, 0.5, -30, W + 30, y, y, 90.0)))
        start = 9.0 + float(rng.uniform(0, 2))
        end = W + 99.0 if name == "turned" else start + 9.0 + float(rng.uniform(0, 3))
        duration = (start + 10.0) if name == "turned" else end + 4.0
        effects[name] = (start, min(end, duration))
    scene = Scene(name, seed, duration, config, [], actors, effects, cast.source)
    scene.truth = _truth(scene)
    return scene


def _truth(scene: Scene) -> list[dict]:
    """Run the rule semantics on the true positions: the situations a perfect detector would raise."""
    # True identities and exact counts: the memory and id-switch handover exist for real detectors only.
    engine = RuleEngine(scene.config, memory_s=0.0, handover=False)
    tracker = SituationTracker(scene.config.code)
    ends = []
    n = int(round(scene.duration * FPS))
    for i in range(n):
        t = i / FPS
        people, objects = [], []
        for k, actor in enumerate(scene.actors):
            box = scene.box(actor, t)
            if box is None or box[2] < 0 or box[0] > 1:
                continue
            if actor.kind == "person":
                people.append(Person(k, box, 1.0))
            elif not actor.moving(t):
                kind = "vehicle" if actor.kind == "car" else "object"
                objects.append(StillObject(kind, box, _still_since(actor, t)))
        hits = engine.evaluate(t, people, objects)
        ends += [e for e in tracker.update(hits, t) if e.phase == "end"]
    ends += tracker.finish((n - 1) / FPS)
    truth = [e.as_line() for e in ends]
    hold = {c: float(getattr(scene.config.health, c)) for c in ("frozen", "covered", "blurred", "moved")}
    hold["turned"] = hold["moved"]
    for effect, (a, b) in scene.effects.items():
        if effect in hold:
            rule = "moved" if effect == "turned" else effect
            truth.append({"rule": rule, "zone": None, "start_s": a + hold[effect], "end_s": min(b, scene.duration)})
    return truth


def _still_since(actor: Actor, t: float) -> float:
    since = t
    while since > actor.keys[0][0] and not actor.moving(since - 0.2):
        since -= 0.2
    return since

