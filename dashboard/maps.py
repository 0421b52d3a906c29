"""Map helpers: GeoJSON building, display CRS shift (WGS84 -> GCJ-02 for GCJ tiles), map factories."""

from __future__ import annotations

import json

import dash_leaflet as dl
import shapely
from dash import html

from grid import gcj02

# Pingshan's centre and a view that shows the whole district at 1920x1080.
CENTER = (22.70, 114.35)
WALL_ZOOM = 12
JS = "gridwatch.map"  # window namespace of the style functions in assets/gridwatch-map.js


def fn(name: str) -> dict:
    """A reference dash-leaflet resolves to window.gridwatch.map.<name>."""
    return {"variable": f"{JS}.{name}"}


class Display:
    """Turns stored WGS84 coordinates into the coordinates of the basemap in use."""

    def __init__(self, crs: str = "wgs84"):
        self.gcj = crs == "gcj02"

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        """One point for display."""
        if not self.gcj:
            return lon, lat
        x, y = gcj02.wgs84_to_gcj02([lon], [lat])
        return float(x[0]), float(y[0])

    def to_wgs84(self, lon: float, lat: float) -> tuple[float, float]:
        """A point picked on the basemap back to WGS84 for storage."""
        if not self.gcj:
            return lon, lat
        x, y = gcj02.gcj02_to_wgs84([lon], [lat])
        return float(x[0]), float(y[0])

    def geojson_geom(self, text: str) -> dict:
        """A GeoJSON geometry string from PostGIS, shifted when the tiles are GCJ-02."""
        geom = json.loads(text)
        if not self.gcj:
            return geom
        shifted = gcj02.geoms_wgs84_to_gcj02(shapely.geometry.shape(geom))
        return shapely.geometry.mapping(shifted)

    def message(self, msg: dict) -> dict:
        """A live message with its lon/lat shifted for display."""
        if self.gcj and isinstance(msg.get("lon"), (int, float)) and isinstance(msg.get("lat"), (int, float)):
            msg = dict(msg)
            msg["lon"], msg["lat"] = self.point(msg["lon"], msg["lat"])
        return msg


def feature_collection(rows, geom_key: str, display: Display, props) -> dict:
    """A FeatureCollection of rows whose geometry is GeoJSON text in row[geom_key]."""
    feats = []
    for r in rows:
        if r[geom_key] is None:
            continue
        feats.append({"type": "Feature", "geometry": display.geojson_geom(r[geom_key]), "properties": props(r)})
    return {"type": "FeatureCollection", "features": feats}


def points(rows, display: Display, props) -> dict:
    """A FeatureCollection of rows with lon/lat columns."""
    feats = []
    for r in rows:
        if r["lon"] is None:
            continue
        lon, lat = display.point(r["lon"], r["lat"])
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                      "properties": props(r)})
    return {"type": "FeatureCollection", "features": feats}


def bounds_of(fc: dict) -> list[list[float]] | None:
    """[[south, west], [north, east]] of a FeatureCollection, for Leaflet's bounds."""
    geoms = [shapely.geometry.shape(f["geometry"]) for f in fc.get("features", [])]
    if not geoms:
        return None
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    return [[float(y0), float(x0)], [float(y1), float(x1)]]


def make_map(page: str, cfg, *, layers: list, zoom: int = WALL_ZOOM, dark: bool = True,
             style: dict | None = None, **kwargs) -> dl.Map:
    """A Leaflet map centred on Pingshan: configured tiles when set, else no tiles on a dark ground."""
    children = []
    if cfg.tile_url:
        children.append(dl.TileLayer(url=cfg.tile_url, attribution=cfg.tile_attribution, maxZoom=18))
    children.extend(layers)
    view = {"center": list(CENTER), "zoom": zoom}
    if kwargs.get("bounds") is None:
        kwargs.pop("bounds", None)
    else:
        view = {}  # Leaflet fits the bounds; a centre and zoom given as well would win
    # Nothing reads the viewport back; dash-leaflet 1.1's tracking also fails on every pan of a map
    # given bounds without a centre ("reading 'equals'"), so it is off.
    kwargs.setdefault("trackViewport", False)
    return dl.Map(
        id=f"{page}-map", children=children, **view,
        className="gw-map gw-map-dark" if dark and not cfg.tile_url else "gw-map",
        style=style or {"width": "100%", "height": "100%"}, attributionControl=bool(cfg.tile_url),
        **kwargs,
    )


def legend(items: list[tuple[str, str]]) -> html.Div:
    """A small legend of (css colour, label) pairs."""
    return html.Div([html.Span([html.I(style={"background": c}), lab]) for c, lab in items], className="gw-legend")
