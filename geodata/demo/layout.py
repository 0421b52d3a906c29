"""The whole generated grid: places, base grids and sub-grids with their codes, names and density."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geodata.demo import lattice, places, subgrids


@dataclass
class Layout:
    """Everything spatial the demo needs, in the metric CRS, indexed by base grid."""

    places: places.Places
    base_geoms: list[shapely.Geometry]
    base_codes: list[str]
    base_comm: np.ndarray          # community index per base grid
    base_sub: np.ndarray           # global sub-grid index per base grid
    base_cent: np.ndarray          # (n, 2) centroids
    base_area: np.ndarray          # m²
    adjacency: list[tuple[int, int]]
    sub_codes: list[str]
    sub_comm: np.ndarray           # community index per sub-grid
    density: np.ndarray            # relative incident density (per m²) per base grid
    cell_size: float

    @property
    def communities(self) -> list[places.Community]:
        return self.places.communities

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Base grid index holding each point, -1 outside."""
        tree = shapely.STRtree(self.base_geoms)
        pts = shapely.points(x, y)
        pi, gi = tree.query(pts, predicate="intersects")
        out = np.full(len(pts), -1)
        # A point on a shared border belongs to one grid: the first match wins, deterministically.
        order = np.lexsort((gi, pi))
        pi, gi = pi[order], gi[order]
        first = np.r_[True, pi[1:] != pi[:-1]]
        out[pi[first]] = gi[first]
        return out


def _density(cents: np.ndarray, seeds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Built-up cores around community centres plus a rough random texture: busy centres, quiet hills.
    d2 = ((cents[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2)
    cores = np.exp(-d2 / (2 * 1400.0**2)).sum(axis=1)
    texture = rng.lognormal(0.0, 0.25, size=len(cents))
    return (0.35 + cores) * texture


def make_layout(rng: np.random.Generator) -> Layout:
    """Generate the district down to base grids and sub-grids, deterministically from `rng`."""
    pl = places.make_places(rng)
    bg = lattice.make_base_grids(pl.community_geoms, rng)
    arr = np.array(bg.geoms, dtype=object)
    cents = np.column_stack([shapely.get_x(shapely.centroid(arr)), shapely.get_y(shapely.centroid(arr))])
    areas = shapely.area(arr)
    local_sub = subgrids.make_sub_grids(cents, areas, bg.community, bg.adjacency, rng)
    base_codes, sub_codes, sub_comm = [], [], []
    base_sub = np.zeros(len(arr), dtype=int)
    for k, comm in enumerate(pl.communities):
        idx = np.flatnonzero(bg.community == k)
        first_sub = len(sub_codes)
        for n in range(int(local_sub[idx].max()) + 1):
            sub_codes.append(f"{comm.code}{n + 1:02d}")
            sub_comm.append(k)
        for seq, i in enumerate(idx, start=1):
            base_codes.append(f"{comm.code}{seq:03d}")
            base_sub[i] = first_sub + local_sub[i]
    return Layout(
        places=pl, base_geoms=bg.geoms, base_codes=base_codes, base_comm=bg.community, base_sub=base_sub,
        base_cent=cents, base_area=areas, adjacency=bg.adjacency, sub_codes=sub_codes,
        sub_comm=np.array(sub_comm), density=_density(cents, pl.seeds_xy, rng), cell_size=bg.cell_size,
    )


def random_points_in(geoms: list[shapely.Geometry], which: np.ndarray,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One uniform random point inside geoms[which[i]] for every i (rejection sampling, vectorised)."""
    which = np.asarray(which)
    bounds = shapely.bounds(np.array(geoms, dtype=object))
    x = np.empty(len(which))
    y = np.empty(len(which))
    todo = np.arange(len(which))
    while len(todo):
        b = bounds[which[todo]]
        tx = rng.uniform(b[:, 0], b[:, 2])
        ty = rng.uniform(b[:, 1], b[:, 3])
        inside = shapely.contains_xy(np.array(geoms, dtype=object)[which[todo]], tx, ty)
        x[todo[inside]] = tx[inside]
        y[todo[inside]] = ty[inside]
        todo = todo[~inside]
    return x, y
