"""Pure zone geometry in 0-1 image coordinates: which points lie in which zone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from video.config import Zone


@dataclass(frozen=True)
class PolygonZone:
    """A zone polygon that answers point-in-zone questions for many points at once."""

    name: str
    polygon: Polygon

    @classmethod
    def from_config(cls, zone: Zone) -> PolygonZone:
        """Build from a validated config zone."""
        poly = Polygon(zone.polygon)
        shapely.prepare(poly)
        return cls(zone.name, poly)

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Bool per point (N,2) in 0-1 coordinates; points on the edge count as inside."""
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        if not len(pts):
            return np.zeros((0,), bool)
        return shapely.intersects_xy(self.polygon, pts[:, 0], pts[:, 1])

    def trigger(self, boxes: np.ndarray) -> np.ndarray:
        """Bool per box (N,4) xyxy in 0-1 whose foot point (bottom centre) lies in the zone.

        Foot points are clamped to the picture: someone whose feet are below the bottom edge (a close
        person filling the frame) stands at that edge, not outside every zone.
        """
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        return self.contains(np.clip(np.stack([(b[:, 0] + b[:, 2]) / 2, b[:, 3]], axis=1), 0.0, 1.0))
