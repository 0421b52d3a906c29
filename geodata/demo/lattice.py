"""Base grids: a square lattice cut by each community, slivers merged into a neighbour."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

#: A piece smaller than this share of a full cell is merged into the neighbour it shares most border with.
SLIVER_SHARE = 0.3
#: The district holds 1,000 to 1,500 base grids; the lattice size is searched to land near the middle.
TARGET_COUNT = 1250
COUNT_RANGE = (1100, 1400)


@dataclass
class BaseGrids:
    """Base grid pieces in metric CRS, with their community index and adjacency."""

    geoms: list[shapely.Geometry]
    community: np.ndarray
    cell_size: float
    # Pairs (i, j), i < j, of base grids of the same community that share a border.
    adjacency: list[tuple[int, int]]


def _cut(comm: shapely.Geometry, size: float, origin: np.ndarray) -> list[shapely.Geometry]:
    minx, miny, maxx, maxy = comm.bounds
    i0, i1 = int(np.floor((minx - origin[0]) / size)), int(np.ceil((maxx - origin[0]) / size))
    j0, j1 = int(np.floor((miny - origin[1]) / size)), int(np.ceil((maxy - origin[1]) / size))
    # Edges computed once, so neighbouring cells share bit-identical coordinates.
    xs = origin[0] + np.arange(i0, i1 + 1) * size
    ys = origin[1] + np.arange(j0, j1 + 1) * size
    ii, jj = np.meshgrid(np.arange(len(xs) - 1), np.arange(len(ys) - 1), indexing="ij")
    ii, jj = ii.ravel(), jj.ravel()
    boxes = shapely.box(xs[ii], ys[jj], xs[ii + 1], ys[jj + 1])
    cut = shapely.intersection(boxes, comm)
    pieces = []
    for geom in cut:
        for part in shapely.get_parts(geom):
            # Lines and points where a cell only touches the community are not area.
            if isinstance(part, shapely.Polygon) and part.area > 1.0:
                pieces.append(part)
    return pieces


def _shared(a: shapely.Geometry, b: shapely.Geometry) -> float:
    return shapely.length(shapely.intersection(a.boundary, b.boundary))


def _merge_slivers(pieces: list[shapely.Geometry], size: float) -> list[shapely.Geometry]:
    limit = SLIVER_SHARE * size * size
    pieces = list(pieces)
    while True:
        areas = np.array([p.area for p in pieces])
        small = [i for i in np.argsort(areas, kind="stable") if areas[i] < limit]
        if not small:
            return pieces
        tree = shapely.STRtree(pieces)
        merged = False
        for i in small:
            best, best_len = None, 1.0
            for j in tree.query(pieces[i], predicate="intersects"):
                if j != i:
                    length = _shared(pieces[i], pieces[j])
                    if length > best_len:
                        best, best_len = int(j), length
            if best is None:
                continue
            union = shapely.union(pieces[best], pieces[i], grid_size=None)
            pieces[best] = union
            del pieces[i]
            merged = True
            # Indices moved: rebuild the tree and start over with the remaining small pieces.
            break
        if not merged:
            return pieces


def _order(pieces: list[shapely.Geometry], size: float) -> list[shapely.Geometry]:
    # Codes run from the north-west corner row by row, as people read a map.
    cents = shapely.centroid(np.array(pieces, dtype=object))
    row = -np.floor(shapely.get_y(cents) / size)
    col = shapely.get_x(cents)
    order = np.lexsort((col, row))
    return [pieces[i] for i in order]


def tile(community_geoms: list[shapely.Geometry], size: float, origin: np.ndarray) -> tuple[list, np.ndarray]:
    """Cut every community by a lattice of `size` metres; return pieces and their community index."""
    geoms, owner = [], []
    for k, comm in enumerate(community_geoms):
        pieces = _order(_merge_slivers(_cut(comm, size, origin), size), size)
        geoms.extend(pieces)
        owner.extend([k] * len(pieces))
    return geoms, np.array(owner)


def adjacency(geoms: list[shapely.Geometry], owner: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of base grids of one community sharing more than 1 m of border."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(np.array(geoms, dtype=object), predicate="intersects")
    keep = (left < right) & (owner[left] == owner[right])
    left, right = left[keep], right[keep]
    arr = np.array(geoms, dtype=object)
    lengths = shapely.length(shapely.intersection(shapely.boundary(arr[left]), shapely.boundary(arr[right])))
    return [(int(a), int(b)) for a, b, n in zip(left, right, lengths) if n > 1.0]


def make_base_grids(community_geoms: list[shapely.Geometry], rng: np.random.Generator) -> BaseGrids:
    """Base grids for all communities, the lattice size chosen so the district holds about 1,250."""
    total = sum(g.area for g in community_geoms)
    origin = rng.uniform(0, 1000, size=2)
    size = float(np.sqrt(total / TARGET_COUNT))
    for _ in range(6):
        geoms, owner = tile(community_geoms, size, origin)
        if COUNT_RANGE[0] <= len(geoms) <= COUNT_RANGE[1]:
            break
        # Border pieces add grids beyond area/size²: correct the size by the miss and try again.
        size *= float(np.sqrt(len(geoms) / TARGET_COUNT))
    else:
        raise RuntimeError(f"could not tile the district into {COUNT_RANGE} base grids")
    return BaseGrids(geoms, owner, size, adjacency(geoms, owner))
