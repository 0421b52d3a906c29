"""Where a camera event happened on the map: the camera's own position, or its foot point mapped
through the camera's calibration homography when the camera has one."""

from __future__ import annotations

import functools
import json
import logging

from video.calibration import Calibration, CalibrationError
from video.config import CalibrationPair

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4096)
def _calibration(pairs_json: str, lon: float, lat: float) -> Calibration:
    pairs = [CalibrationPair.model_validate(p) for p in json.loads(pairs_json)]
    try:
        return Calibration(pairs if len(pairs) >= 4 else [], (lon, lat))
    except CalibrationError as exc:
        # A bad calibration must not lose the event: fall back to the pole's position.
        logger.warning("camera calibration unusable (%s); using the camera position", exc)
        return Calibration([], (lon, lat))


def camera_point(lon: float, lat: float, config: dict, foot: tuple[float, float] | None) -> tuple[float, float]:
    """Map position of an event: the foot point through the homography, else the camera's position."""
    if foot is None:
        return lon, lat
    calib = _calibration(json.dumps(config.get("calibration") or [], sort_keys=True), lon, lat)
    x, y = calib.to_lonlat([foot])[0]
    return float(x), float(y)
