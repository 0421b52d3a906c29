"""Getis-Ord Gi* hot spots: vectorised statistic, analytic p-values, FDR correction and classes.

``gi_star`` reproduces esda's ``G_Local(star=True)`` exactly (statistic, expectation, variance and
z-score) for binary ("B") and row-standardised ("R") weights. Note esda's variance is the exact
permutation variance only for binary weights: with "R" it treats every row as having one
neighbour, which shrinks z-scores by about sqrt(k + 1) for k neighbours. ``hot_spots`` therefore
classifies with binary weights by default, the way the classic Gi* (and ArcGIS's fixed-distance
hot spot analysis) does, so that its p-values are calibrated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse, stats

#: Class labels from hottest to coldest; significance is read from FDR-adjusted p-values.
CLASSES = ("hot_99", "hot_95", "hot_90", "not_significant", "cold_90", "cold_95", "cold_99")
_LEVELS = ((0.01, "99"), (0.05, "95"), (0.10, "90"))


@dataclass(frozen=True)
class GiStar:
    """Per-location Gi*: statistic ``g``, its expectation, variance, z-score and two-sided p-value."""

    g: np.ndarray
    expected: np.ndarray
    variance: np.ndarray
    z: np.ndarray
    p: np.ndarray


def star_weights(w: sparse.spmatrix, transform: str = "R") -> sparse.csr_matrix:
    """Add the self-weight and transform ("B" binary, "R" row-standardised) as esda does for Gi*."""
    t = transform.upper()
    if t not in ("B", "R"):
        raise ValueError(f"transform must be 'B' or 'R', not {transform!r}")
    w = sparse.csr_matrix(w, dtype=float, copy=True)
    w.eliminate_zeros()
    if not w.diagonal().any():
        # esda's rule when the diagonal is empty: self-weight 1 for binary, the row maximum otherwise.
        if t == "B":
            self_w = np.ones(w.shape[0])
        else:
            self_w = w.max(axis=1).toarray().ravel()
            self_w[self_w == 0] = 1.0  # an island keeps itself, which libpysal also does
        w = (w + sparse.diags(self_w)).tocsr()
    if t == "B":
        w.data[:] = 1.0
    else:
        rows = np.asarray(w.sum(axis=1)).ravel()
        w = sparse.diags(1.0 / rows) @ w
    return sparse.csr_matrix(w)


def gi_star(y, w: sparse.spmatrix, transform: str = "R") -> GiStar:
    """Getis-Ord Gi* of ``y`` over weights ``w`` (no self-weight needed); esda's default transform is "R"."""
    y = np.asarray(y, float).ravel()
    ws = star_weights(w, transform)
    return _gi_from_lag(ws @ y, np.asarray(ws.sum(axis=1)).ravel(), y)


def _gi_from_lag(lag: np.ndarray, card: np.ndarray, y: np.ndarray) -> GiStar:
    # Gi* moments under random relabelling; `card` is the row sum of the star weights.
    n = y.size
    total = y.sum()
    mean = total / n
    var = (y**2).mean() - mean**2
    g = lag / total if total != 0 else np.full(lag.shape, np.nan)
    expected = card / n
    variance = card * (n - card) / (n - 1) / n**2 * (var / mean**2) if mean != 0 else np.full(lag.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (g - expected) / np.sqrt(variance)
    # A constant surface (all zero, say) carries no evidence: z 0, not NaN, so nothing is flagged.
    z = np.where(np.isfinite(z), z, 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return GiStar(g=g, expected=expected, variance=variance, z=z, p=p)


def fdr_bh(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaNs stay NaN and do not count as tests."""
    p = np.asarray(p, float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    pv = p[ok]
    m = pv.size
    if m == 0:
        return q
    order = np.argsort(pv)
    scaled = pv[order] * m / np.arange(1, m + 1)
    # Running minimum from the largest p down makes the adjusted values monotone.
    adj = np.minimum.accumulate(scaled[::-1])[::-1].clip(max=1.0)
    out = np.empty(m)
    out[order] = adj
    q[ok] = out
    return q


def classify(z, q) -> np.ndarray:
    """Hot/cold class at 99/95/90 % from z-scores and (adjusted) two-sided p-values."""
    z, q = np.asarray(z, float), np.asarray(q, float)
    out = np.full(z.shape, "not_significant", dtype=object)
    # Loosest level first so stricter levels overwrite it.
    for alpha, tag in reversed(_LEVELS):
        sig = np.isfinite(q) & (q <= alpha)
        out[sig & (z > 0)] = f"hot_{tag}"
        out[sig & (z < 0)] = f"cold_{tag}"
    return out


def hot_spots(y, w: sparse.spmatrix, *, transform: str = "B", fdr: bool = True, index=None) -> pd.DataFrame:
    """Gi* hot spot table: columns value, z, p, q (BH-adjusted unless ``fdr`` is False) and class."""
    y = np.asarray(y, float).ravel()
    gi = gi_star(y, w, transform)
    q = fdr_bh(gi.p) if fdr else gi.p
    return pd.DataFrame(
        {"value": y, "z": gi.z, "p": gi.p, "q": q, "class": classify(gi.z, q)},
        index=index,
    )
