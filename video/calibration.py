"""Image-to-map calibration: a homography from 4+ point pairs, image 0-1 points to lon/lat and back."""

from __future__ import annotations

import logging
import math

import cv2
import numpy as np

from video.config import CameraConfig, CalibrationPair

logger = logging.getLogger(__name__)

# Work in local metres around the pairs' centre: degrees are badly scaled for a homography fit.
_M_PER_DEG_LAT = 111_320.0


class CalibrationError(ValueError):
    """Calibration pairs that do not define a usable image-to-map mapping."""


class Calibration:
    """Maps 0-1 image points to (lon, lat) and back; without pairs, every point is the camera."""

    def __init__(self, pairs: list[CalibrationPair], camera_lonlat: tuple[float, float]) -> None:
        self.camera_lonlat = camera_lonlat
        self.h: np.ndarray | None = None
        self.h_inv: np.ndarray | None = None
        if not pairs:
            return
        if len(pairs) < 4:
            raise CalibrationError(f"a homography needs 4 or more pairs, got {len(pairs)}")
        px = np.array([p.px for p in pairs], np.float64)
        ll = np.array([p.lonlat for p in pairs], np.float64)
        hull = cv2.convexHull(px.astype(np.float32))
        if cv2.contourArea(hull) < 1e-3:
            raise CalibrationError("calibration image points are degenerate (all on one line?)")
        self._origin = ll.mean(axis=0)
        self._m_per_deg_lon = _M_PER_DEG_LAT * math.cos(math.radians(self._origin[1]))
        h, mask = cv2.findHomography(px, self._to_local(ll), method=0)
        if h is None or abs(np.linalg.det(h)) < 1e-12:
            raise CalibrationError("calibration points are degenerate (three or more on one line?)")
        self.h = h
        self.h_inv = np.linalg.inv(h)
        # The pairs lie on the ground, so their projective scale's sign marks the ground side of the horizon.
        self._ground_sign = float(np.sign(np.mean(self._scale(px))))

    @classmethod
    def from_config(cls, config: CameraConfig) -> Calibration:
        """Calibration of a camera config."""
        return cls(list(config.calibration), (config.lon, config.lat))

    @property
    def calibrated(self) -> bool:
        """True when a homography is available."""
        return self.h is not None

    def _to_local(self, lonlat: np.ndarray) -> np.ndarray:
        d = lonlat - self._origin
        return np.stack([d[:, 0] * self._m_per_deg_lon, d[:, 1] * _M_PER_DEG_LAT], axis=1)

    def _from_local(self, xy: np.ndarray) -> np.ndarray:
        return np.stack([xy[:, 0] / self._m_per_deg_lon, xy[:, 1] / _M_PER_DEG_LAT], axis=1) + self._origin

    def to_lonlat(self, points: np.ndarray) -> np.ndarray:
        """(N,2) image points in 0-1 to (N,2) lon/lat; the camera position when uncalibrated."""
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        if self.h is None:
            return np.tile(np.array(self.camera_lonlat, np.float64), (len(pts), 1))
        local = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), self.h).reshape(-1, 2)
        return self._from_local(local)

    def to_image(self, lonlat: np.ndarray) -> np.ndarray:
        """(N,2) lon/lat to (N,2) image points in 0-1 (for drawing map features on the picture)."""
        if self.h_inv is None:
            raise CalibrationError("camera is not calibrated: map points cannot be placed in the image")
        local = self._to_local(np.asarray(lonlat, np.float64).reshape(-1, 2))
        return cv2.perspectiveTransform(local.reshape(-1, 1, 2), self.h_inv).reshape(-1, 2)

    def _scale(self, points: np.ndarray) -> np.ndarray:
        pts = np.asarray(points, np.float64).reshape(-1, 2)
        return pts @ self.h[2, :2] + self.h[2, 2]

    def on_ground(self, points: np.ndarray) -> np.ndarray:
        """(N,) bool: the image points lie below the horizon, where the map position is meaningful."""
        if self.h is None:
            raise CalibrationError("camera is not calibrated: the image has no known horizon")
        # Beyond the horizon the homography flips the point to the far side of the camera (scale < 0).
        return self._scale(points) * self._ground_sign > 1e-9

    def zone_on_map(self, polygon: list[list[float]]) -> list[tuple[float, float]]:
        """A zone's image polygon as a lon/lat ring for the map; only meaningful when calibrated."""
        if self.h is None:
            raise CalibrationError("camera is not calibrated: zones cannot be drawn on the map")
        return [tuple(p) for p in self.to_lonlat(np.array(polygon)).tolist()]
