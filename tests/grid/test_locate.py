"""The in-memory grid index answers exactly what the polygons say, boundaries included."""

import numpy as np
import pytest
import shapely

from grid.locate import OUTSIDE, GridIndex, GridRecord


def _tiling(seed: int, n: int = 6):
    """An irregular tiling: Voronoi cells of random points clipped to a box near Pingshan."""
    rng = np.random.default_rng(seed)
    box = shapely.box(114.30, 22.65, 114.34, 22.69)
    pts = shapely.multipoints(np.column_stack([rng.uniform(114.30, 114.34, n * n), rng.uniform(22.65, 22.69, n * n)]))
    cells = [shapely.intersection(c, box) for c in shapely.get_parts(shapely.voronoi_polygons(pts))]
    cells = [c for c in cells if not c.is_empty]
    recs = [GridRecord(f"b{i:03d}", f"s{i % 3}", "c", "st") for i in range(len(cells))]
    return recs, cells, box


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_locate_matches_brute_force(seed):
    recs, cells, box = _tiling(seed)
    index = GridIndex(recs, cells, cell_deg=0.0005)
    rng = np.random.default_rng(seed + 100)
    lon = rng.uniform(114.29, 114.35, 20_000)
    lat = rng.uniform(22.64, 22.70, 20_000)
    got = index.locate(lon, lat)
    pts = shapely.points(lon, lat)
    for i in range(0, len(pts), 997):
        hits = [j for j, c in enumerate(cells) if c.intersects(pts[i])]
        assert got[i] == (min(hits) if hits else OUTSIDE)
    # Every point of the box is in some cell, everything else outside.
    inside_box = shapely.contains_xy(box, lon, lat)
    assert (got[inside_box] >= 0).all()
    assert (got[~shapely.intersects(box, pts)] == OUTSIDE).all()


def test_points_on_shared_edges_and_vertices_are_located_once():
    a = shapely.box(0, 0, 1, 1)
    b = shapely.box(1, 0, 2, 1)
    index = GridIndex([GridRecord("a", "s", "c", "t"), GridRecord("b", "s", "c", "t")], [a, b], cell_deg=0.25)
    got = index.locate([1.0, 1.0, 0.5, 1.5, 2.5, np.nan], [0.5, 1.0, 0.5, 0.5, 0.5, 0.5])
    assert got.tolist() == [0, 0, 0, 1, OUTSIDE, OUTSIDE]
    assert index.record(1).base_grid == "b"
    assert index.record(OUTSIDE) is None


def test_empty_index_locates_nothing():
    index = GridIndex([], [])
    assert index.locate([114.3], [22.7]).tolist() == [OUTSIDE]
