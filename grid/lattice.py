"""Regular square lattices over WGS84 areas, point-to-cell assignment and spatial weights.

Cells are square in a metric CRS (UTM 50N by default, which covers Shenzhen), so "200 m" means
200 m on the ground. Cell ids run row-major from the south-west corner: ``id = row * nx + col``,
the same order as libpysal's ``lat2W``. Weights are binary ``scipy.sparse.csr_matrix`` objects with
an empty diagonal; Gi* adds the self-weight itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import shapely
from pyproj import Transformer
from scipy import sparse
from scipy.spatial import cKDTree

#: UTM zone 50N: Pingshan (114.26-114.45 E) sits inside 114-120 E, so scale error stays below 0.1 %.
DEFAULT_CRS = "EPSG:32650"
#: The district's WGS84 bounding box (min lon, min lat, max lon, max lat), with a small margin.
PINGSHAN_BBOX = (114.25, 22.60, 114.46, 22.80)

_QUEEN_OFFSETS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))
_ROOK_OFFSETS = ((-1, 0), (0, -1), (0, 1), (1, 0))


@lru_cache(maxsize=8)
def _transformer(crs: str, inverse: bool) -> Transformer:
    # Building a Transformer costs ~10 ms; a refresh projects several arrays, so keep them.
    if inverse:
        return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def project(lon, lat, crs: str = DEFAULT_CRS) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 lon/lat arrays to metres in ``crs``."""
    x, y = _transformer(crs, False).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x, float), np.asarray(y, float)


def unproject(x, y, crs: str = DEFAULT_CRS) -> tuple[np.ndarray, np.ndarray]:
    """Project metric ``crs`` coordinates back to WGS84 lon/lat arrays."""
    lon, lat = _transformer(crs, True).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


@dataclass(frozen=True)
class SquareLattice:
    """A lattice of ``nx`` by ``ny`` square cells of ``cell_size`` metres from (x0, y0) in ``crs``."""

    x0: float
    y0: float
    cell_size: float
    nx: int
    ny: int
    crs: str = DEFAULT_CRS

    @classmethod
    def over_bbox(
        cls,
        bbox: tuple[float, float, float, float] = PINGSHAN_BBOX,
        cell_size: float = 200.0,
        crs: str = DEFAULT_CRS,
    ) -> SquareLattice:
        """Cover a WGS84 (min lon, min lat, max lon, max lat) box with cells snapped to the CRS grid."""
        min_lon, min_lat, max_lon, max_lat = bbox
        if not (min_lon < max_lon and min_lat < max_lat) or cell_size <= 0:
            raise ValueError(f"empty bounding box or bad cell size: {bbox}, {cell_size}")
        # Project all four corners: a lon/lat box is not a rectangle in UTM.
        xs, ys = project([min_lon, max_lon, max_lon, min_lon], [min_lat, min_lat, max_lat, max_lat], crs)
        # Snapping the origin to multiples of the cell size keeps cell ids stable across runs.
        x0 = math.floor(xs.min() / cell_size) * cell_size
        y0 = math.floor(ys.min() / cell_size) * cell_size
        nx = int(math.ceil((xs.max() - x0) / cell_size))
        ny = int(math.ceil((ys.max() - y0) / cell_size))
        return cls(float(x0), float(y0), float(cell_size), nx, ny, crs)

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return self.nx * self.ny

    def cell_of_xy(self, x, y) -> np.ndarray:
        """Cell id of each metric point, -1 outside the lattice."""
        col = np.floor((np.asarray(x, float) - self.x0) / self.cell_size)
        row = np.floor((np.asarray(y, float) - self.y0) / self.cell_size)
        inside = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        ids = np.where(inside, row * self.nx + col, -1)
        return ids.astype(np.int64)

    def cell_of(self, lon, lat) -> np.ndarray:
        """Cell id of each WGS84 point, -1 outside the lattice."""
        x, y = project(lon, lat, self.crs)
        return self.cell_of_xy(x, y)

    def counts(self, cells: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Count (or sum ``weights`` of) points per cell from their cell ids; ids of -1 are dropped."""
        cells = np.asarray(cells, np.int64)
        keep = cells >= 0
        w = None if weights is None else np.asarray(weights, float)[keep]
        return np.bincount(cells[keep], weights=w, minlength=self.n_cells).astype(float)

    def row_col(self, cells) -> tuple[np.ndarray, np.ndarray]:
        """Row (south to north) and column (west to east) of each cell id."""
        cells = np.asarray(cells, np.int64)
        return cells // self.nx, cells % self.nx

    def centers_xy(self) -> tuple[np.ndarray, np.ndarray]:
        """Metric centre of every cell, in id order."""
        row, col = self.row_col(np.arange(self.n_cells))
        return self.x0 + (col + 0.5) * self.cell_size, self.y0 + (row + 0.5) * self.cell_size

    def centers_lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 centre of every cell, in id order."""
        return unproject(*self.centers_xy(), self.crs)

    def polygons_lonlat(self, cells=None) -> np.ndarray:
        """Shapely polygons in WGS84 for the given cell ids (all cells by default)."""
        cells = np.arange(self.n_cells) if cells is None else np.asarray(cells, np.int64)
        row, col = self.row_col(cells)
        left = self.x0 + col * self.cell_size
        bottom = self.y0 + row * self.cell_size
        # Corners projected one by one, so the cells stay exact squares on the ground.
        cx = np.stack([left, left + self.cell_size, left + self.cell_size, left, left], axis=1)
        cy = np.stack([bottom, bottom, bottom + self.cell_size, bottom + self.cell_size, bottom], axis=1)
        lon, lat = unproject(cx.ravel(), cy.ravel(), self.crs)
        rings = np.stack([lon, lat], axis=1).reshape(len(cells), 5, 2)
        return shapely.polygons(rings)

    def queen_weights(self) -> sparse.csr_matrix:
        """Binary queen contiguity (8 neighbours) between all cells."""
        return _lattice_weights(self.ny, self.nx, _QUEEN_OFFSETS)

    def rook_weights(self) -> sparse.csr_matrix:
        """Binary rook contiguity (4 neighbours) between all cells."""
        return _lattice_weights(self.ny, self.nx, _ROOK_OFFSETS)


def _lattice_weights(ny: int, nx: int, offsets) -> sparse.csr_matrix:
    rows, cols = np.divmod(np.arange(ny * nx), nx)
    src, dst = [], []
    for dr, dc in offsets:
        r, c = rows + dr, cols + dc
        ok = (r >= 0) & (r < ny) & (c >= 0) & (c < nx)
        src.append(np.flatnonzero(ok))
        dst.append(r[ok] * nx + c[ok])
    i, j = np.concatenate(src), np.concatenate(dst)
    n = ny * nx
    return sparse.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n))


def subset_weights(w: sparse.spmatrix, keep) -> sparse.csr_matrix:
    """Weights restricted to the cells selected by a boolean mask or id array (e.g. cells in the district)."""
    keep = np.asarray(keep)
    idx = np.flatnonzero(keep) if keep.dtype == bool else keep.astype(np.int64)
    return sparse.csr_matrix(w)[idx][:, idx]


def weights_from_pairs(i, j, n: int) -> sparse.csr_matrix:
    """Symmetric binary weights from neighbour pairs (i, j), e.g. a stored sub-grid adjacency list."""
    i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
    off = i != j
    a, b = np.concatenate([i[off], j[off]]), np.concatenate([j[off], i[off]])
    w = sparse.csr_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    w.data[:] = 1.0  # duplicate pairs are summed by scipy; weights stay binary
    return w


def distance_band_weights(x, y, threshold: float) -> sparse.csr_matrix:
    """Binary weights between metric points no farther apart than ``threshold`` (e.g. sub-grid centroids)."""
    pts = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    pairs = cKDTree(pts).query_pairs(threshold, output_type="ndarray")
    return weights_from_pairs(pairs[:, 0], pairs[:, 1], len(pts))


def contiguity_weights(polygons, queen: bool = True) -> sparse.csr_matrix:
    """Binary contiguity between polygons: queen shares any boundary point, rook shares an edge."""
    geoms = np.asarray(polygons, dtype=object)
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    off = i != j
    i, j = i[off], j[off]
    if not queen:
        # A corner-only touch intersects in a point (length 0); rook needs a shared edge.
        shared = shapely.length(shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j])))
        edge = shared > 0
        i, j = i[edge], j[edge]
    return weights_from_pairs(i, j, len(geoms))

