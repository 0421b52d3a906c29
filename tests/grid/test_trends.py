"""Early warnings: CST bins, rising matters, repeats at one place, camera-blind sub-grids."""

import numpy as np
import pandas as pd
import pytest

from grid.trends import (
    camera_blind_sub_grids,
    cst_midnight,
    repeat_clusters,
    rising_matters,
    rising_test,
    time_bins,
)

AS_OF = pd.Timestamp("2024-06-03 00:00", tz="Asia/Shanghai")
M_PER_DEG_LAT = 111_320.0


def test_days_and_weeks_are_counted_in_cst():
    start = pd.Timestamp("2024-03-01 00:00", tz="Asia/Shanghai")
    ts = pd.to_datetime(
        ["2024-02-29 16:30Z", "2024-02-29 15:59Z", "2024-03-01 16:00Z", "2024-03-08 16:00Z"], utc=True
    )
    # 16:30 UTC on 29 Feb is 00:30 CST on 1 Mar: the first day, not the day before.
    assert list(time_bins(ts, start)) == [0, -1, 1, 8]
    assert list(time_bins(ts, start, days_per_bin=7)) == [0, -1, 0, 1]
    assert cst_midnight(pd.Timestamp("2024-02-29 16:30Z")) == start


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        time_bins(pd.to_datetime(["2024-03-01 10:00"]), pd.Timestamp("2024-03-01", tz="UTC"))


@pytest.mark.parametrize(
    ("current", "baseline", "flag"),
    [(30, 40, True), (24, 32, True), (10, 40, False), (12, 40, False), (6, 0, True), (0, 0, False)],
)
def test_rising_test_flags_tripling_not_flat(current, baseline, flag):
    p, ratio = rising_test(np.array([current]), np.array([baseline]))
    assert (p[0] < 0.001) == flag
    if baseline:
        assert ratio[0] == pytest.approx(current / (baseline / 4))


def test_rising_test_is_calibrated_on_flat_counts():
    rng = np.random.default_rng(6)
    current = rng.poisson(8.0, 20_000)
    baseline = rng.poisson(32.0, 20_000)
    p, _ = rising_test(current, baseline)
    # A discrete exact test is conservative: never more false alarms than its level.
    assert (p <= 0.05).mean() <= 0.05
    assert (p <= 0.01).mean() <= 0.01


def _weekly_incidents(rng, area, matter, weekly_rates):
    rows = []
    for week, rate in enumerate(weekly_rates):
        n = rng.poisson(rate)
        # Week 0 is the oldest baseline week; the last entry is the current week.
        start = AS_OF - pd.Timedelta(days=7 * (len(weekly_rates) - week))
        offsets = rng.uniform(0, 7 * 86400, n)
        for off in offsets:
            at = start + pd.Timedelta(seconds=off)
            rows.append({"sub_grid_code": area, "matter_code": matter, "created_at": at})
    return rows


def test_rising_matters_flags_the_planted_tripling_only():
    rng = np.random.default_rng(7)
    rows = _weekly_incidents(rng, "A", "noise", [8, 8, 8, 8, 24])
    for k in range(40):
        rows += _weekly_incidents(rng, f"S{k}", "noise", [8, 8, 8, 8, 8])
    rows += _weekly_incidents(rng, "B", "dumping", [6, 6, 6, 6, 6])
    # Cases older than five weeks play no part.
    rows.append({"sub_grid_code": "A", "matter_code": "noise", "created_at": AS_OF - pd.Timedelta(days=60)})
    table = rising_matters(pd.DataFrame(rows), AS_OF)
    flagged = table[table["flagged"]]
    assert list(zip(flagged["area"], flagged["matter"], strict=True)) == [("A", "noise")]
    row = flagged.iloc[0]
    assert row["ratio"] > 2 and row["p"] < 1e-4
    assert {"area", "matter", "current", "baseline", "expected", "ratio", "p", "q", "flagged"} <= set(table)


def test_rising_matters_applies_the_minimum_count():
    rows = [
        {"sub_grid_code": "A", "matter_code": "m", "created_at": AS_OF - pd.Timedelta(hours=h)}
        for h in (1, 2, 3, 4)
    ]
    table = rising_matters(pd.DataFrame(rows), AS_OF, min_count=5)
    assert table.empty
    table = rising_matters(pd.DataFrame(rows), AS_OF, min_count=3)
    assert table["current"].tolist() == [4] and table["flagged"].tolist() == [True]


def _at(lon, lat, metres_east, metres_north):
    return (
        lon + metres_east / (M_PER_DEG_LAT * np.cos(np.radians(lat))),
        lat + metres_north / M_PER_DEG_LAT,
    )


def _cases(spec):
    rows = []
    for k, (matter, east, north, days_ago) in enumerate(spec):
        lon, lat = _at(114.35, 22.70, east, north)
        at = AS_OF - pd.Timedelta(days=days_ago)
        rows.append({"id": k, "matter_code": matter, "lon": lon, "lat": lat, "created_at": at})
    return pd.DataFrame(rows)


def test_three_of_one_matter_within_50_m_in_7_days_is_a_repeat():
    cases = _cases([("dump", 0, 0, 1), ("dump", 20, 10, 3), ("dump", -15, 25, 6), ("dump", 3000, 0, 2)])
    found = repeat_clusters(cases, AS_OF)
    assert len(found) == 1
    assert found.iloc[0]["matter"] == "dump" and found.iloc[0]["count"] == 3
    assert sorted(found.iloc[0]["ids"]) == [0, 1, 2]
    assert found.iloc[0]["lon"] == pytest.approx(cases["lon"][:3].mean())


@pytest.mark.parametrize(
    "spec",
    [
        [("dump", 0, 0, 1), ("dump", 20, 10, 3), ("noise", -15, 25, 6)],  # different matters
        [("dump", 0, 0, 1), ("dump", 90, 0, 3), ("dump", 180, 0, 6)],  # 90 m apart
        [("dump", 0, 0, 1), ("dump", 20, 10, 3), ("dump", -15, 25, 9)],  # one is 9 days old
    ],
)
def test_near_misses_are_not_repeats(spec):
    assert repeat_clusters(_cases(spec), AS_OF).empty


def test_separate_places_and_matters_are_separate_clusters():
    spec = [("dump", e, 0, 1) for e in (0, 10, 20, 30)]
    spec += [("noise", e, 0, 2) for e in (0, 10, 20)]
    spec += [("dump", 500 + e, 0, 2) for e in (0, 5, 10)]
    found = repeat_clusters(_cases(spec), AS_OF)
    assert sorted(zip(found["matter"], found["count"], strict=True)) == [("dump", 3), ("dump", 4), ("noise", 3)]


def test_camera_blind_sub_grids():
    cams = {"c1": "g1", "c2": "g1", "c3": "g2", "c4": "g3", "c5": None}
    healthy = {"c1": False, "c2": True, "c3": False, "c5": True}
    blind = camera_blind_sub_grids(["g1", "g2", "g3", "g4"], cams, healthy)
    assert blind["sub_grid_code"].tolist() == ["g2", "g3", "g4"]
    assert blind["reason"].tolist() == ["no_healthy_camera", "no_healthy_camera", "no_camera"]
    assert blind["cameras"].tolist() == [1, 1, 0]
    assert blind["healthy"].tolist() == [0, 0, 0]


def test_empty_input_gives_empty_tables():
    empty = pd.DataFrame(
        {"id": [], "sub_grid_code": [], "matter_code": [], "lon": [], "lat": [], "created_at": []}
    )
    assert rising_matters(empty, AS_OF).empty
    assert repeat_clusters(empty, AS_OF).empty


def test_repeat_clusters_accepts_rows_outside_the_window():
    """Old rows in the input are ignored, not misaligned with the recent ones."""
    import pandas as pd

    from grid.trends import repeat_clusters

    as_of = pd.Timestamp("2026-11-28 12:00", tz="Asia/Shanghai")
    recent = [as_of - pd.Timedelta(hours=h) for h in (1, 2, 3)]
    old = [as_of - pd.Timedelta(days=20 + d) for d in range(5)]
    df = pd.DataFrame({
        "id": range(8),
        "matter_code": ["m"] * 8,
        "created_at": old + recent,
        "lon": [114.40] * 5 + [114.30, 114.30001, 114.30002],
        "lat": [22.60] * 5 + [22.70, 22.70001, 22.70002],
    })
    out = repeat_clusters(df, as_of, days=7, radius_m=50, min_count=3)
    assert len(out) == 1 and int(out.iloc[0]["count"]) == 3
    assert out.iloc[0]["first"] == recent[-1]
