"""GCJ-02 <-> WGS84: the forward formula's known offsets and the iterative inverse's accuracy."""

import numpy as np
import pytest
import shapely

from grid import gcj02

M_PER_DEG = 111_320.0


def metres(dlon, dlat, lat):
    return np.hypot(np.asarray(dlon) * M_PER_DEG * np.cos(np.radians(lat)), np.asarray(dlat) * M_PER_DEG)


def test_round_trip_error_is_below_half_a_metre_across_china():
    rng = np.random.default_rng(7)
    lon = rng.uniform(74.0, 134.0, 20_000)
    lat = rng.uniform(18.0, 53.0, 20_000)
    g_lon, g_lat = gcj02.wgs84_to_gcj02(lon, lat)
    w_lon, w_lat = gcj02.gcj02_to_wgs84(g_lon, g_lat)
    assert metres(w_lon - lon, w_lat - lat, lat).max() < 0.5
    # Well below the requirement in practice: the iteration converges to millimetres.
    assert metres(w_lon - lon, w_lat - lat, lat).max() < 0.01


def test_offset_in_pingshan_is_hundreds_of_metres_east_and_south():
    lon, lat = np.array([114.35]), np.array([22.70])
    dlon, dlat = gcj02.offset(lon, lat)
    assert 300 < metres(dlon, dlat, lat)[0] < 800
    assert dlon[0] > 0 and dlat[0] < 0


def test_beijing_reference_point():
    # Tiananmen: the offset the public formula gives there (about +0.0062 lon, +0.0014 lat).
    g_lon, g_lat = gcj02.wgs84_to_gcj02(116.3912, 39.9073)
    assert g_lon - 116.3912 == pytest.approx(0.00624, abs=2e-4)
    assert g_lat - 39.9073 == pytest.approx(0.00140, abs=2e-4)


@pytest.mark.parametrize("lon, lat", [(2.35, 48.85), (-74.0, 40.7), (151.2, -33.9), (140.0, 35.0)])
def test_outside_china_nothing_changes(lon, lat):
    assert gcj02.wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02.gcj02_to_wgs84(lon, lat) == (pytest.approx(lon), pytest.approx(lat))


def test_empty_arrays_pass_through():
    lon, lat = gcj02.gcj02_to_wgs84(np.array([]), np.array([]))
    assert lon.shape == (0,) and lat.shape == (0,)


def test_geometries_are_converted_vertex_by_vertex():
    wgs = shapely.box(114.30, 22.65, 114.31, 22.66)
    gcj = gcj02.geoms_wgs84_to_gcj02(wgs)
    back = gcj02.geoms_gcj02_to_wgs84(np.array([gcj], dtype=object))[0]
    assert gcj.geom_type == "Polygon" and not gcj.equals(wgs)
    assert shapely.hausdorff_distance(back, wgs) * M_PER_DEG < 0.01
    assert shapely.hausdorff_distance(gcj, wgs) * M_PER_DEG > 300
