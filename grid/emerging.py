"""Emerging hot spot analysis: space-time Gi* per bin, Mann-Kendall trends, and the pattern classes.

Follows the published Emerging Hot Spot Analysis method (ArcGIS Pro, "How Emerging Hot Spot
Analysis works"): each (location, time bin) is a bin of a space-time cube; its neighbours are the
spatial neighbours (and itself) in the same bin and in the ``time_window`` bins before it, with
binary weights over the whole cube; bins are significant after a Benjamini-Hochberg correction;
a Mann-Kendall test on each location's z-score series gives the trend. Patterns, with "90 %"
meaning at least 90 % of the bins:

- new: hot in the final bin and never hot before;
- consecutive: a final uninterrupted run of >= 2 hot bins, never hot before the run, < 90 % hot;
- intensifying / diminishing: >= 90 % hot including the final bin, with a significant rising /
  falling trend in z;
- persistent: >= 90 % hot including the final bin, no significant trend;
- sporadic: hot in the final bin, < 90 % hot, hot on and off before, never cold;
- oscillating: hot in the final bin, < 90 % hot, cold in some earlier bin;
- historical: not hot in the final bin but hot in >= 90 % of the bins.

Cold patterns mirror these with signs swapped (an intensifying cold spot grows colder). When a
series fits two definitions the first in the list above wins, so new/consecutive describe a
place's hot history before oscillating does. The trend test needs about 5+ bins to be able to
reach 5 %; with daily bins over 30 days that is no limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats

from grid.hotspots import fdr_bh, star_weights

PATTERNS = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
#: Every label ``classify_patterns`` can return: "<pattern>_hot", "<pattern>_cold" and "no_pattern".
LABELS = tuple(f"{p}_{k}" for k in ("hot", "cold") for p in PATTERNS) + ("no_pattern",)


@dataclass(frozen=True)
class Emerging:
    """Result per location (rows) and bin (columns): z, p, q; per location: trend and pattern."""

    z: np.ndarray
    p: np.ndarray
    q: np.ndarray
    trend_z: np.ndarray
    trend_p: np.ndarray
    pattern: np.ndarray
    alpha: float = 0.05

    def to_frame(self, index=None) -> pd.DataFrame:
        """One row per location: pattern, trend_z, trend_p, final_z, hot_bins, cold_bins."""
        return pd.DataFrame(
            {
                "pattern": self.pattern,
                "trend_z": self.trend_z,
                "trend_p": self.trend_p,
                "final_z": self.z[:, -1],
                "hot_bins": ((self.q <= self.alpha) & (self.z > 0)).sum(axis=1),
                "cold_bins": ((self.q <= self.alpha) & (self.z < 0)).sum(axis=1),
            },
            index=index,
        )


def count_cube(cells, bins, n_cells: int, n_bins: int) -> np.ndarray:
    """Counts per (cell, bin) from per-incident cell ids and bin ids; out-of-range ids are dropped."""
    cells, bins = np.asarray(cells, np.int64), np.asarray(bins, np.int64)
    ok = (cells >= 0) & (cells < n_cells) & (bins >= 0) & (bins < n_bins)
    flat = np.bincount(cells[ok] * n_bins + bins[ok], minlength=n_cells * n_bins)
    return flat.reshape(n_cells, n_bins).astype(float)


def space_time_gi_star(cube, w: sparse.spmatrix, time_window: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores and two-sided p-values for every (location, bin) of a (locations x bins) cube.

    Equivalent to esda's binary ``G_Local(star=True)`` on the flattened cube with space-time weights,
    computed without building the (L*T) x (L*T) matrix: spatial lag per bin, then a running sum
    over the current and ``time_window`` previous bins.
    """
    y = np.asarray(cube, float)
    n_loc, n_bins = y.shape
    ws = star_weights(w, "B")
    spatial_lag = ws @ y
    spatial_card = np.asarray(ws.sum(axis=1)).ravel()
    csum = np.concatenate([np.zeros((n_loc, 1)), np.cumsum(spatial_lag, axis=1)], axis=1)
    upper = np.arange(1, n_bins + 1)
    lower = np.maximum(upper - 1 - time_window, 0)
    lag = csum[:, upper] - csum[:, lower]
    card = spatial_card[:, None] * (upper - lower)[None, :]
    n = y.size
    mean = y.mean()
    sd = y.std()
    with np.errstate(divide="ignore", invalid="ignore"):
        # Binary Gi*: (sum_j w_ij y_j - mean W_i) / (sd sqrt((n W_i - W_i^2) / (n - 1))).
        z = (lag - mean * card) / (sd * np.sqrt(card * (n - card) / (n - 1)))
    z = np.where(np.isfinite(z), z, 0.0)
    return z, 2.0 * stats.norm.sf(np.abs(z))


def mann_kendall(series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall trend test on each row: S, z (with continuity and tie corrections), two-sided p."""
    x = np.atleast_2d(np.asarray(series, float))
    n = x.shape[1]
    i, j = np.triu_indices(n, k=1)
    s = np.sign(x[:, j] - x[:, i]).sum(axis=1)
    # Tie correction: a tie group of size t contributes t(t-1)(2t+5); summed per element as (c-1)(2c+5).
    same = (x[:, :, None] == x[:, None, :]).sum(axis=2)
    ties = ((same - 1) * (2 * same + 5)).sum(axis=1)
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    z = np.where(np.isfinite(z), z, 0.0)
    return s, z, 2.0 * stats.norm.sf(np.abs(z))


def _final_run(flags: np.ndarray) -> np.ndarray:
    # Length of the run of True values that ends in the final bin.
    return np.cumprod(flags[:, ::-1], axis=1).sum(axis=1)


def _patterns_one_side(sig_same, sig_other, trend_z, trend_p, trend_alpha, share) -> np.ndarray:
    # Patterns for one side (hot, or cold with trend sign flipped); "" where none applies.
    n_bins = sig_same.shape[1]
    count = sig_same.sum(axis=1)
    final = sig_same[:, -1]
    run = _final_run(sig_same)
    mostly = count >= share * n_bins - 1e-9
    trend = trend_p <= trend_alpha
    conditions = [
        final & ~mostly & (count == 1),
        final & ~mostly & (run >= 2) & (count == run),
        final & mostly & trend & (trend_z > 0),
        final & mostly & ~trend,
        final & mostly & trend & (trend_z < 0),
        final & ~mostly & ~sig_other.any(axis=1),
        final & ~mostly & sig_other.any(axis=1),
        ~final & mostly,
    ]
    return np.select(conditions, list(PATTERNS), default="")


def classify_patterns(
    z,
    q,
    *,
    alpha: float = 0.05,
    trend_alpha: float = 0.05,
    share: float = 0.9,
    active=None,
    trend_from: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pattern label per location from (locations x bins) z-scores and adjusted p-values.

    Returns (labels, trend_z, trend_p). ``active`` (bool per location) marks locations with data;
    others are "no_pattern", as the method analyses only locations with at least one incident.
    The trend is tested on bins ``trend_from`` onwards (see ``emerging_hot_spots``).
    """
    z, q = np.atleast_2d(np.asarray(z, float)), np.atleast_2d(np.asarray(q, float))
    sig = np.isfinite(q) & (q <= alpha)
    hot, cold = sig & (z > 0), sig & (z < 0)
    _, trend_z, trend_p = mann_kendall(z[:, trend_from:])
    hot_label = _patterns_one_side(hot, cold, trend_z, trend_p, trend_alpha, share)
    cold_label = _patterns_one_side(cold, hot, -trend_z, trend_p, trend_alpha, share)
    hot_full = np.char.add(hot_label.astype(str), "_hot")
    cold_full = np.char.add(cold_label.astype(str), "_cold")
    # The final bin decides the side; a location that is neither now can only be historical.
    final_hot, final_cold = hot[:, -1], cold[:, -1]
    neither = ~final_hot & ~final_cold
    conditions = [
        final_hot & (hot_label != ""),
        final_cold & (cold_label != ""),
        neither & (hot_label == "historical"),
        neither & (cold_label == "historical"),
    ]
    choices = [hot_full, cold_full, hot_full, cold_full]
    labels = np.select(conditions, choices, default="no_pattern").astype(object)
    if active is not None:
        labels[~np.asarray(active, bool)] = "no_pattern"
    return labels, trend_z, trend_p


def emerging_hot_spots(
    cube,
    w: sparse.spmatrix,
    *,
    time_window: int = 1,
    alpha: float = 0.05,
    trend_alpha: float = 0.05,
    fdr: bool = True,
) -> Emerging:
    """Emerging hot spot analysis of a (locations x bins) count cube over spatial weights ``w``."""
    y = np.asarray(cube, float)
    if y.ndim != 2 or y.shape[1] < 2:
        raise ValueError("cube must be (locations x bins) with at least two bins")
    active = y.sum(axis=1) > 0
    z, p = space_time_gi_star(y, w, time_window)
    q = np.full(p.shape, np.nan)
    # Only locations with data are tested, so empty ones do not dilute the FDR correction.
    q[active] = fdr_bh(p[active]) if fdr else p[active]
    # The first bins see fewer time steps, so their |z| is smaller for the same excess; leaving them
    # out of the trend test keeps a steady hot spot from reading as intensifying.
    trend_from = min(time_window, y.shape[1] - 2)
    labels, trend_z, trend_p = classify_patterns(
        z, q, alpha=alpha, trend_alpha=trend_alpha, active=active, trend_from=trend_from
    )
    return Emerging(z=z, p=p, q=q, trend_z=trend_z, trend_p=trend_p, pattern=labels, alpha=alpha)
