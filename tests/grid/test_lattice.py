"""Square lattice over Pingshan: cell assignment, geometry and neighbour weights."""

import numpy as np
import pytest
import shapely
from libpysal.weights import lat2W

from grid.lattice import (
    PINGSHAN_BBOX,
    SquareLattice,
    contiguity_weights,
    distance_band_weights,
    project,
    subset_weights,
    weights_from_pairs,
)


@pytest.fixture(scope="module")
def pingshan() -> SquareLattice:
    return SquareLattice.over_bbox(PINGSHAN_BBOX, cell_size=200.0)


def test_lattice_covers_the_bbox_with_200_m_cells(pingshan):
    # The box is about 21.6 km by 22.2 km: about 108 by 111 cells of 200 m.
    assert 105 <= pingshan.nx <= 112
    assert 108 <= pingshan.ny <= 115
    assert pingshan.x0 % 200 == 0 and pingshan.y0 % 200 == 0
    lon = np.array([PINGSHAN_BBOX[0], PINGSHAN_BBOX[2], PINGSHAN_BBOX[0], PINGSHAN_BBOX[2]])
    lat = np.array([PINGSHAN_BBOX[1], PINGSHAN_BBOX[1], PINGSHAN_BBOX[3], PINGSHAN_BBOX[3]])
    assert (pingshan.cell_of(lon, lat) >= 0).all()


def test_cell_centres_map_back_to_their_own_cell(pingshan):
    lon, lat = pingshan.centers_lonlat()
    assert np.array_equal(pingshan.cell_of(lon, lat), np.arange(pingshan.n_cells))


def test_points_outside_get_minus_one(pingshan):
    cells = pingshan.cell_of([113.0, 114.35, 114.35], [22.7, 30.0, 22.7])
    assert cells[0] == -1 and cells[1] == -1 and cells[2] >= 0


def test_cells_are_200_m_squares_on_the_ground(pingshan):
    polys = pingshan.polygons_lonlat([0, 5000, pingshan.n_cells - 1])
    for poly in polys:
        x, y = project(*np.asarray(poly.exterior.coords).T)
        metric = shapely.Polygon(np.column_stack([x, y]))
        assert metric.area == pytest.approx(40_000.0, rel=1e-6)
    # The polygon of a cell contains that cell's centre.
    lon, lat = pingshan.centers_lonlat()
    assert shapely.contains_xy(polys[1], lon[5000], lat[5000])


def test_points_200_m_apart_fall_in_adjacent_cells():
    lattice = SquareLattice(x0=0.0, y0=0.0, cell_size=200.0, nx=10, ny=10)
    cells = lattice.cell_of_xy([50.0, 250.0, 50.0, 1999.0], [50.0, 50.0, 250.0, 1999.0])
    assert list(cells) == [0, 1, 10, 99]


def test_counts_are_a_bincount_of_inside_points():
    lattice = SquareLattice(x0=0.0, y0=0.0, cell_size=100.0, nx=3, ny=2)
    cells = lattice.cell_of_xy([10, 20, 150, 250, 250, 999], [10, 10, 10, 150, 150, 10])
    counts = lattice.counts(cells)
    assert list(counts) == [2, 1, 0, 0, 0, 2]
    assert list(lattice.counts(cells, weights=[1, 2, 3, 4, 5, 6])) == [3, 3, 0, 0, 0, 9]


@pytest.mark.parametrize("rook", [False, True])
def test_contiguity_matches_libpysal_lat2w(rook):
    lattice = SquareLattice(x0=0.0, y0=0.0, cell_size=200.0, nx=7, ny=5)
    ours = lattice.rook_weights() if rook else lattice.queen_weights()
    theirs = lat2W(5, 7, rook=rook).sparse
    assert abs(ours - theirs).sum() == 0
    degree = np.asarray(ours.sum(axis=1)).ravel()
    assert degree[0] == (2 if rook else 3)
    assert degree[7 + 1] == (4 if rook else 8)


def test_distance_band_matches_brute_force():
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 1000, 200), rng.uniform(0, 1000, 200)
    w = distance_band_weights(x, y, 120.0).toarray()
    d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    expected = (d <= 120.0) & ~np.eye(200, dtype=bool)
    assert np.array_equal(w.astype(bool), expected)


def test_polygon_contiguity_queen_and_rook():
    squares = [shapely.box(c, r, c + 1, r + 1) for r in range(3) for c in range(3)]
    queen = contiguity_weights(squares, queen=True)
    rook = contiguity_weights(squares, queen=False)
    assert queen[4].sum() == 8 and rook[4].sum() == 4
    assert queen[0].sum() == 3 and rook[0].sum() == 2
    assert queen[0, 4] == 1 and rook[0, 4] == 0
    assert (queen != queen.T).nnz == 0


def test_weights_from_pairs_is_symmetric_and_binary():
    w = weights_from_pairs([0, 0, 1, 2, 2], [1, 1, 0, 2, 3], 4).toarray()
    assert np.array_equal(w, w.T)
    assert set(np.unique(w)) == {0.0, 1.0}
    assert w[2, 2] == 0 and w[2, 3] == 1 and w[0, 1] == 1


def test_subset_weights_keeps_only_selected_cells():
    lattice = SquareLattice(x0=0.0, y0=0.0, cell_size=200.0, nx=3, ny=3)
    keep = np.zeros(9, bool)
    keep[[0, 1, 4]] = True
    sub = subset_weights(lattice.queen_weights(), keep).toarray()
    assert sub.shape == (3, 3)
    assert np.array_equal(sub, np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0]]))

