"""GCJ-02 ("Mars coordinates" of Chinese web maps) to and from WGS84, vectorised with numpy.

GCJ-02 is WGS84 plus a deterministic, non-linear offset (a few hundred metres in Shenzhen) that is
published only as its forward formula. The inverse has no closed form, so it is found by fixed-point
iteration: the offset varies slowly, so subtracting the offset seen at the current guess converges
to well below a centimetre in a handful of rounds.
"""

from __future__ import annotations

import numpy as np
import shapely

# Krasovsky 1940 ellipsoid, which the GCJ-02 formula is defined on.
_A = 6378245.0
_EE = 0.00669342162296594323

# The offset is only applied inside this rough box around China; outside it GCJ-02 equals WGS84.
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271

# Stop iterating once a round moves the estimate less than this (about 1 mm).
_TOL_DEG = 1e-8


def in_china(lon, lat) -> np.ndarray:
    """Boolean mask of points inside the box where GCJ-02 differs from WGS84."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    return (lon >= _LON_MIN) & (lon <= _LON_MAX) & (lat >= _LAT_MIN) & (lat <= _LAT_MAX)


def _harmonics(x: np.ndarray, y: np.ndarray, *, for_lat: bool) -> np.ndarray:
    """The published polynomial-plus-sines terms of the offset, in metres on the ellipsoid."""
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    if for_lat:
        base = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        wave = (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        long_wave = (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    else:
        base = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        wave = (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        long_wave = (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return base + common + wave + long_wave


def offset(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS84 points; zero outside China."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x = lon - 105.0
    y = lat - 35.0
    dlat = _harmonics(x, y, for_lat=True)
    dlon = _harmonics(x, y, for_lat=False)
    rad = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Forward transform: WGS84 lon/lat arrays to GCJ-02."""
    dlon, dlat = offset(lon, lat)
    return np.asarray(lon, dtype=float) + dlon, np.asarray(lat, dtype=float) + dlat


def gcj02_to_wgs84(lon, lat, *, max_iter: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Inverse transform: GCJ-02 lon/lat arrays to WGS84, by iteration (error well under 0.5 m)."""
    g_lon = np.asarray(lon, dtype=float)
    g_lat = np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iter):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        step_lon = f_lon - g_lon
        step_lat = f_lat - g_lat
        w_lon = w_lon - step_lon
        w_lat = w_lat - step_lat
        if step_lon.size == 0 or max(np.max(np.abs(step_lon)), np.max(np.abs(step_lat))) < _TOL_DEG:
            break
    return w_lon, w_lat


def _on_coords(fn):
    def apply(xy: np.ndarray) -> np.ndarray:
        lon, lat = fn(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return apply


def geoms_gcj02_to_wgs84(geoms):
    """Every vertex of a shapely geometry (or array of them) from GCJ-02 to WGS84."""
    return shapely.transform(geoms, _on_coords(gcj02_to_wgs84))


def geoms_wgs84_to_gcj02(geoms):
    """Every vertex of a shapely geometry (or array of them) from WGS84 to GCJ-02."""
    return shapely.transform(geoms, _on_coords(wgs84_to_gcj02))
