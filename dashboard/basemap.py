"""The dark basemap drawn from the district, street and community outlines, cached per process."""

from __future__ import annotations

from dashboard import context, data
from dashboard.maps import bounds_of, feature_collection


def outlines() -> dict:
    """All outlines as one FeatureCollection (property `level`), in display coordinates."""
    cfg, disp = context.cfg(), context.display()

    def make():
        with context.pool().connection() as conn:
            rows = data.outlines(conn)
        return feature_collection(rows, "geojson", disp, lambda r: {"level": r["level"], "code": r["code"],
                                                                    "name": r["name"], "name_en": r["name_en"]})
    return context.cache().get(("outlines", cfg.tile_crs), make)


def ground() -> dict:
    """The district outline only (filled dark ground)."""
    return {"type": "FeatureCollection",
            "features": [f for f in outlines()["features"] if f["properties"]["level"] == "district"]}


def lines() -> dict:
    """Street and community outlines (lines drawn above the sub-grid shading)."""
    return {"type": "FeatureCollection",
            "features": [f for f in outlines()["features"] if f["properties"]["level"] != "district"]}


def district_bounds():
    """Leaflet bounds of the district, None when no district is stored yet."""
    return bounds_of(ground())
