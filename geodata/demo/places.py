"""The district, its streets and communities: names and points from the project's data file, shapes made here."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np
import shapely
from pyproj import Transformer

#: Metric CRS for all geometry work: UTM 50N covers Pingshan.
METRIC_CRS = "EPSG:32650"
DISTRICT_CODE = "440310"
DISTRICT_NAME = "坪山区"
DISTRICT_NAME_EN = "Pingshan District"
#: The district's published area and its WGS84 bounding box (lon_min, lat_min, lon_max, lat_max).
TARGET_AREA_M2 = 166e6
BBOX = (114.26, 22.61, 114.45, 22.79)

_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
_TO_WGS84 = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)


@dataclass(frozen=True)
class Community:
    """One row of the data file: a community with its street."""

    code: str
    name: str
    name_en: str
    street_code: str
    street_name: str
    street_name_en: str
    lon: float
    lat: float


@dataclass
class Places:
    """The generated district: outline, community and street shapes in the metric CRS."""

    communities: list[Community]
    outline: shapely.Polygon
    community_geoms: list[shapely.Geometry]
    street_geoms: dict[str, shapely.Geometry]
    seeds_xy: np.ndarray


def load_communities() -> list[Community]:
    """The 24 communities of geodata/data/pingshan_communities.csv, in file order."""
    text = resources.files("geodata").joinpath("data/pingshan_communities.csv").read_text(encoding="utf-8")
    return [
        Community(
            code=r["community_code"], name=r["community_zh"], name_en=r["community_en"],
            street_code=r["street_code"], street_name=r["street_zh"], street_name_en=r["street_en"],
            lon=float(r["lon"]), lat=float(r["lat"]),
        )
        for r in csv.DictReader(text.splitlines())
    ]


def to_metric(geom: shapely.Geometry) -> shapely.Geometry:
    """WGS84 geometry (or array of them) to metres."""
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_METRIC.transform(xy[:, 0], xy[:, 1])))


def to_wgs84(geom):
    """Metric geometry (or array of them) to WGS84 lon/lat."""
    return shapely.transform(geom, lambda xy: np.column_stack(_TO_WGS84.transform(xy[:, 0], xy[:, 1])))


def xy_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Metric coordinates to lon/lat arrays."""
    lon, lat = _TO_WGS84.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)


def make_outline(points_xy: np.ndarray, rng: np.random.Generator) -> shapely.Polygon:
    """A smooth blob around the points, scaled to the district's area and kept inside its bbox."""
    centre = points_xy.mean(axis=0)
    theta = np.linspace(0.0, 2.0 * np.pi, 240, endpoint=False)
    dirs = np.column_stack([np.cos(theta), np.sin(theta)])
    # The support function of the point set gives a rounded hull; a few low harmonics make it irregular.
    support = ((points_xy - centre) @ dirs.T).max(axis=0) + 2500.0
    wobble = np.ones_like(theta)
    for k in range(2, 6):
        wobble += rng.uniform(0.02, 0.06) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    base = support * wobble
    # Every community point stays at least 600 m inside: the radius never drops below that hull.
    hull = shapely.MultiPoint(points_xy).convex_hull.buffer(600.0)
    rays = shapely.linestrings([[centre, centre + d * 60000.0] for d in dirs])
    need = shapely.length(shapely.intersection(rays, hull))
    box_m = to_metric(shapely.box(*BBOX)).buffer(-300.0)

    def shape(scale: float) -> shapely.Geometry:
        radius = np.maximum(scale * base, need)
        return shapely.Polygon(centre + dirs * radius[:, None]).intersection(box_m)

    lo, hi = 0.1, 3.0
    # The clipped area grows with the scale: bisect until it is the district's area.
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if shape(mid).area < TARGET_AREA_M2 else (lo, mid)
    poly = shape((lo + hi) / 2)
    poly = shapely.simplify(poly, 5.0)
    if not isinstance(poly, shapely.Polygon) or not poly.contains(shapely.MultiPoint(points_xy)):
        raise RuntimeError("generated district outline does not hold every community point")
    return poly


def _voronoi_cells(seeds: np.ndarray, outline: shapely.Polygon) -> list[shapely.Geometry]:
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=outline.buffer(5000), ordered=True)
    return [shapely.intersection(cell, outline) for cell in shapely.get_parts(cells)]


def make_places(rng: np.random.Generator) -> Places:
    """Outline, Voronoi communities (seeds relaxed a little so none is a sliver) and street unions."""
    comms = load_communities()
    x, y = _TO_METRIC.transform(np.array([c.lon for c in comms]), np.array([c.lat for c in comms]))
    points = np.column_stack([x, y])
    outline = make_outline(points, rng)
    seeds = points.copy()
    # Some public points are 100 m apart; partial Lloyd steps spread them while keeping the layout.
    for _ in range(4):
        cells = _voronoi_cells(seeds, outline)
        cents = np.array([[c.centroid.x, c.centroid.y] for c in cells])
        seeds = seeds + 0.5 * (cents - seeds)
    cells = [shapely.make_valid(c) for c in _voronoi_cells(seeds, outline)]
    streets: dict[str, shapely.Geometry] = {}
    for comm, cell in zip(comms, cells):
        streets.setdefault(comm.street_code, [])
        streets[comm.street_code].append(cell)
    street_geoms = {code: shapely.union_all(parts) for code, parts in streets.items()}
    return Places(comms, outline, cells, street_geoms, seeds)


def as_multi(geom: shapely.Geometry) -> shapely.MultiPolygon:
    """Polygonal part of a geometry as a MultiPolygon."""
    polys = [g for g in shapely.get_parts(geom) if isinstance(g, shapely.Polygon) and not g.is_empty]
    return shapely.MultiPolygon(polys)
