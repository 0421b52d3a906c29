"""Early-warning statistics: rising matters, repeats at one place, camera-blind sub-grids; CST time bins.

All timestamps must be timezone-aware; days and weeks are counted in China Standard Time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import sparse, stats
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from grid.hotspots import fdr_bh
from grid.lattice import DEFAULT_CRS, project

CST = "Asia/Shanghai"


def to_cst(timestamps) -> pd.DatetimeIndex:
    """Timezone-aware timestamps as a DatetimeIndex in CST; naive ones are refused, not guessed."""
    idx = pd.DatetimeIndex(pd.to_datetime(timestamps))
    if idx.tz is None and len(idx) == 0:
        # An empty object column carries no zone; there is nothing to misread.
        idx = idx.tz_localize("UTC")
    if idx.tz is None:
        raise ValueError("timestamps must be timezone-aware (stored as timestamptz)")
    return idx.tz_convert(CST)


def cst_midnight(ts) -> pd.Timestamp:
    """Start of the CST day containing ``ts``."""
    return to_cst([ts])[0].normalize()


def time_bins(timestamps, start, days_per_bin: int = 1) -> np.ndarray:
    """Bin index of each timestamp: whole CST days since the CST day of ``start``, ``days_per_bin`` per bin."""
    if days_per_bin < 1:
        raise ValueError("days_per_bin must be >= 1")
    days = (to_cst(timestamps).normalize() - cst_midnight(start)).days
    # Floor division keeps timestamps before `start` negative, so callers can drop them.
    return np.floor_divide(np.asarray(days, np.int64), days_per_bin)


def rising_test(current, baseline, baseline_weeks: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """One-sided p-value that this week's rate exceeds the baseline weeks' rate, and the rate ratio.

    Conditional exact test of two Poisson counts: given n = current + baseline, current is
    Binomial(n, 1 / (1 + weeks)) when the weekly rate is unchanged. Unlike a Poisson test against
    the baseline mean it accounts for the baseline's own noise and needs no rate when it is 0.
    The ratio floors the baseline at one case over the baseline weeks, so it stays finite.
    """
    current = np.asarray(current, float)
    baseline = np.asarray(baseline, float)
    n = current + baseline
    p = stats.binom.sf(current - 1, n, 1.0 / (1.0 + baseline_weeks))
    p = np.where(current > 0, p, 1.0)
    expected = np.maximum(baseline, 1.0) / baseline_weeks
    return p, current / expected


def rising_matters(
    incidents: pd.DataFrame,
    as_of,
    *,
    area_col: str = "sub_grid_code",
    matter_col: str = "matter_code",
    time_col: str = "created_at",
    baseline_weeks: int = 4,
    min_count: int = 5,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Per area and matter: the last 7 days against the ``baseline_weeks`` before, flagged when rising.

    Windows are [as_of - 7 d, as_of) and the ``baseline_weeks`` whole weeks before it. Only pairs with
    at least ``min_count`` cases this week are tested; the BH correction runs over those tests, and a
    pair is flagged when its q-value is <= ``alpha``. Returns columns area, matter, current,
    baseline, expected, ratio, p, q, flagged, sorted by p.
    """
    end = pd.Timestamp(as_of)
    if end.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    week = pd.Timedelta(days=7)
    t = to_cst(incidents[time_col])
    start = end - week * (1 + baseline_weeks)
    keep = np.asarray((t >= start) & (t < end))
    df = pd.DataFrame(
        {
            "area": np.asarray(incidents[area_col])[keep],
            "matter": np.asarray(incidents[matter_col])[keep],
            "current": np.asarray(t[keep] >= end - week, dtype=np.int64),
        }
    )
    df["baseline"] = 1 - df["current"]
    g = df.groupby(["area", "matter"], sort=True)[["current", "baseline"]].sum().reset_index()
    g = g[g["current"] >= min_count].reset_index(drop=True)
    p, ratio = rising_test(g["current"].to_numpy(), g["baseline"].to_numpy(), baseline_weeks)
    g["expected"] = g["baseline"] / baseline_weeks
    g["ratio"] = ratio
    g["p"] = p
    g["q"] = fdr_bh(p)
    g["flagged"] = (g["q"] <= alpha) & (g["ratio"] > 1)
    return g.sort_values(["p", "area", "matter"], kind="stable").reset_index(drop=True)


def repeat_clusters(
    incidents: pd.DataFrame,
    as_of,
    *,
    days: int = 7,
    radius_m: float = 50.0,
    min_count: int = 3,
    id_col: str = "id",
    matter_col: str = "matter_code",
    time_col: str = "created_at",
    crs: str = DEFAULT_CRS,
) -> pd.DataFrame:
    """Places where one matter recurred ``min_count`` times within ``radius_m`` metres in the last ``days``.

    Density clustering (DBSCAN-like) per matter: a case with at least ``min_count`` same-matter
    cases within ``radius_m`` (itself included) is a core; cores within ``radius_m`` of each other
    join one place, and other cases within ``radius_m`` of a core join its place. Input columns:
    ``id_col``, ``matter_col``, ``time_col``, lon, lat. Returns one row per place: matter, count,
    lon, lat (mean), first, last, ids.
    """
    cols = ["matter", "count", "lon", "lat", "first", "last", "ids"]
    end = pd.Timestamp(as_of)
    if end.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    t = to_cst(incidents[time_col])
    keep = np.asarray((t >= end - pd.Timedelta(days=days)) & (t < end))
    sub = incidents.loc[keep]
    if len(sub) < min_count:
        return pd.DataFrame(columns=cols)
    x, y = project(sub["lon"].to_numpy(), sub["lat"].to_numpy(), crs)
    codes, matter_idx = np.unique(sub[matter_col].to_numpy().astype(str), return_inverse=True)
    # Shifting each matter 1000 km apart lets one KD-tree keep matters from ever mixing.
    pts = np.column_stack([x + matter_idx * 1.0e6, y])
    tree = cKDTree(pts)
    pairs = tree.query_pairs(radius_m, output_type="ndarray")
    n = len(pts)
    degree = np.bincount(pairs.ravel(), minlength=n) + 1
    core = degree >= min_count
    labels = _cluster_labels(pairs, core, n)
    found = labels >= 0
    if not found.any():
        return pd.DataFrame(columns=cols)
    frame = pd.DataFrame(
        {
            "label": labels[found],
            "matter": codes[matter_idx[found]],
            "lon": sub["lon"].to_numpy()[found],
            "lat": sub["lat"].to_numpy()[found],
            "time": t[keep][found],
            "id": sub[id_col].to_numpy()[found],
        }
    )
    out = frame.groupby("label").agg(
        matter=("matter", "first"),
        count=("id", "size"),
        lon=("lon", "mean"),
        lat=("lat", "mean"),
        first=("time", "min"),
        last=("time", "max"),
        ids=("id", list),
    )
    out = out[out["count"] >= min_count]
    return out.sort_values(["count", "last"], ascending=[False, False]).reset_index(drop=True)[cols]


def _cluster_labels(pairs: np.ndarray, core: np.ndarray, n: int) -> np.ndarray:
    # Cores linked to cores form the places; each border case then joins a core it touches.
    i, j = (pairs[:, 0], pairs[:, 1]) if len(pairs) else (np.empty(0, int), np.empty(0, int))
    both = core[i] & core[j]
    graph = sparse.csr_matrix((np.ones(both.sum()), (i[both], j[both])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    labels = np.where(core, comp, -1)
    for a, b in ((i, j), (j, i)):
        border = core[a] & ~core[b]
        labels[b[border]] = comp[a[border]]
    return labels


def camera_blind_sub_grids(
    sub_grid_codes: Iterable[str],
    camera_sub_grid: Mapping[str, str | None],
    healthy: Mapping[str, bool],
) -> pd.DataFrame:
    """Sub-grids without a healthy camera: columns sub_grid_code, cameras, healthy, reason.

    ``camera_sub_grid`` maps camera code to the sub-grid it watches; ``healthy`` maps camera code
    to its last health verdict (a camera missing from it counts as unhealthy, since silence is
    what a dead camera looks like). Reason is "no_camera" or "no_healthy_camera".
    """
    codes = list(dict.fromkeys(sub_grid_codes))
    cams = pd.DataFrame(
        {"camera": list(camera_sub_grid.keys()), "sub_grid_code": list(camera_sub_grid.values())}
    )
    cams["ok"] = cams["camera"].map(lambda c: bool(healthy.get(c, False)))
    per = cams.groupby("sub_grid_code")["ok"].agg(cameras="size", healthy="sum")
    table = pd.DataFrame({"sub_grid_code": codes}).join(per, on="sub_grid_code")
    table[["cameras", "healthy"]] = table[["cameras", "healthy"]].fillna(0).astype(int)
    blind = table[table["healthy"] == 0].copy()
    blind["reason"] = np.where(blind["cameras"] == 0, "no_camera", "no_healthy_camera")
    return blind.reset_index(drop=True)
