"""Emerging hot spot analysis: space-time Gi*, Mann-Kendall, and every pattern from a constructed series."""

import warnings

import numpy as np
import pytest
from esda.getisord import G_Local
from libpysal.weights import WSP
from scipy import sparse

from grid.emerging import (
    LABELS,
    classify_patterns,
    count_cube,
    emerging_hot_spots,
    mann_kendall,
    space_time_gi_star,
)
from grid.lattice import SquareLattice

N_BINS = 12
# z-score series over 12 bins; |z| >= 3 is significant (q 0.001), anything else is not (q 0.5).
HOT_SERIES = {
    "new": [0] * 11 + [3],
    "consecutive": [0] * 9 + [3, 3, 3],
    "intensifying": list(np.linspace(3, 8, N_BINS)),
    "persistent": [4, 3, 5, 3, 4, 5, 3, 4, 5, 4, 3, 4],
    "diminishing": list(np.linspace(8, 3, N_BINS)),
    "sporadic": [0, 3, 0, 0, 3, 3, 0, 0, 0, 3, 0, 3],
    "oscillating": [0, -3, 0, 3, 0, 0, -3, 0, 0, 0, 0, 3],
    "historical": [3] * 11 + [0],
}
CASES = [(f"{name}_hot", series) for name, series in HOT_SERIES.items()]
CASES += [(f"{name}_cold", [-v for v in series]) for name, series in HOT_SERIES.items()]
CASES += [
    ("no_pattern", [0] * N_BINS),
    # Hot long ago, quiet now and for most bins: nothing to report.
    ("no_pattern", [3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    # Only one run, but it started at the first bin and covers >= 90 %: persistent, not consecutive.
    ("persistent_hot", [0] + [3] * 11),
    # Cold in the past, hot for the first time now: its hot history decides (new, not oscillating).
    ("new_hot", [-3, -3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]),
    # A final run of two after an earlier hot bin is sporadic, not consecutive.
    ("sporadic_hot", [0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 3, 3]),
]


def _q(z):
    return np.where(np.abs(np.asarray(z, float)) >= 3, 0.001, 0.5)


@pytest.mark.parametrize(("expected", "series"), CASES)
def test_each_pattern_from_a_constructed_series(expected, series):
    z = np.array([series], float)
    labels, _, _ = classify_patterns(z, _q(z))
    assert labels[0] == expected
    assert expected in LABELS


def test_all_patterns_at_once_and_inactive_locations():
    z = np.array([s for _, s in CASES], float)
    active = np.ones(len(CASES), bool)
    active[0] = False
    labels, trend_z, trend_p = classify_patterns(z, _q(z), active=active)
    assert labels[0] == "no_pattern"
    assert list(labels[1:]) == [label for label, _ in CASES[1:]]
    assert trend_z.shape == trend_p.shape == (len(CASES),)


def test_mann_kendall_on_known_series():
    s, z, p = mann_kendall([[1, 2, 3, 4, 5], [5, 4, 3, 2, 1], [1, 1, 2, 2, 2], [3, 3, 3, 3, 3]])
    assert list(s) == [10, -10, 6, 0]
    # n = 5: var = 5*4*15/18; one tie group of 2 and one of 3 take 2*1*9 + 3*2*11 = 84 off.
    assert z[0] == pytest.approx(9 / np.sqrt(300 / 18))
    assert z[1] == pytest.approx(-9 / np.sqrt(300 / 18))
    assert z[2] == pytest.approx(5 / np.sqrt((300 - 84) / 18))
    assert z[3] == 0 and p[3] == 1
    assert p[0] == pytest.approx(p[1]) and p[0] < 0.05


def test_mann_kendall_false_positive_rate_on_noise():
    rng = np.random.default_rng(4)
    _, _, p = mann_kendall(rng.normal(size=(4000, 20)))
    assert 0.03 <= (p <= 0.05).mean() <= 0.065


@pytest.mark.parametrize("time_window", [0, 1, 2])
def test_space_time_gi_star_equals_esda_on_the_space_time_cube(time_window):
    rng = np.random.default_rng(5)
    lattice = SquareLattice(x0=0.0, y0=0.0, cell_size=200.0, nx=6, ny=5)
    n_loc, n_bins = lattice.n_cells, 8
    cube = rng.poisson(2.0, (n_loc, n_bins)).astype(float)
    z, p = space_time_gi_star(cube, lattice.queen_weights(), time_window)
    # Reference: bin (i, t) at flat index i * n_bins + t; neighbours are spatial neighbours or self
    # at times t - time_window .. t.
    spatial = lattice.queen_weights() + sparse.identity(n_loc)
    lags = sum(sparse.eye(n_bins, k=-k) for k in range(time_window + 1))
    st = sparse.csr_matrix(sparse.kron(spatial, lags))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = G_Local(cube.ravel(), WSP(st).to_W(silence_warnings=True), transform="B", star=True, permutations=0)
    assert np.max(np.abs(z.ravel() - ref.Zs)) < 1e-6
    assert np.allclose(p.ravel(), 2 * ref.p_norm)


def test_count_cube_drops_out_of_range():
    cube = count_cube([0, 0, 1, 2, -1, 1], [0, 0, 1, 1, 0, 5], n_cells=3, n_bins=2)
    assert cube.tolist() == [[2, 0], [0, 1], [0, 1]]


def test_planted_emerging_and_persistent_areas_are_found():
    rng = np.random.default_rng(0)
    lattice = SquareLattice(x0=0.0, y0=0.0, cell_size=200.0, nx=15, ny=15)
    row, col = lattice.row_col(np.arange(lattice.n_cells))
    cube = rng.poisson(1.0, (lattice.n_cells, 14)).astype(float)
    emerging = (abs(row - 4) <= 1) & (abs(col - 4) <= 1)
    steady = (abs(row - 10) <= 1) & (abs(col - 10) <= 1)
    cube[emerging, -3:] += rng.poisson(6.0, (9, 3))
    cube[steady] += rng.poisson(4.0, (9, 14))
    result = emerging_hot_spots(cube, lattice.queen_weights())
    assert result.pattern[4 * 15 + 4] == "consecutive_hot"
    assert result.pattern[10 * 15 + 10] == "persistent_hot"
    far = (abs(row - 4) > 2) | (abs(col - 4) > 2)
    far &= (abs(row - 10) > 2) | (abs(col - 10) > 2)
    # Away from both plants nearly everything is "no pattern".
    assert (result.pattern[far] == "no_pattern").mean() >= 0.95
    frame = result.to_frame()
    assert frame.loc[10 * 15 + 10, "hot_bins"] >= 13


def test_empty_locations_are_no_pattern_and_not_tested():
    lattice = SquareLattice(x0=0.0, y0=0.0, cell_size=200.0, nx=4, ny=4)
    cube = np.zeros((16, 6))
    cube[5] = [1, 2, 1, 3, 2, 1]
    result = emerging_hot_spots(cube, lattice.queen_weights())
    assert np.isnan(result.q[0]).all()
    assert (result.pattern[np.arange(16) != 5] == "no_pattern").all()
