"""Duplicate merging: same matter, within radius and window, of a still-open case."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from grid.merging import Candidate, MergeRule, Report, distance_m, merge_target, merges_into

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
LON, LAT = 114.35, 22.70
# Degrees of latitude per metre, for building offsets.
M = 1 / 111_195


def cand(id_="A", matter="H01", status="dispatched", dlat_m=0.0, minutes=0.0):
    return Candidate(id_, matter, status, LON, LAT + dlat_m * M, T0 + timedelta(minutes=minutes))


REPORT = Report("H01", LON, LAT, T0)


def test_distance_is_metres():
    assert distance_m(LON, LAT, LON, LAT) == 0
    assert distance_m(LON, LAT, LON, LAT + 100 * M) == pytest.approx(100, rel=1e-3)
    # One degree of longitude at 22.7 deg N is about 102.6 km.
    assert distance_m(114, 22.7, 115, 22.7) == pytest.approx(102_600, rel=5e-3)


@pytest.mark.parametrize(("candidate", "rule", "merges"), [
    (cand(dlat_m=10), MergeRule(), True),
    (cand(dlat_m=49.5), MergeRule(), True),
    (cand(dlat_m=51), MergeRule(), False),
    (cand(dlat_m=51), MergeRule(radius_m=100), True),
    (cand(minutes=-29), MergeRule(), True),
    (cand(minutes=-31), MergeRule(), False),
    (cand(minutes=31), MergeRule(), False),
    (cand(minutes=-50), MergeRule(window_min=60), True),
    (cand(matter="D02"), MergeRule(), False),
    (cand(status="reported"), MergeRule(), True),
    (cand(status="in_progress"), MergeRule(), True),
    (cand(status="returned"), MergeRule(), True),
    (cand(status="resolved"), MergeRule(), False),
    (cand(status="closed"), MergeRule(), False),
    (cand(status="cancelled"), MergeRule(), False),
    (cand(dlat_m=0), MergeRule(radius_m=0), True),
])
def test_merges_into(candidate, rule, merges):
    assert merges_into(REPORT, candidate, rule) is merges


def test_merge_target_picks_nearest_then_latest():
    far = cand("far", dlat_m=40)
    near_old = cand("near_old", dlat_m=5, minutes=-20)
    near_new = cand("near_new", dlat_m=5, minutes=-5)
    closed = cand("closed", status="closed")
    assert merge_target(REPORT, [far, near_old, near_new, closed]).incident_id == "near_new"
    assert merge_target(REPORT, [far]).incident_id == "far"


def test_no_target_means_a_new_case():
    assert merge_target(REPORT, []) is None
    assert merge_target(REPORT, [cand(dlat_m=80), cand(matter="X")]) is None
