"""Calibration: a homography from 4+ pairs maps image points to lon/lat and back."""

import numpy as np
import pytest

from video.calibration import Calibration, CalibrationError
from video.config import parse_config

BASE = {"code": "C1", "url": "a.mp4", "lon": 114.35, "lat": 22.70}


def _pairs(n=4):
    px = [[0.1, 0.9], [0.9, 0.9], [0.9, 0.5], [0.1, 0.5], [0.5, 0.7]][:n]
    # A tilted view: the far edge (y=0.5) is wider on the ground than the near edge (y=0.9).
    ll = [[114.3500, 22.7000], [114.3502, 22.7000], [114.3506, 22.7008], [114.3496, 22.7008], [114.3501, 22.7003]][:n]
    return [{"px": p, "lonlat": q} for p, q in zip(px, ll)]


def test_pairs_map_to_their_positions_and_back():
    cal = Calibration.from_config(parse_config({**BASE, "calibration": _pairs(4)}))
    px = np.array([p["px"] for p in _pairs(4)])
    ll = cal.to_lonlat(px)
    assert np.allclose(ll, [p["lonlat"] for p in _pairs(4)], atol=1e-7)
    assert np.allclose(cal.to_image(ll), px, atol=1e-6)
    ring = cal.zone_on_map([[0.1, 0.5], [0.9, 0.5], [0.9, 0.9], [0.1, 0.9]])
    assert len(ring) == 4 and all(114.349 < lon < 114.351 and 22.699 < lat < 22.701 for lon, lat in ring)


def test_uncalibrated_camera_places_everything_at_the_pole():
    cal = Calibration.from_config(parse_config(BASE))
    assert not cal.calibrated
    assert np.allclose(cal.to_lonlat([[0.3, 0.8], [0.9, 0.1]]), [[114.35, 22.70]] * 2)
    with pytest.raises(CalibrationError):
        cal.to_image([[114.35, 22.70]])


def test_degenerate_points_are_refused():
    from video.config import CalibrationPair

    pairs = [CalibrationPair(px=[0.1 * i, 0.1 * i], lonlat=[114.35 + 1e-4 * i, 22.70 + 1e-4 * i]) for i in range(1, 5)]
    with pytest.raises(CalibrationError):
        Calibration(pairs, (114.35, 22.7))


def test_points_above_the_horizon_are_not_on_the_ground():
    cal = Calibration.from_config(parse_config({**BASE, "calibration": _pairs(4)}))
    # This tilted view's horizon lies between y=0.5 (the far calibration row) and y=0.3.
    assert cal.on_ground([[0.5, 0.9], [0.2, 0.5], [0.5, 0.45]]).all()
    assert not cal.on_ground([[0.5, 0.3], [0.5, 0.0]]).any()
    # There the homography lands behind the camera: nearer than the near edge, not further away.
    assert cal.to_lonlat([[0.5, 0.3]])[0, 1] < 22.7000
    with pytest.raises(CalibrationError):
        Calibration.from_config(parse_config(BASE)).on_ground([[0.5, 0.5]])
