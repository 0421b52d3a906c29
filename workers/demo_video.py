"""Camera streams for the demo: a few synthetic scenes written as looping clips and given to cameras.

The seeded cameras point at Sharp Eyes streams that do not exist on a demo machine; the demo gives
its first cameras clips instead (people walking through a gate, a group gathering, someone
lingering, a lens being covered), so camera-born incidents and a maintenance case reach the wall.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import psycopg

from geodata.cameras import first_positions, save_cameras
from video.synthetic import build
from video.synthetic.scenes import FPS

logger = logging.getLogger(__name__)

SCENES = (("walk_through", 101), ("gathering", 102), ("lingering", 103), ("covered", 104))


def write_clip(scene, path: Path) -> Path:
    """Render one synthetic scene to an MJPEG .avi (OpenCV writes it without an H.264 encoder)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.avi")
    writer = None
    for frame, _ in scene.frames():
        if writer is None:
            h, w = frame.shape[:2]
            writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (w, h))
        writer.write(frame)
    if writer is None:
        raise RuntimeError(f"scene {scene.name} produced no frames")
    writer.release()
    tmp.replace(path)
    return path


def prepare(conn: psycopg.Connection, home: Path) -> list[str]:
    """Give the first cameras demo clips (made once); return their codes."""
    configs = []
    for (scene_name, seed), cam in zip(SCENES, first_positions(conn, len(SCENES))):
        path = home / "demo-video" / f"{scene_name}-{seed}.avi"
        scene = build(scene_name, seed)
        if not path.exists():
            logger.info("writing demo clip %s", path)
            write_clip(scene, path)
        configs.append(scene.config.model_copy(update={
            "code": cam["code"], "name": cam["name"], "url": str(path), "lon": cam["lon"], "lat": cam["lat"],
            "heading": cam["heading"]}))
    if configs:
        save_cameras(conn, configs, replace=True)
    return [c.code for c in configs]
