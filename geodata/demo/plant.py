"""What the demo plants for analysis to find: three hot areas and one rising trend."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from geodata.demo.layout import Layout

HOT_FAMILIES = ("crime", "dispute", "hazard")
#: Planted rate against the family's district-wide background rate (the promise is at least 3).
HOT_FACTOR = 6.0
#: Planted extra cases of the trend's matter per week, oldest week first (on top of background).
TREND_EXTRA = (3, 7, 14, 30)
TREND_MATTERS = ("dispute_labour", "hazard_ebike_charging", "dispute_tenancy", "crime_fraud")


@dataclass
class HotArea:
    """A compact cluster of adjacent base grids of one community with a raised rate for one family."""

    family: str
    community: int
    bases: list[int]
    extra: dict[int, int] = field(default_factory=dict)


@dataclass
class Trend:
    """One matter growing week over week in one community."""

    matter: str
    community: int
    extra: tuple[int, ...] = TREND_EXTRA


def _cluster(layout: Layout, comm: int, rng: np.random.Generator, size: int) -> list[int] | None:
    full = layout.base_area >= 0.8 * layout.cell_size**2
    idx = np.flatnonzero((layout.base_comm == comm) & full)
    if len(idx) < 3 * size:
        return None
    dens = layout.density[idx]
    # A middling place: the planted rate, not an already busy centre, should make it hot.
    mid = idx[(dens >= np.quantile(dens, 0.3)) & (dens <= np.quantile(dens, 0.7))]
    seed = int(rng.choice(mid))
    nb = {i: set() for i in idx}
    for a, b in layout.adjacency:
        if a in nb and b in nb:
            nb[a].add(b)
            nb[b].add(a)
    cluster = [seed]
    while len(cluster) < size:
        frontier = sorted({j for c in cluster for j in nb[c]} - set(cluster))
        if not frontier:
            return None
        d = np.linalg.norm(layout.base_cent[frontier] - layout.base_cent[seed], axis=1)
        cluster.append(frontier[int(np.argmin(d))])
    return sorted(cluster)


def choose_hot_areas(layout: Layout, rng: np.random.Generator) -> list[HotArea]:
    """Three hot areas, one per task family, each in a different community."""
    order = rng.permutation(len(layout.communities))
    areas: list[HotArea] = []
    for comm in order:
        if len(areas) == len(HOT_FAMILIES):
            break
        cluster = _cluster(layout, int(comm), rng, int(rng.integers(5, 8)))
        if cluster:
            areas.append(HotArea(HOT_FAMILIES[len(areas)], int(comm), cluster))
    if len(areas) < len(HOT_FAMILIES):
        raise RuntimeError("no room for the planted hot areas")
    return areas


def choose_trend(layout: Layout, hot: list[HotArea], rng: np.random.Generator) -> Trend:
    """The rising matter and its community, away from the hot areas."""
    taken = {h.community for h in hot}
    free = [k for k in range(len(layout.communities)) if k not in taken]
    return Trend(str(rng.choice(TREND_MATTERS)), int(rng.choice(free)))


def size_hot_extras(layout: Layout, hot: list[HotArea], family_total: dict[str, float],
                    family_weight: dict[str, np.ndarray]) -> None:
    """Extra cases per hot base grid so its rate reaches HOT_FACTOR times the family's background."""
    total_area = layout.base_area.sum()
    for h in hot:
        rate = family_total[h.family] / total_area
        w = family_weight[h.family]
        for b in h.bases:
            expected_here = family_total[h.family] * w[b] / w.sum()
            h.extra[b] = max(0, int(round(HOT_FACTOR * rate * layout.base_area[b] - expected_here)))
