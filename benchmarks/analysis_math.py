"""Benchmark of the pure analysis mathematics in ``grid/``.

1. Gi* on 10,000 cells (a 100 x 100 queen lattice): ours against esda's ``G_Local(star=True)`` with
   analytic inference, in the same run; printed as a ratio first, then absolute times.
2. The mathematical part of a full refresh: 30 days of 20,000 incidents in three task families,
   hot spots on the 200 m lattice and on sub-grids (7 and 30 days), emerging hot spots over daily
   bins, rising matters, repeats, indicators and rankings. No database, no Redis.

Run: ``.venv/bin/python benchmarks/analysis_math.py [--permutations]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from grid.emerging import count_cube, emerging_hot_spots
from grid.hotspots import gi_star, hot_spots
from grid.indicators import indicators, red_black_ranking
from grid.lattice import PINGSHAN_BBOX, SquareLattice, distance_band_weights, project
from grid.trends import repeat_clusters, rising_matters, time_bins

CST = "Asia/Shanghai"


def best_of(fn, repeat: int = 5) -> float:
    """Fastest wall time of ``repeat`` calls, in seconds (the machine is shared, so take the best)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_gi_star(permutations: bool) -> None:
    """Gi* on 10,000 cells, ours against esda."""
    from esda.getisord import G_Local
    from libpysal.weights import lat2W

    rng = np.random.default_rng(0)
    lattice = SquareLattice(x0=0.0, y0=0.0, cell_size=200.0, nx=100, ny=100)
    y = rng.poisson(2.0, lattice.n_cells).astype(float)
    w_ours = lattice.queen_weights()
    w_esda = lat2W(100, 100, rook=False)

    def esda_run(perms: int = 0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return G_Local(y, w_esda, star=True, permutations=perms)

    z_diff = np.abs(gi_star(y, w_ours).z - esda_run().Zs).max()
    t_ours = best_of(lambda: gi_star(y, w_ours))
    t_ours_b = best_of(lambda: gi_star(y, w_ours, "B"))
    t_full = best_of(lambda: hot_spots(y, w_ours))
    t_esda = best_of(esda_run)
    print("Gi* on 10,000 cells (100 x 100 queen lattice)")
    print(f"  ratio esda / ours (analytic, transform R): {t_esda / t_ours:.1f} (ours is that many times faster)")
    print(f"  ours gi_star R                 {t_ours * 1e3:8.2f} ms")
    print(f"  ours gi_star B                 {t_ours_b * 1e3:8.2f} ms")
    print(f"  ours hot_spots (B + FDR + classes) {t_full * 1e3:6.2f} ms")
    print(f"  esda G_Local(star=True) analytic {t_esda * 1e3:6.2f} ms")
    print(f"  max |z ours - z esda|          {z_diff:.2e}")
    if permutations:
        t_perm = best_of(lambda: esda_run(999), repeat=1)
        print(f"  esda with 999 permutations     {t_perm * 1e3:8.1f} ms")


def synthetic_incidents(rng: np.random.Generator, n: int, as_of: pd.Timestamp) -> pd.DataFrame:
    """Uniform incidents over Pingshan in 30 days with dispatch/accept/close times and codes."""
    lon = rng.uniform(PINGSHAN_BBOX[0], PINGSHAN_BBOX[2], n)
    lat = rng.uniform(PINGSHAN_BBOX[1], PINGSHAN_BBOX[3], n)
    created = as_of - pd.to_timedelta(rng.uniform(0, 30 * 86400, n), unit="s")
    minutes = lambda scale: pd.to_timedelta(rng.exponential(scale, n), unit="m")  # noqa: E731
    dispatched = created + minutes(15)
    accepted = dispatched + minutes(20)
    resolved = accepted + minutes(240)
    closed = resolved + minutes(60)
    done = closed < as_of
    community = rng.integers(0, 24, n)
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "lon": lon,
            "lat": lat,
            "family": rng.choice(["crime", "dispute", "hazard"], n),
            "matter_code": rng.choice([f"m{k:02d}" for k in range(20)], n),
            "created_at": created,
            "dispatched_at": dispatched,
            "accepted_at": accepted,
            "resolved_at": resolved.where(done),
            "closed_at": closed.where(done),
            "due_at": dispatched + pd.Timedelta(hours=24),
            "on_time": pd.Series(closed < dispatched + pd.Timedelta(hours=24)).where(done),
            "returned": rng.poisson(0.1, n),
            "escalated": rng.uniform(size=n) < 0.05,
            "worker_code": rng.integers(0, 400, n).astype(str),
            "sub_grid_code": rng.integers(0, 300, n).astype(str),
            "community_code": community.astype(str),
            "street_code": (community // 4).astype(str),
        }
    )


def bench_refresh() -> None:
    """The mathematical share of a full refresh on 20,000 incidents in 30 days."""
    rng = np.random.default_rng(1)
    as_of = pd.Timestamp("2024-06-30 00:00", tz=CST)
    df = synthetic_incidents(rng, 20_000, as_of)
    # Sub-grids stand in as 300 centroids with a 1.2 km distance band.
    sg_x, sg_y = project(
        rng.uniform(PINGSHAN_BBOX[0], PINGSHAN_BBOX[2], 300), rng.uniform(PINGSHAN_BBOX[1], PINGSHAN_BBOX[3], 300)
    )
    timings: dict[str, float] = {}

    def step(name, fn):
        t0 = time.perf_counter()
        out = fn()
        timings[name] = time.perf_counter() - t0
        return out

    t_all = time.perf_counter()
    lattice = step("lattice", lambda: SquareLattice.over_bbox(PINGSHAN_BBOX, cell_size=200.0))
    w_cells = step("cell weights", lattice.queen_weights)
    w_sub = step("sub weights", lambda: distance_band_weights(sg_x, sg_y, 1200.0))
    cells = step("assign", lambda: lattice.cell_of(df["lon"].to_numpy(), df["lat"].to_numpy()))
    day = step("bins", lambda: time_bins(df["created_at"], as_of - pd.Timedelta(days=30)))
    sub_idx = df["sub_grid_code"].astype(int).to_numpy()

    def hot():
        out = []
        for family in ("crime", "dispute", "hazard"):
            fam = (df["family"] == family).to_numpy()
            for days in (7, 30):
                sel = fam & (day >= 30 - days)
                out.append(hot_spots(lattice.counts(cells[sel]), w_cells))
                out.append(hot_spots(np.bincount(sub_idx[sel], minlength=300).astype(float), w_sub))
        return out

    step("hot spots", hot)

    def emerging():
        return [
            emerging_hot_spots(count_cube(cells[fam], day[fam], lattice.n_cells, 30), w_cells)
            for fam in ((df["family"] == f).to_numpy() for f in ("crime", "dispute", "hazard"))
        ]

    step("emerging", emerging)
    step("rising", lambda: rising_matters(df, as_of, min_count=3))
    step("repeats", lambda: repeat_clusters(df, as_of))

    def ind():
        out = []
        for key in ("worker_code", "sub_grid_code", "community_code", "street_code"):
            table = indicators(df, ["street_code", key] if key != "street_code" else key, as_of=as_of)
            out.append(red_black_ranking(table, key, within=None if key == "street_code" else "street_code"))
        return out

    step("indicators", ind)
    total = time.perf_counter() - t_all
    print("Refresh mathematics, 20,000 incidents, 30 days, 3 families, 12k cells + 300 sub-grids")
    for name, secs in timings.items():
        print(f"  {name:<12} {secs * 1e3:8.1f} ms")
    print(f"  {'total':<12} {total * 1e3:8.1f} ms (goal for the whole refresh: 5000 ms)")


def main() -> None:
    """Run both benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--permutations", action="store_true", help="also time esda with 999 permutations")
    args = parser.parse_args()
    bench_gi_star(args.permutations)
    bench_refresh()


if __name__ == "__main__":
    main()
