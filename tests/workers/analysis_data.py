"""Synthetic incident frames shaped like `geodata.analysis_repo.load_incidents`, for the analysis tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from workers.analysis_compute import Lattices


def uniform_incidents(lat: Lattices, district: shapely.Geometry, sub_geoms, rng: np.random.Generator, *,
                      per_family: int, as_of: pd.Timestamp, days: int = 30,
                      families=("crime", "dispute", "hazard")) -> pd.DataFrame:
    """Incidents uniform over the district and over ``days`` before ``as_of``: no structure at all."""
    n = per_family * len(families)
    x0, y0, x1, y1 = district.bounds
    lon, lat_ = np.empty(0), np.empty(0)
    shapely.prepare(district)
    while len(lon) < n:
        # Rejection sampling: uniform in the bounding box, kept when inside the district.
        cx, cy = rng.uniform(x0, x1, 2 * n), rng.uniform(y0, y1, 2 * n)
        inside = shapely.contains_xy(district, cx, cy)
        lon, lat_ = np.concatenate([lon, cx[inside]]), np.concatenate([lat_, cy[inside]])
    lon, lat_ = lon[:n], lat_[:n]
    tree = shapely.STRtree(np.asarray(sub_geoms, dtype=object))
    pts, subs = tree.query(shapely.points(lon, lat_), predicate="within")
    sub_code = np.full(n, None, dtype=object)
    sub_code[pts] = np.asarray(lat.sub_lattice.cells)[subs]
    seconds = rng.uniform(0, days * 86400.0, n)
    return pd.DataFrame({
        "id": [f"u{i}" for i in range(n)], "status": "closed", "source": "grid_worker",
        "family": np.repeat(np.asarray(families, dtype=object), per_family),
        "matter_code": "m", "lon": lon, "lat": lat_, "sub_grid_code": sub_code,
        "created_at": as_of - pd.to_timedelta(seconds, unit="s"),
    })
