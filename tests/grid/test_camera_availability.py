"""Camera availability pooled over camera-time: diagnosed time only, per any grouping."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grid.camera_availability import availability_rates


def test_availability_rates_pool_diagnosed_camera_time():
    h = 3600.0
    cams = pd.DataFrame({
        "camera_code": ["a", "b", "c", "a", "b", "c"],
        "day": ["d1", "d1", "d1", "d2", "d2", "d2"],
        "street_code": ["s1", "s1", "s2", "s1", "s1", "s2"],
        "online_s": [20 * h, 12 * h, 0.0, 24 * h, 0.0, 0.0],
        "degraded_s": [2 * h, 0.0, 0.0, 0.0, 0.0, 0.0],
        "offline_s": [2 * h, 0.0, 0.0, 0.0, 0.0, 0.0],
        "unknown_s": [0.0, 12 * h, 24 * h, 0.0, 24 * h, 24 * h],
    })
    days = availability_rates(cams, ["day"]).set_index("day")
    # d1: a 20 h online of 24 known, b 12 of 12 known, c never diagnosed (not a camera that day).
    assert days.loc["d1", "cameras"] == 2
    assert days.loc["d1", "online_rate"] == pytest.approx(32 / 36)
    assert days.loc["d1", "available_rate"] == pytest.approx(34 / 36)
    assert days.loc["d1", "offline_hours"] == pytest.approx(2.0)
    assert days.loc["d1", "known_share"] == pytest.approx(36 / 72)
    streets = availability_rates(cams, ["street_code"]).set_index("street_code")
    assert streets.loc["s1", "online_rate"] == pytest.approx(56 / 60)
    # Nothing known is no figure, not 0 %.
    assert streets.loc["s2", "cameras"] == 0 and np.isnan(streets.loc["s2", "online_rate"])
