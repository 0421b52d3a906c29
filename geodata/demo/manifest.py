"""The plant, written down: hot areas and the rising trend as measured on the generated incidents."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely

from geodata.demo import places, plant
from geodata.demo.incidents import WEEK_S, Drafts
from geodata.demo.layout import Layout
from geodata.demo.matters import MATTERS
from geodata.demo.rows import ts

FILE_NAME = "demo-manifest.json"


def _family_of(drafts: Drafts) -> np.ndarray:
    fams = np.array([m.family for m in MATTERS], dtype=object)
    return fams[drafts.matter]


def hot_area_doc(layout: Layout, drafts: Drafts, hot: list[plant.HotArea]) -> list[dict]:
    """Each hot area with its grids, centre, radius and measured rate against the family background."""
    fam = _family_of(drafts)
    in_hot = np.zeros(len(layout.base_codes), dtype=bool)
    for h in hot:
        in_hot[h.bases] = True
    out = []
    for n, h in enumerate(hot, start=1):
        sel = fam == h.family
        counts = np.bincount(drafts.base[sel], minlength=len(in_hot))
        bg_rate = counts[~in_hot].sum() / layout.base_area[~in_hot].sum()
        hot_rate = counts[h.bases].sum() / layout.base_area[h.bases].sum()
        shape = shapely.union_all([layout.base_geoms[b] for b in h.bases])
        c = shape.centroid
        radius = max(c.distance(shapely.Point(xy)) for xy in shapely.get_coordinates(shape))
        lon, lat = places.xy_to_lonlat(np.array([c.x]), np.array([c.y]))
        comm = layout.communities[h.community]
        out.append({
            "id": n,
            "family": h.family,
            "community": comm.code,
            "community_name": comm.name,
            "base_grids": [layout.base_codes[b] for b in h.bases],
            "sub_grids": sorted({layout.sub_codes[layout.base_sub[b]] for b in h.bases}),
            "centre": {"lon": round(float(lon[0]), 6), "lat": round(float(lat[0]), 6)},
            "radius_m": round(float(radius), 1),
            "area_km2": round(float(shape.area) / 1e6, 4),
            "incidents": int(counts[h.bases].sum()),
            "background_per_km2": round(float(bg_rate) * 1e6, 3),
            "rate_per_km2": round(float(hot_rate) * 1e6, 3),
            "rate_factor": round(float(hot_rate / bg_rate), 2),
            "planted_factor": plant.HOT_FACTOR,
        })
    return out


def trend_doc(layout: Layout, drafts: Drafts, trend: plant.Trend, end: float) -> dict:
    """The trend's matter and community with its weekly counts (oldest first, all sources)."""
    m = next(i for i, mt in enumerate(MATTERS) if mt.code == trend.matter)
    sel = (drafts.matter == m) & (layout.base_comm[drafts.base] == trend.community)
    weeks = []
    nweeks = len(trend.extra)
    for w in range(nweeks):
        start = end - (nweeks - w) * WEEK_S
        count = int(((drafts.t[sel] >= start) & (drafts.t[sel] < start + WEEK_S)).sum())
        weeks.append({"start": ts(start).isoformat(), "end": ts(start + WEEK_S).isoformat(), "count": count})
    counts = [w["count"] for w in weeks]
    comm = layout.communities[trend.community]
    return {
        "matter": trend.matter,
        "matter_name": MATTERS[m].name,
        "family": MATTERS[m].family,
        "community": comm.code,
        "community_name": comm.name,
        "weeks": weeks,
        "weekly_counts": counts,
        "planted_extra": list(trend.extra),
        "baseline_mean": round(float(np.mean(counts)), 2),
        "previous_weeks_mean": round(float(np.mean(counts[:-1])), 2),
    }


def write_file(home: Path, doc: dict) -> Path:
    """Write the manifest as HOME/demo-manifest.json; return its path."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / FILE_NAME
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path
