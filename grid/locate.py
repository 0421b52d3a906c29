"""Point-in-grid lookup: which base grid (and so sub-grid, community, street) holds each point.

Built once from the base grids and kept in memory by the ingest path. A lookup raster answers most
points with one array read; only points in raster cells that a grid boundary crosses are tested
exactly against the polygons (shapely's STRtree), so the answer is exact everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree

OUTSIDE = -1
# Raster cell marker for "a boundary crosses this cell: ask the polygons".
_MIXED = -2


@dataclass(frozen=True)
class GridRecord:
    """One base grid and its place in the hierarchy."""

    base_grid: str
    sub_grid: str
    community: str
    street: str


class GridIndex:
    """Vectorised point -> base grid lookup over a fixed set of base grids."""

    def __init__(self, records: list[GridRecord], geoms, cell_deg: float = 0.0002):
        if len(records) != len(geoms):
            raise ValueError("one geometry per record")
        self.records = records
        self.geoms = np.asarray(geoms, dtype=object)
        self.tree = STRtree(self.geoms)
        self._build_raster(cell_deg)

    def __len__(self) -> int:
        return len(self.records)

    # -- raster ------------------------------------------------------------------------------
    def _build_raster(self, cell: float) -> None:
        if len(self.geoms) == 0:
            self.bounds = (0.0, 0.0, 0.0, 0.0)
            self.cell = cell
            self.raster = np.full((1, 1), OUTSIDE, dtype=np.int32)
            return
        minx, miny, maxx, maxy = shapely.total_bounds(self.geoms)
        self.bounds = (minx, miny, maxx, maxy)
        self.cell = cell
        nx = int(np.ceil((maxx - minx) / cell)) + 1
        ny = int(np.ceil((maxy - miny) / cell)) + 1
        # Label every cell by the grid holding its centre ...
        xs = minx + (np.arange(nx) + 0.5) * cell
        ys = miny + (np.arange(ny) + 0.5) * cell
        cx, cy = np.meshgrid(xs, ys)
        centres = shapely.points(cx.ravel(), cy.ravel())
        raster = self._exact(centres).reshape(ny, nx)
        # ... then mark every cell a boundary passes through as mixed. Cell boxes that intersect a
        # boundary line are found with the tree of boundaries; this keeps the raster exact.
        boundaries = shapely.boundary(self.geoms)
        btree = STRtree(boundaries)
        bx0 = minx + np.arange(nx) * cell
        by0 = miny + np.arange(ny) * cell
        gx0, gy0 = np.meshgrid(bx0, by0)
        boxes = shapely.box(gx0.ravel(), gy0.ravel(), gx0.ravel() + cell, gy0.ravel() + cell)
        hit_cells, _ = btree.query(boxes, predicate="intersects")
        flat = raster.ravel()
        flat[np.unique(hit_cells)] = _MIXED
        self.raster = flat.reshape(ny, nx)

    def _exact(self, points: np.ndarray) -> np.ndarray:
        """Exact lookup with the polygon tree; ties on shared edges go to the lowest index."""
        out = np.full(len(points), OUTSIDE, dtype=np.int32)
        if len(points) == 0:
            return out
        pi, gi = self.tree.query(points, predicate="intersects")
        if len(pi):
            # Reverse order so the lowest grid index is written last and wins ties.
            order = np.lexsort((-gi, pi))
            out[pi[order]] = gi[order]
        return out

    # -- lookup ------------------------------------------------------------------------------
    def locate(self, lon, lat) -> np.ndarray:
        """Index of the base grid holding each point, or OUTSIDE (-1)."""
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        minx, miny, maxx, maxy = self.bounds
        ny, nx = self.raster.shape
        # NaN and far-away points become -1 before the integer cast, which would warn on them.
        fx = np.nan_to_num((lon - minx) / self.cell, nan=-1.0, posinf=-1.0, neginf=-1.0)
        fy = np.nan_to_num((lat - miny) / self.cell, nan=-1.0, posinf=-1.0, neginf=-1.0)
        ix = np.floor(np.clip(fx, -1, nx)).astype(np.int64)
        iy = np.floor(np.clip(fy, -1, ny)).astype(np.int64)
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        out = np.full(lon.shape, OUTSIDE, dtype=np.int32)
        out[inside] = self.raster[iy[inside], ix[inside]]
        mixed = np.flatnonzero(out == _MIXED)
        if len(mixed):
            out[mixed] = self._exact(shapely.points(lon[mixed], lat[mixed]))
        return out

    def record(self, index: int) -> GridRecord | None:
        """The record for an index from locate(), None when outside."""
        return None if index < 0 else self.records[index]
