"""Gi* hot spots: equality with esda, FDR, classes, a planted cluster and uniform noise."""

import warnings

import numpy as np
import pytest
from esda.getisord import G_Local
from libpysal.weights import KNN, lat2W
from scipy import stats

from grid.hotspots import CLASSES, classify, fdr_bh, gi_star, hot_spots
from grid.lattice import PINGSHAN_BBOX, SquareLattice


def _esda(y, w, **kw):
    with warnings.catch_warnings():
        # esda warns that it fills the empty diagonal itself; that is the behaviour being matched.
        warnings.simplefilter("ignore")
        return G_Local(y, w, star=True, permutations=0, **kw)


@pytest.mark.parametrize("transform", [None, "R", "B"])
def test_z_scores_equal_esda_on_a_queen_lattice(transform):
    rng = np.random.default_rng(0)
    lattice = SquareLattice(x0=0.0, y0=0.0, cell_size=200.0, nx=30, ny=20)
    y = rng.poisson(3.0, lattice.n_cells).astype(float)
    y[45:48] += 12
    kw = {} if transform is None else {"transform": transform}
    ref = _esda(y, lat2W(20, 30, rook=False), **kw)
    ours = gi_star(y, lattice.queen_weights(), **kw)
    assert np.max(np.abs(ours.z - ref.Zs)) < 1e-6
    assert np.max(np.abs(ours.g - ref.Gs)) < 1e-12
    assert np.allclose(ours.variance, ref.VGs, rtol=1e-9, atol=0)
    assert np.allclose(ours.p, 2 * ref.p_norm)


@pytest.mark.parametrize("transform", ["R", "B"])
def test_z_scores_equal_esda_on_asymmetric_knn_weights(transform):
    rng = np.random.default_rng(1)
    pts = rng.uniform(0, 5000, (400, 2))
    y = rng.gamma(2.0, 3.0, 400)
    ref = _esda(y, KNN.from_array(pts, k=6), transform=transform)
    ours = gi_star(y, KNN.from_array(pts, k=6).sparse, transform)
    assert np.max(np.abs(ours.z - ref.Zs)) < 1e-6


def test_constant_surface_has_no_hot_spots():
    lattice = SquareLattice(x0=0.0, y0=0.0, cell_size=200.0, nx=5, ny=5)
    table = hot_spots(np.zeros(25), lattice.queen_weights())
    assert (table["z"] == 0).all()
    assert (table["class"] == "not_significant").all()


def test_fdr_matches_scipy_and_keeps_nans():
    rng = np.random.default_rng(2)
    p = rng.uniform(0, 1, 500) ** 3
    assert np.allclose(fdr_bh(p), stats.false_discovery_control(p, method="bh"))
    q = fdr_bh(np.array([0.01, np.nan, 0.04, 0.03]))
    assert np.isnan(q[1])
    assert np.allclose(q[[0, 2, 3]], [0.03, 0.04, 0.04])


@pytest.mark.parametrize(
    ("z", "q", "expected"),
    [
        (3.0, 0.005, "hot_99"),
        (2.2, 0.03, "hot_95"),
        (1.8, 0.08, "hot_90"),
        (1.8, 0.2, "not_significant"),
        (-1.8, 0.08, "cold_90"),
        (-2.2, 0.03, "cold_95"),
        (-3.0, 0.001, "cold_99"),
        (0.0, 1.0, "not_significant"),
        (5.0, np.nan, "not_significant"),
    ],
)
def test_classes(z, q, expected):
    assert classify(np.array([z]), np.array([q]))[0] == expected
    assert expected in CLASSES


def _uniform_points(rng, n):
    lon = rng.uniform(PINGSHAN_BBOX[0], PINGSHAN_BBOX[2], n)
    lat = rng.uniform(PINGSHAN_BBOX[1], PINGSHAN_BBOX[3], n)
    return lon, lat


def test_planted_cluster_comes_out_hot_at_95():
    rng = np.random.default_rng(3)
    lattice = SquareLattice.over_bbox(PINGSHAN_BBOX, cell_size=200.0)
    lon, lat = _uniform_points(rng, 20_000)
    # 300 extra cases within about 300 m of a market in Pingshan's centre.
    c_lon, c_lat = 114.35, 22.70
    p_lon = c_lon + rng.normal(0, 0.0015, 300)
    p_lat = c_lat + rng.normal(0, 0.0015, 300)
    counts = lattice.counts(lattice.cell_of(np.r_[lon, p_lon], np.r_[lat, p_lat]))
    table = hot_spots(counts, lattice.queen_weights())
    centre = lattice.cell_of([c_lon], [c_lat])[0]
    assert table["class"].iloc[centre] in ("hot_95", "hot_99")
    hot = np.flatnonzero(table["class"].isin(["hot_95", "hot_99"]).to_numpy())
    x, y = lattice.centers_xy()
    # Everything called hot at 95 % lies near the plant: no false hot spots elsewhere.
    assert np.hypot(x[hot] - x[centre], y[hot] - y[centre]).max() < 1000.0


def test_uniform_random_points_give_no_more_hot_cells_than_alpha():
    lattice = SquareLattice.over_bbox(PINGSHAN_BBOX, cell_size=200.0)
    w = lattice.queen_weights()
    shares = []
    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        counts = lattice.counts(lattice.cell_of(*_uniform_points(rng, 20_000)))
        table = hot_spots(counts, w)
        shares.append(table["class"].str.startswith("hot").mean())
    # Under no structure BH at 10 % should call almost nothing; 10 % of cells would be the naive share.
    assert max(shares) <= 0.02
    assert np.mean(shares) <= 0.005


def test_without_fdr_uniform_noise_calls_about_the_nominal_share():
    # Sanity check of calibration: raw two-sided p at 10 % calls about 5 % of cells hot.
    lattice = SquareLattice.over_bbox(PINGSHAN_BBOX, cell_size=200.0)
    rng = np.random.default_rng(7)
    counts = lattice.counts(lattice.cell_of(*_uniform_points(rng, 20_000)))
    table = hot_spots(counts, lattice.queen_weights(), fdr=False)
    share = table["class"].str.startswith("hot").mean()
    assert 0.02 <= share <= 0.09
