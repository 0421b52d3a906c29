"""Benchmark of a full analysis refresh, end to end, against esda's Gi* in the same run.

A fresh database on the configured PostGIS server is seeded with the demo (30 days, 20,000
incidents), then `workers.analysis.Analyzer.refresh` runs: load (one query), Gi* on the 200 m
lattice and on sub-grids (3 task families x 7 and 30 days, FDR, classes), emerging hot spots over
30 daily bins, warnings, indicators and rankings, and the bulk store. The first refresh builds the
lattices (cold); later ones reuse them as the worker does (warm, best of --repeat). The Gi* part is
then timed beside esda's ``G_Local(star=True)`` (analytic, binary weights) on the same 12 vectors.

Run: ``.venv/bin/python benchmarks/analysis.py [--database-url URL] [--repeat 3]``. Goal: <= 5 s.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from geodata import db, migrate
from geodata import analysis_repo as repo
from geodata.demo import seed_demo
from grid.hotspots import gi_star
from workers import analysis
from workers import analysis_compute as compute
from geodata.settings import Settings

GOAL_S = 5.0


def best_of(fn, repeat: int) -> float:
    """Fastest wall time of ``repeat`` calls (the machine is shared, so take the best)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def gi_vectors(conn, lat: compute.Lattices, as_of: pd.Timestamp, cfg: analysis.AnalysisConfig):
    """The 12 (lattice, family, window) vectors and weights a refresh feeds to Gi*."""
    df = repo.load_incidents(conn, (as_of - pd.Timedelta(days=max(cfg.windows))).to_pydatetime(),
                             as_of.to_pydatetime())
    pos = compute.cell_positions(df, lat)
    out = []
    for lattice in (lat.square_lattice, lat.sub_lattice):
        for days in cfg.windows:
            for family in cfg.families:
                sel = ((df["family"] == family) & (df["status"] != "cancelled")
                       & (df["created_at"] >= as_of - pd.Timedelta(days=days))).to_numpy() & (pos[lattice.name] >= 0)
                y = np.bincount(pos[lattice.name][sel], minlength=len(lattice.cells)).astype(float)
                if lattice.area_km2 is not None:
                    y = y / np.maximum(lattice.area_km2, 1e-6)
                out.append((lattice, y))
    return df, pos, out


def bench_esda(vectors, repeat: int) -> tuple[float, float, float]:
    """(ours, esda) seconds for Gi* on all vectors, and the largest z difference."""
    from esda.getisord import G_Local
    from libpysal.weights import WSP

    ws = {id(lat.w): WSP(lat.w).to_W(silence_warnings=True) for lat, _ in vectors}

    def esda_all():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [G_Local(y, ws[id(lat.w)], star=True, transform="B", permutations=0) for lat, y in vectors]

    def ours_all():
        return [gi_star(y, lat.w, "B") for lat, y in vectors]

    diff = max(float(np.abs(a.Zs - b.z).max()) for a, b in zip(esda_all(), ours_all()))
    return best_of(ours_all, repeat), best_of(esda_all, repeat), diff


def main() -> int:
    """Seed a scratch database, time the refresh and esda, print, drop the database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostGIS server (default: the configured one)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    base = args.database_url or Settings().require_database()
    admin = psycopg.conninfo.make_conninfo(base, dbname="postgres")
    name = f"gw_bench_{uuid.uuid4().hex[:8]}"
    url = psycopg.conninfo.make_conninfo(base, dbname=name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        now = datetime.now(UTC)
        with psycopg.connect(url) as conn, tempfile.TemporaryDirectory() as home:
            migrate.migrate(conn)
            seeded = seed_demo(conn, Path(home), now=now, progress=False)
        print(f"demo seeded in {seeded.seconds:.1f} s: {seeded.counts.get('incident', 0):,} incidents over 30 days")
        analyzer = analysis.Analyzer()
        with db.connect(url, autocommit=True) as conn:
            cold = analyzer.refresh(conn, as_of=now)
            warm = [analyzer.refresh(conn, as_of=now) for _ in range(args.repeat)]
            best = min(warm, key=lambda r: r.seconds)
            lat = analyzer.lattices(conn)
            df, pos, vectors = gi_vectors(conn, lat, pd.Timestamp(now), analyzer.config)
        cfg = analyzer.config
        t_hot = best_of(lambda: compute.hotspot_cells(df, lat, pos, pd.Timestamp(now), cfg.families, cfg.windows),
                        args.repeat)
        ours, esda, diff = bench_esda(vectors, args.repeat)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    n_sq, n_sub = len(lat.square_lattice.cells), len(lat.sub_lattice.cells)
    print(f"\nGi* part: {len(vectors)} vectors ({n_sq:,} squares of 200 m, {n_sub} sub-grids; 3 families x 7/30 days)")
    print(f"  ratio esda / ours (statistic only): {esda / ours:.1f}x")
    print(f"  ours gi_star: {ours * 1000:.1f} ms   esda G_Local(star=True, analytic): {esda * 1000:.1f} ms   "
          f"max |z diff| {diff:.2e}")
    print(f"  ours full hot-spot step (Gi*, FDR, classes, rows): {t_hot * 1000:.1f} ms")
    print(f"\nfull refresh end to end (load, Gi* both lattices, emerging, warnings, indicators, store), goal <= {GOAL_S} s:")
    print(f"  cold (builds lattices): {cold.seconds:.2f} s")
    print(f"  warm (best of {args.repeat}): {best.seconds:.2f} s   {'OK' if best.seconds <= GOAL_S else 'OVER GOAL'}")
    print("  steps (warm): " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in best.timings.items()))
    print(f"  rows: {best.summary['hotspot_rows']:,} hot-spot cells, {best.summary['emerging_rows']:,} emerging cells, "
          f"warnings {best.summary['warnings']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
