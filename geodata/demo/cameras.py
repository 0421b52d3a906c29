"""Sharp Eyes cameras along synthetic roads, each with a camera configuration of the normative shape."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geodata.demo import places
from geodata.demo.layout import Layout
from grid.camera_matters import RULE_MATTERS

TOTAL_CAMERAS = 200
HEALTH_DEFAULTS = {"offline": 30, "frozen": 10, "covered": 5, "blurred": 10, "moved": 10}

# Zone presets by what a pole overlooks: (Chinese label, zone name, polygon, rules).
_PRESETS = (
    ("路口", "crossing", [[0.05, 0.45], [0.95, 0.45], [0.95, 1.0], [0.05, 1.0]],
     [{"kind": "vehicle_stopped", "seconds": 120}, {"kind": "object_left", "seconds": 60}]),
    ("广场", "square", [[0.1, 0.35], [0.9, 0.35], [0.95, 1.0], [0.05, 1.0]],
     [{"kind": "crowd", "min_people": 5, "seconds": 10}, {"kind": "loitering", "seconds": 30}]),
    ("出入口", "gate", [[0.3, 0.3], [0.7, 0.3], [0.8, 1.0], [0.2, 1.0]],
     [{"kind": "intrusion"}, {"kind": "loitering", "seconds": 30}]),
    ("沿街", "kerb", [[0.0, 0.55], [0.6, 0.5], [0.6, 1.0], [0.0, 1.0]],
     [{"kind": "object_left", "seconds": 60}, {"kind": "vehicle_stopped", "seconds": 120}]),
)


@dataclass
class Cameras:
    """Cameras as parallel arrays (metric positions) and their JSON configurations."""

    codes: list[str]
    names: list[str]
    x: np.ndarray
    y: np.ndarray
    heading: np.ndarray
    base: np.ndarray            # base grid index
    configs: list[dict]
    roads: list[shapely.LineString]


def make_roads(layout: Layout, rng: np.random.Generator) -> list[shapely.LineString]:
    """Roads between neighbouring community centres plus three arterials across the district."""
    pl = layout.places
    inner = pl.outline.buffer(-60.0)
    edges = shapely.get_parts(shapely.delaunay_triangles(shapely.MultiPoint(pl.seeds_xy), only_edges=True))
    roads = [e for e in edges if e.length < 6000.0]
    centre = np.asarray(pl.outline.centroid.coords[0])
    for angle in rng.uniform(0, np.pi, size=3):
        d = np.array([np.cos(angle), np.sin(angle)]) * 15000.0
        shift = rng.normal(0, 1200.0, size=2)
        roads.append(shapely.LineString([centre + shift - d, centre + shift + d]))
    clipped = []
    for road in roads:
        for part in shapely.get_parts(road.intersection(inner)):
            if isinstance(part, shapely.LineString) and part.length > 100.0:
                clipped.append(part)
    return clipped


def _config(code: str, name: str, lon: float, lat: float, heading: float, preset: int) -> dict:
    label, zone, polygon, rules = _PRESETS[preset]
    return {
        "code": code,
        "name": name,
        "url": f"rtsp://127.0.0.1:8554/{code.lower()}",
        "lon": round(float(lon), 7),
        "lat": round(float(lat), 7),
        "heading": round(float(heading), 1),
        "fps": 5,
        "zones": [{"name": zone, "polygon": polygon,
                   "rules": [dict(r, matter=RULE_MATTERS[r["kind"]]) for r in rules]}],
        "health": dict(HEALTH_DEFAULTS),
    }


def make_cameras(layout: Layout, rng: np.random.Generator) -> Cameras:
    """About 200 cameras spread along the roads by length, a few metres off the carriageway."""
    roads = make_roads(layout, rng)
    lengths = np.array([r.length for r in roads])
    along = np.sort(rng.uniform(0, lengths.sum(), size=TOTAL_CAMERAS))
    which = np.searchsorted(np.cumsum(lengths), along, side="right")
    offset = along - np.r_[0.0, np.cumsum(lengths)][which]
    xs, ys, headings = [], [], []
    for w, off in zip(which, offset):
        road = roads[w]
        p = road.interpolate(off)
        q = road.interpolate(min(off + 5.0, road.length))
        o = road.interpolate(max(off - 5.0, 0.0))
        dx, dy = q.x - o.x, q.y - o.y
        norm = np.hypot(dx, dy) or 1.0
        side = rng.choice([-1.0, 1.0]) * 8.0
        xs.append(p.x - dy / norm * side)
        ys.append(p.y + dx / norm * side)
        # Compass bearing of the road, then the camera looks along it or across it.
        bearing = np.degrees(np.arctan2(dx, dy)) % 360.0
        headings.append((bearing + rng.choice([0.0, 90.0, 180.0, 270.0])) % 360.0)
    x, y = np.array(xs), np.array(ys)
    base = layout.locate(x, y)
    lon, lat = places.xy_to_lonlat(x, y)
    presets = rng.integers(0, len(_PRESETS), size=len(x))
    codes, names, configs = [], [], []
    for i in range(len(x)):
        code = f"PS-CAM-{i + 1:04d}"
        comm = layout.communities[layout.base_comm[base[i]]]
        name = f"{comm.name}{_PRESETS[presets[i]][0]}{i + 1:03d}号"
        codes.append(code)
        names.append(name)
        configs.append(_config(code, name, lon[i], lat[i], headings[i], int(presets[i])))
    return Cameras(codes, names, x, y, np.array(headings), base, configs, roads)
