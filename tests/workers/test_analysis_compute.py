"""Pure steps of an analysis refresh: repeat places and their keys, camera-blind sub-grids, week tags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grid.lattice import project, unproject
from workers import analysis_compute as compute

AS_OF = pd.Timestamp("2024-05-08T04:00:00Z")  # a Wednesday, 12:00 CST


def _incidents(points, *, matter="hazard_fire_exit", source="grid_worker", hours_ago=(5, 30, 60)):
    """Incidents at metric offsets (dx, dy) from a point in Pingshan, one per entry of ``hours_ago``."""
    x0, y0 = project([114.35], [22.70])
    dx, dy = np.asarray(points, float).T
    lon, lat = unproject(x0 + dx, y0 + dy)
    n = len(lon)
    return pd.DataFrame({
        "id": [f"i{i}" for i in range(n)], "matter_code": matter, "source": source, "status": "closed",
        "lon": lon, "lat": lat, "sub_grid_code": "44031000100101", "community_code": "440310001001",
        "street_code": "440310001", "created_at": AS_OF - pd.to_timedelta(list(hours_ago)[:n], unit="h"),
    })


NO_RECENT = pd.DataFrame(columns=["id", "dedup_key", "matter_code", "lon", "lat"])


@pytest.mark.parametrize("points, source, expected", [
    ([(0, 0), (20, 0), (0, 30)], "grid_worker", 1),      # three within 50 m: one place
    ([(0, 0), (20, 0), (0, 300)], "grid_worker", 0),     # the third is far away
    ([(0, 0), (0, 0), (0, 0)], "camera", 0),             # a camera's own position is not a place
])
def test_repeat_places(points, source, expected):
    out = compute.repeat_warnings(_incidents(points, source=source), AS_OF, NO_RECENT)
    assert len(out) == expected
    if expected:
        w = out.iloc[0]
        assert w["kind"] == "repeat" and w["details"]["count"] == 3
        assert w["dedup_key"] == "repeat:hazard_fire_exit:i2"  # keyed by its earliest case (60 h ago)
        assert (w["area_level"], w["area_code"]) == ("sub_grid", "44031000100101")


def test_a_known_repeat_place_keeps_its_key():
    df = _incidents([(0, 0), (20, 0), (0, 30)])
    lon, lat = df["lon"].iloc[0] + 0.0001, df["lat"].iloc[0]
    recent = pd.DataFrame({"id": [9], "dedup_key": ["repeat:hazard_fire_exit:old"],
                           "matter_code": ["hazard_fire_exit"], "lon": [lon], "lat": [lat]})
    assert compute.repeat_warnings(df, AS_OF, recent)["dedup_key"].tolist() == ["repeat:hazard_fire_exit:old"]
    other = recent.assign(matter_code="crime_theft")
    assert compute.repeat_warnings(df, AS_OF, other)["dedup_key"].tolist() == ["repeat:hazard_fire_exit:i2"]


def test_old_cases_do_not_repeat():
    df = _incidents([(0, 0), (20, 0), (0, 30)], hours_ago=(5, 30, 24 * 8))
    assert compute.repeat_warnings(df, AS_OF, NO_RECENT).empty


@pytest.mark.parametrize("as_of, monday", [
    ("2024-05-08T04:00:00Z", "2024-05-06"),
    ("2024-05-05T15:59:00Z", "2024-04-29"),   # Sunday 23:59 CST
    ("2024-05-05T16:00:00Z", "2024-05-06"),   # Monday 00:00 CST, still Sunday in UTC
])
def test_week_tags_count_in_china_standard_time(as_of, monday):
    assert compute.week_tag(pd.Timestamp(as_of)) == monday


@pytest.mark.parametrize("days_of_history, weeks", [(30, 3), (35, 4), (400, 4), (10, 1), (3, 1)])
def test_baseline_weeks_follow_the_history_there_is(days_of_history, weeks):
    first = AS_OF - pd.Timedelta(days=days_of_history)
    assert compute.baseline_weeks_available(first, AS_OF) == weeks
