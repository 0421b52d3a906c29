"""Vehicle or object: what a still blob is, by its size on the ground, a detector's class, or its share of the frame.

Three sources, best first. With the camera's calibration (a homography to the ground), a blob is
measured in metres: a car is about 4-5 m by 1.7-2 m, a dumped bag or box well under 1 m. With a
detector that names vehicles (an ONNX model), a blob its `vehicle` box covers is a vehicle. Without
either, each zone's `vehicle_area` and `object_area` ranges (shares of the frame's area) decide.
Shape is never asked: a car seen from above is as tall as it is wide.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from video.calibration import Calibration
from video.config import Zone

logger = logging.getLogger(__name__)

Box = tuple[float, float, float, float]

_M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class FootprintRule:
    """Sizes on the ground, metres: an object fits in `object_max_m`; a vehicle is at least so wide and so long."""

    object_max_m: float = 1.2
    vehicle_min_width_m: float = 1.4
    vehicle_min_length_m: float = 3.0
    vehicle_max_length_m: float = 20.0

    def kind(self, width_m: float, depth_m: float | None) -> str | None:
        """'vehicle', 'object' or None for a blob whose foot line is width_m and depth depth_m (None: unknown)."""
        # The foot line lies on the ground and is exact; the depth of a box seen at a slant also holds
        # the thing's height, so it may come out longer than the thing is: generous upper bounds.
        longest = max(width_m, depth_m or 0.0)
        if width_m <= self.object_max_m and (depth_m is None or depth_m <= 2.5 * self.object_max_m):
            return "object"
        shortest = width_m if depth_m is None else min(width_m, depth_m)
        if (shortest >= self.vehicle_min_width_m and self.vehicle_min_length_m <= longest
                and width_m <= self.vehicle_max_length_m):
            return "vehicle"
        return None


def footprint_m(calibration: Calibration, box: Box) -> tuple[float, float | None] | None:
    """(width along the foot line, depth from foot to top) in metres on the ground, or None when the foot is off it.

    The depth is None when the box's top is above the horizon.
    """
    if not calibration.calibrated:
        return None
    x1, y1, x2, y2 = box
    xc = (x1 + x2) / 2
    pts = np.array([[x1, y2], [x2, y2], [xc, y2], [xc, y1]], np.float64)
    ground = calibration.on_ground(pts)
    if not ground[:3].all():
        return None
    ll = calibration.to_lonlat(pts)
    width = _metres(ll[0], ll[1])
    depth = _metres(ll[2], ll[3]) if ground[3] else None
    return width, depth


def _metres(a: np.ndarray, b: np.ndarray) -> float:
    # Equirectangular distance: exact to a millimetre over the tens of metres a camera sees.
    dx = (b[0] - a[0]) * _M_PER_DEG_LAT * math.cos(math.radians((a[1] + b[1]) / 2))
    dy = (b[1] - a[1]) * _M_PER_DEG_LAT
    return math.hypot(dx, dy)


def kind_by_area(area: float, zone: Zone) -> str | None:
    """'vehicle', 'object' or None for a blob covering `area` of the frame, by the zone's size ranges."""
    veh, obj = zone.vehicle_range, zone.object_range
    if veh[0] <= area <= veh[1]:
        return "vehicle"
    if obj[0] <= area <= obj[1]:
        return "object"
    return None


class StillKinds:
    """Names still blobs for one camera: by footprint when calibrated, else by the zones' size ranges."""

    def __init__(self, zones: list[Zone], calibration: Calibration | None = None,
                 footprint: FootprintRule | None = None) -> None:
        self.zones = zones
        self.calibration = calibration if calibration is not None and calibration.calibrated else None
        self.footprint = footprint or FootprintRule()

    def by_size(self, box: Box, area: float) -> list[tuple[str, str | None]]:
        """(kind, zone) pairs for a blob: zone None when its kind holds in every zone (measured on the ground)."""
        if self.calibration is not None:
            fp = footprint_m(self.calibration, box)
            if fp is not None:
                kind = self.footprint.kind(*fp)
                logger.debug("still blob %s measures %.1f x %s m: %s", box, fp[0],
                             "?" if fp[1] is None else f"{fp[1]:.1f}", kind)
                return [] if kind is None else [(kind, None)]
        out = []
        for zone in self.zones:
            kind = kind_by_area(area, zone)
            if kind is not None:
                out.append((kind, zone.name))
        return out
