"""Indicators per group and the red/black ranking."""

import numpy as np
import pandas as pd
import pytest

from grid.indicators import COLUMNS, indicators, red_black_ranking

T0 = pd.Timestamp("2024-06-01 08:00", tz="Asia/Shanghai")


def _t(minutes):
    return pd.NaT if minutes is None else T0 + pd.Timedelta(minutes=minutes)


def _incident(sub_grid, *, dispatch=10, accept=20, resolve=100, close=120, on_time=True, due=None, **extra):
    row = {
        "created_at": T0,
        "dispatched_at": _t(dispatch),
        "accepted_at": _t(accept),
        "resolved_at": _t(resolve),
        "closed_at": _t(close),
        "due_at": _t(due),
        "on_time": on_time,
        "returned": 0,
        "escalated": False,
        "worker_code": "w1",
        "sub_grid_code": sub_grid,
        "community_code": "c1",
        "street_code": "s1",
    }
    row.update(extra)
    return row


@pytest.fixture
def incidents() -> pd.DataFrame:
    rows = [
        _incident("g1"),
        _incident("g1", dispatch=30, accept=90, resolve=330, close=400, on_time=False, returned=2),
        # Open and past its deadline: due, and late.
        _incident("g1", accept=None, resolve=None, close=None, on_time=None, due=60, escalated=True),
        # Open and not yet due: counted as an incident, not in the rate.
        _incident("g1", accept=None, resolve=None, close=None, on_time=None, due=10_000),
        _incident("g2", worker_code="w2"),
        _incident("g2", worker_code="w2", created_at=T0 - pd.Timedelta(days=40)),
    ]
    return pd.DataFrame(rows)


def test_indicators_per_sub_grid(incidents):
    table = indicators(incidents, "sub_grid_code", start=T0 - pd.Timedelta(days=30), end=T0 + pd.Timedelta(days=1))
    assert list(table.columns) == ["sub_grid_code", *COLUMNS]
    g1 = table.set_index("sub_grid_code").loc["g1"]
    assert g1["incidents"] == 4 and g1["closed"] == 2
    assert g1["due"] == 3 and g1["on_time"] == 1
    assert g1["on_time_rate"] == pytest.approx(1 / 3)
    assert g1["mean_dispatch_min"] == pytest.approx((10 + 30 + 10 + 10) / 4)
    # Accept and resolve are measured from dispatch, over the cases that reached them.
    assert g1["mean_accept_min"] == pytest.approx(((20 - 10) + (90 - 30)) / 2)
    assert g1["mean_resolve_min"] == pytest.approx(((100 - 10) + (330 - 30)) / 2)
    assert g1["returned"] == 2 and g1["escalated"] == 1
    g2 = table.set_index("sub_grid_code").loc["g2"]
    # The case from 40 days ago is outside the period.
    assert g2["incidents"] == 1 and g2["on_time_rate"] == 1.0


def test_indicators_by_several_keys_and_without_period(incidents):
    table = indicators(incidents, ["street_code", "worker_code"], as_of=T0 + pd.Timedelta(days=1))
    assert table[["street_code", "worker_code"]].values.tolist() == [["s1", "w1"], ["s1", "w2"]]
    assert table["incidents"].tolist() == [4, 2]


def test_without_as_of_open_cases_are_not_due(incidents):
    table = indicators(incidents, "sub_grid_code").set_index("sub_grid_code")
    assert table.loc["g1", "due"] == 2
    assert table.loc["g1", "on_time_rate"] == pytest.approx(0.5)


def _table(rates, dues, resolve=None, street=None):
    n = len(rates)
    return pd.DataFrame(
        {
            "sub_grid_code": [f"g{k:02d}" for k in range(n)],
            "street_code": street if street is not None else ["s1"] * n,
            "on_time_rate": rates,
            "due": dues,
            "incidents": dues,
            "mean_resolve_min": resolve if resolve is not None else [60.0] * n,
        }
    )


def test_ranking_best_and_worst_with_minimum_cases_and_ties():
    rates = [0.9, 0.95, 0.5, 1.0, 0.7, 0.95, 0.3, 1.0, 0.6, 0.8, 0.2, 0.99]
    dues = [20, 30, 20, 5, 20, 40, 20, 12, 20, 20, 20, 20]
    resolve = [60.0] * 12
    resolve[7] = 30.0
    table = _table(rates, dues, resolve)
    ranking = red_black_ranking(table, "sub_grid_code", n=3, min_due=10)
    red = ranking[ranking["list"] == "red"]
    black = ranking[ranking["list"] == "black"]
    # g03 has a perfect rate but only 5 cases: excluded. g05 beats g01 at 0.95 on more cases.
    assert red["sub_grid_code"].tolist() == ["g07", "g11", "g05"]
    assert black["sub_grid_code"].tolist() == ["g10", "g06", "g02"]
    assert red["rank"].tolist() == [1, 2, 3] and black["rank"].tolist() == [1, 2, 3]


def test_ranking_never_lists_a_group_twice():
    table = _table([0.9, 0.8, 0.7], [20, 20, 20])
    ranking = red_black_ranking(table, "sub_grid_code", n=5, min_due=10)
    assert ranking["sub_grid_code"].tolist() == ["g00", "g02"]
    assert ranking["list"].tolist() == ["red", "black"]
    assert red_black_ranking(table.iloc[:1], "sub_grid_code", n=5, min_due=10).empty


def test_ranking_within_each_street():
    table = _table([0.9, 0.5, 0.8, 0.6, 1.0, 0.1], [20] * 6, street=["s1", "s1", "s2", "s2", "s2", "s2"])
    ranking = red_black_ranking(table, "sub_grid_code", n=1, min_due=10, within="street_code")
    got = ranking[["street_code", "list", "sub_grid_code"]].values.tolist()
    assert got == [["s1", "red", "g00"], ["s1", "black", "g01"], ["s2", "red", "g04"], ["s2", "black", "g05"]]


def test_ranking_from_indicators_end_to_end():
    rng = np.random.default_rng(8)
    rows = []
    for k in range(8):
        for _ in range(15):
            rows.append(_incident(f"g{k}", on_time=bool(rng.uniform() < 0.1 + 0.1 * k)))
    table = indicators(pd.DataFrame(rows), ["street_code", "sub_grid_code"])
    ranking = red_black_ranking(table, "sub_grid_code", n=2, min_due=10, within="street_code")
    red = ranking[ranking["list"] == "red"]
    black = ranking[ranking["list"] == "black"]
    assert red["on_time_rate"].min() > black["on_time_rate"].max()
    assert set(red["sub_grid_code"]).isdisjoint(black["sub_grid_code"])
