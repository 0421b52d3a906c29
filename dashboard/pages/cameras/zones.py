"""Camera zones on the map: a calibrated camera's image zones as lon/lat polygons."""

from __future__ import annotations

import html
import logging

import numpy as np
from pydantic import ValidationError

from dashboard.i18n import t
from dashboard.maps import Display
from video.calibration import Calibration, CalibrationError
from video.config import CalibrationPair

logger = logging.getLogger(__name__)


def calibration_of(cam: dict) -> Calibration | None:
    """The camera row's homography, or None when it has fewer than 4 pairs or an unusable set."""
    pairs = (cam.get("config") or {}).get("calibration") or []
    if len(pairs) < 4 or cam.get("lon") is None:
        return None
    try:
        return Calibration([CalibrationPair.model_validate(p) for p in pairs], (cam["lon"], cam["lat"]))
    except (ValidationError, CalibrationError) as exc:
        # One bad stored calibration must not take the cameras page down: that camera shows its point only.
        logger.warning("camera %s: calibration unusable for the map (%s)", cam.get("code"), exc)
        return None


def zone_features(cams: list[dict], display: Display, lang: str) -> dict:
    """A FeatureCollection of the calibrated cameras' zones as closed lon/lat rings; uncalibrated cameras add none."""
    feats = []
    for cam in cams:
        calib = calibration_of(cam)
        if calib is None:
            continue
        for zone in (cam.get("config") or {}).get("zones") or []:
            polygon = zone.get("polygon") or []
            if len(polygon) < 3:
                continue
            if not calib.on_ground(np.array(polygon, np.float64)).all():
                # Above the horizon the homography lands behind the camera: no honest ground shape to draw.
                logger.info("camera %s zone %s reaches above the horizon; not drawn on the map",
                            cam["code"], zone.get("name"))
                continue
            ring = [list(display.point(lon, lat)) for lon, lat in calib.zone_on_map(polygon)]
            name = str(zone.get("name") or "")
            # Leaflet reads a tooltip string as HTML; zone names are typed by users.
            tip = html.escape(t("cameras.zone_tip", lang, code=cam["code"], zone=name))
            feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]},
                          "properties": {"code": cam["code"], "zone": name, "tooltip": tip}})
    return {"type": "FeatureCollection", "features": feats}
