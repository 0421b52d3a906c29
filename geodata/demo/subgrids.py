"""Sub-grids: contiguous groups of whole base grids grown from spread-out seeds inside each community."""

from __future__ import annotations

import numpy as np

#: The proposal's practice: a community holds 3 to 8 comprehensive-governance grids.
MIN_SUB, MAX_SUB = 3, 8
#: About this many base grids make one sub-grid, before clamping to the range above.
BASE_PER_SUB = 9


def _neighbours(n: int, pairs: list[tuple[int, int]]) -> list[set[int]]:
    nb: list[set[int]] = [set() for _ in range(n)]
    for a, b in pairs:
        nb[a].add(b)
        nb[b].add(a)
    return nb


def _spread_seeds(cents: np.ndarray, k: int, rng: np.random.Generator) -> list[int]:
    # Farthest-point sampling: seeds far apart give compact, similar-sized regions.
    seeds = [int(rng.integers(len(cents)))]
    dist = np.linalg.norm(cents - cents[seeds[0]], axis=1)
    while len(seeds) < k:
        nxt = int(np.argmax(dist))
        seeds.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(cents - cents[nxt], axis=1))
    return seeds


def grow_regions(cents: np.ndarray, areas: np.ndarray, neighbours: list[set[int]], k: int,
                 rng: np.random.Generator) -> np.ndarray:
    """Label each cell 0..k-1 so every label is a connected, roughly equal-area region."""
    n = len(cents)
    label = np.full(n, -1)
    seeds = _spread_seeds(cents, k, rng)
    size = np.zeros(k)
    for r, s in enumerate(seeds):
        label[s] = r
        size[r] = areas[s]
    stuck = np.zeros(k, dtype=bool)
    while (label < 0).any() and not stuck.all():
        # Grow the smallest region that still can, by its frontier cell nearest its seed.
        r = int(np.argmin(np.where(stuck, np.inf, size)))
        members = np.flatnonzero(label == r)
        frontier = sorted({j for m in members for j in neighbours[m] if label[j] < 0})
        if not frontier:
            stuck[r] = True
            continue
        d = np.linalg.norm(cents[frontier] - cents[seeds[r]], axis=1)
        pick = frontier[int(np.argmin(d))]
        label[pick] = r
        size[r] += areas[pick]
    # Cells cut off from every seed (a community in two pieces) join the nearest seed's region.
    for i in np.flatnonzero(label < 0):
        label[i] = int(np.argmin(np.linalg.norm(cents[seeds] - cents[i], axis=1)))
    return label


def sub_grid_count(n_base: int) -> int:
    """How many sub-grids a community of `n_base` base grids gets."""
    return int(np.clip(round(n_base / BASE_PER_SUB), MIN_SUB, min(MAX_SUB, n_base)))


def make_sub_grids(cents: np.ndarray, areas: np.ndarray, owner: np.ndarray,
                   pairs: list[tuple[int, int]], rng: np.random.Generator) -> np.ndarray:
    """Sub-grid number (0-based, within its community) of every base grid."""
    neighbours = _neighbours(len(cents), pairs)
    out = np.full(len(cents), -1)
    for comm in np.unique(owner):
        idx = np.flatnonzero(owner == comm)
        local = {g: i for i, g in enumerate(idx)}
        local_nb = [{local[j] for j in neighbours[g] if j in local} for g in idx]
        k = sub_grid_count(len(idx))
        labels = grow_regions(cents[idx], areas[idx], local_nb, k, rng)
        # Number regions by their first base grid so codes follow the base grids' reading order.
        first = {lab: pos for pos, lab in reversed(list(enumerate(labels)))}
        renum = {lab: i for i, lab in enumerate(sorted(first, key=first.get))}
        out[idx] = [renum[lab] for lab in labels]
    return out
