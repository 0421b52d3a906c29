"""gridwatch grid import: every rule refuses the whole file (exit 2, one line per bad feature, nothing written)."""

from __future__ import annotations

import uuid

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.affinity

from geodata import db
from grid import gcj02

from .conftest import C1, C2, STEP, box, frame, base_tiles

M = 1e-5  # about a metre in degrees


def c2_tiles():
    """Four good base grids for the empty community C2 (upper half of street 001)."""
    return base_tiles(C2, 114.30, 22.67)


def replace_feature(rows, k, code=None, name=None, geom=None, parent=None):
    rows = list(rows)
    old = rows[k]
    rows[k] = (code or old[0], name if name is not None else old[1], parent or old[2], geom if geom is not None else old[3])
    return rows


BOWTIE = shapely.Polygon([(114.31, 22.68), (114.32, 22.69), (114.32, 22.68), (114.31, 22.69)])

BAD_FEATURE_2 = [
    pytest.param(dict(geom=BOWTIE), "invalid geometry: Self-intersection", id="invalid"),
    pytest.param(dict(geom=shapely.Polygon()), "geometry is empty", id="empty"),
    pytest.param(dict(geom=box(114.32, 22.68, 114.33, 22.69)), "outside its community", id="outside-parent"),
    pytest.param(dict(geom=box(114.305, 22.68, 114.315, 22.69)), "overlaps 440310001002004", id="overlaps-sibling"),
    pytest.param(dict(code=C2 + "001"), "more than once", id="duplicate-code"),
    pytest.param(dict(code=C2 + "0003"), "not a base_grid code", id="bad-code"),
    pytest.param(dict(code="440310001009003", parent="440310001009"), "is not in the database", id="parent-missing"),
    pytest.param(dict(parent=C1), "does not start with its parent", id="parent-mismatch"),
    pytest.param(dict(name=""), "field 'name' is missing", id="missing-name"),
    pytest.param(dict(geom=box(812_000, 2_510_000, 813_000, 2_511_000)), "outside the lon/lat range", id="metres"),
    pytest.param(dict(geom=box(22.68, 114.31, 22.69, 114.32)), "outside the lon/lat range", id="swapped"),
    pytest.param(dict(geom=box(2.35, 48.85, 2.36, 48.86)), "wrong CRS", id="far-away"),
    pytest.param(dict(geom=shapely.Point(114.31, 22.68)), "not a polygon", id="point"),
    pytest.param(dict(code=C1 + "001", parent=C1, geom=box(114.30, 22.65, 114.31, 22.66)), "already in the database",
                 id="code-exists"),
]


@pytest.mark.parametrize("change, reason", BAD_FEATURE_2)
def test_one_bad_feature_refuses_the_whole_file(shared_io_grid, run_grid_cli, change, reason):
    io_grid = shared_io_grid
    before = io_grid.snapshot()
    path = io_grid.write(frame(replace_feature(c2_tiles(), 2, **change)), "bad.geojson")
    status, out, err = run_grid_cli(io_grid.url, "import", path, "--level", "base_grid")
    lines = err.strip().splitlines()
    assert status == 2
    assert len(lines) == 2, err  # the bad feature, then the summary
    assert lines[0].startswith("feature 2") and reason in lines[0]
    assert lines[1].startswith("import refused: nothing was written")
    assert io_grid.snapshot() == before


def test_one_line_per_bad_feature_with_every_reason(shared_io_grid, run_grid_cli):
    io_grid = shared_io_grid
    before = io_grid.snapshot()
    rows = replace_feature(c2_tiles(), 0, geom=box(114.32, 22.67, 114.33, 22.68), name="")
    rows = replace_feature(rows, 3, geom=BOWTIE)
    path = io_grid.write(frame(rows), "two_bad.gpkg")
    status, _, err = run_grid_cli(io_grid.url, "import", path, "--level", "base_grid")
    lines = err.strip().splitlines()[:-1]
    assert status == 2
    assert [line.split(":")[0] for line in lines] == [f"feature 0 ({C2}001)", f"feature 3 ({C2}004)"]
    assert "field 'name' is missing" in lines[0] and "outside its community" in lines[0]
    assert "Self-intersection" in lines[1]
    assert io_grid.snapshot() == before


def test_good_base_grids_land_in_the_default_sub_grid(io_grid, run_grid_cli):
    status, out, _ = run_grid_cli(io_grid.url, "import", io_grid.write(frame(c2_tiles()), "c2.shp"),
                             "--level", "base_grid")
    assert status == 0 and "4 added, 0 updated" in out
    with db.connect(io_grid.url) as conn:
        row = conn.execute("SELECT name, ST_Area(geom::geography) AS area, "
                           "(SELECT count(*) FROM base_grid WHERE sub_grid_code = s.code) AS n "
                           "FROM sub_grid s WHERE code = %s", (C2 + "00",)).fetchone()
    assert row["n"] == 4 and row["name"] == "六联社区"
    assert row["area"] == pytest.approx(4 * (STEP * 111_320) ** 2 * np.cos(np.radians(22.68)), rel=0.01)


def test_missing_code_column_is_a_file_error(io_grid, run_grid_cli):
    path = io_grid.write(frame(c2_tiles()), "c2.geojson")
    status, _, err = run_grid_cli(io_grid.url, "import", path, "--level", "base_grid", "--code-field", "BM")
    assert status == 2 and err.startswith("file: field 'BM' is missing")


def test_unknown_crs_is_a_file_error(shared_io_grid, run_grid_cli):
    path = shared_io_grid.write(frame(c2_tiles()), "c2.geojson")
    status, _, err = run_grid_cli(shared_io_grid.url, "import", path, "--level", "base_grid", "--crs", "EPSG:99999")
    assert status == 2 and err.startswith("file: unknown CRS 'EPSG:99999'")


def test_unreadable_file(io_grid, run_grid_cli, tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text("{not json")
    status, _, err = run_grid_cli(io_grid.url, "import", path, "--level", "base_grid")
    assert status == 2 and err.startswith("file: cannot be read")


def test_field_mapping(io_grid, run_grid_cli):
    rows = c2_tiles()
    gdf = gpd.GeoDataFrame({"BM": [r[0] for r in rows], "MC": [r[1] for r in rows], "SQBM": [r[2] for r in rows]},
                           geometry=[r[3] for r in rows], crs="EPSG:4326")
    path = io_grid.write(gdf, "mapped.geojson")
    status, out, err = run_grid_cli(io_grid.url, "import", path, "--level", "base_grid", "--code-field", "BM",
                               "--name-field", "MC", "--parent-field", "SQBM")
    assert status == 0, err
    assert "4 added" in out


def test_replace_updates_and_adds(io_grid, run_grid_cli):
    rows = replace_feature(base_tiles(C1, 114.30, 22.65), 0, name="改名网格")
    path = io_grid.write(frame(rows + c2_tiles()), "all.geojson")
    status, _, err = run_grid_cli(io_grid.url, "import", path, "--level", "base_grid")
    assert status == 2 and err.count("already in the database") == 4
    status, out, err = run_grid_cli(io_grid.url, "import", path, "--level", "base_grid", "--replace")
    assert status == 0, err
    assert "4 added, 4 updated" in out
    names = {r["code"]: r["name"] for r in io_grid.snapshot()["base_grid"]}
    assert len(names) == 8 and names[C1 + "001"] == "改名网格"


def test_replace_refuses_a_community_shape_that_leaves_base_grids_outside(io_grid, run_grid_cli):
    before = io_grid.snapshot()
    shrunk = frame([(C1, "六和社区", "440310001", box(114.30, 22.65, 114.31, 22.67))])
    path = io_grid.write(shrunk, "shrunk.geojson")
    status, _, err = run_grid_cli(io_grid.url, "import", path, "--level", "community", "--replace")
    assert status == 2
    assert err.splitlines()[0] == (f"feature 0 ({C1}): new shape leaves its base_grid {C1}002 outside; "
                                   f"new shape leaves its base_grid {C1}004 outside")
    assert io_grid.snapshot() == before


def sub_grid_halves(community=C1, y0=22.64, y1=22.68):
    """Two roughly drawn sub-grids splitting C1 into west and east halves (they overhang on purpose)."""
    return frame([(community + "01", "西片", community, box(114.299, y0, 114.31, y1)),
                  (community + "02", "东片", community, box(114.31, y0, 114.321, y1))])


def test_sub_grid_file_assigns_base_grids_by_centroid(io_grid, run_grid_cli):
    path = io_grid.write(sub_grid_halves(), "subs.geojson")
    status, _, err = run_grid_cli(io_grid.url, "import", path, "--level", "sub_grid")
    # Without --replace the old "00" sub-grid may not be emptied.
    assert status == 2 and err.splitlines()[0] == f"{C1}00: sub-grid would be left without base grids"
    status, out, err = run_grid_cli(io_grid.url, "import", path, "--level", "sub_grid", "--replace")
    assert status == 0, err
    assert "4 base grid(s) moved" in out and f"removed: {C1}00" in out
    with db.connect(io_grid.url) as conn:
        rows = conn.execute("SELECT code, ST_AsText(ST_Envelope(geom)) AS env, ST_Area(geom) AS a FROM sub_grid "
                            "ORDER BY code").fetchall()
    # The stored shapes are the unions of whole base grids, not the drawn polygons.
    assert [r["code"] for r in rows] == [C1 + "01", C1 + "02"]
    assert shapely.hausdorff_distance(shapely.from_wkt(rows[0]["env"]), box(114.30, 22.65, 114.31, 22.67)) < 1e-9
    assert rows[1]["a"] == pytest.approx(2 * STEP * STEP)


@pytest.mark.parametrize(
    "subs, first_line",
    [
        (sub_grid_halves(y1=22.66), f"{C1}003: no sub-grid polygon holds this base grid's centroid"),
        (frame([(C1 + "01", "西片", C1, box(114.299, 22.64, 114.31, 22.68)),
                (C1 + "02", "东片", C1, box(114.31, 22.64, 114.321, 22.70)),
                ("44031000100201", "越界", C2, box(114.30, 22.68, 114.32, 22.69))]),
         "feature 2 (44031000100201): sub-grid would be left without base grids"),
    ],
    ids=["uncovered", "empty-sub-grid"],
)
def test_sub_grid_file_errors(io_grid, run_grid_cli, subs, first_line):
    before = io_grid.snapshot()
    status, _, err = run_grid_cli(io_grid.url, "import", io_grid.write(subs, "subs.geojson"),
                             "--level", "sub_grid", "--replace")
    assert status == 2 and err.splitlines()[0] == first_line
    assert io_grid.snapshot() == before


def test_sub_grid_crossing_communities_is_refused(io_grid, run_grid_cli):
    io_grid.load(frame(c2_tiles()), "base_grid", "c2.geojson")
    before = io_grid.snapshot()
    # C2's west sub-grid polygon reaches down over C1's base grid 001.
    subs = frame([(C2 + "01", "西片", C2, box(114.30, 22.65, 114.31, 22.69)),
                  (C2 + "02", "东片", C2, box(114.31, 22.67, 114.32, 22.69))])
    status, _, err = run_grid_cli(io_grid.url, "import", io_grid.write(subs, "subs.geojson"),
                             "--level", "sub_grid", "--replace")
    assert status == 2
    assert f"{C1}001: base grid of community {C1} falls in sub-grid {C2}01 of community {C2}" in err
    assert io_grid.snapshot() == before


def test_open_incident_keeps_its_sub_grid(io_grid, run_grid_cli):
    with db.connect(io_grid.url) as conn:
        conn.execute("INSERT INTO matter (code, name, name_en, family, priority, deadline_hours) "
                     "VALUES ('M01', '占道经营', 'street vending', 'hazard', 2, 24)")
        conn.execute("INSERT INTO incident (id, matter_code, source, status, priority, geom, observed_at, "
                     "sub_grid_code, community_code) VALUES (%s, 'M01', 'grid_worker', 'dispatched', 2, "
                     "ST_SetSRID(ST_Point(114.305, 22.655), 4326), now(), %s, %s)",
                     (uuid.uuid4(), C1 + "00", C1))
        conn.commit()
    before = io_grid.snapshot()
    status, _, err = run_grid_cli(io_grid.url, "import", io_grid.write(sub_grid_halves(), "subs.geojson"),
                             "--level", "sub_grid", "--replace")
    assert status == 2
    assert err.splitlines()[0] == (f"{C1}00: cannot be removed or emptied: 1 open incident(s) point at it; "
                                   "close or cancel them first")
    assert io_grid.snapshot() == before


@pytest.mark.parametrize("name, crs_arg, to_file", [
    ("c2.shp", None, lambda g: g.to_crs("EPSG:32650")),  # projected file: its own CRS is used
    ("c2.gpkg", "EPSG:4490", lambda g: g.set_crs("EPSG:4490", allow_override=True)),
    ("c2_gcj.geojson", "gcj02", lambda g: g.set_geometry(gcj02.geoms_wgs84_to_gcj02(np.asarray(g.geometry.values)))),
])
def test_coordinates_are_stored_in_wgs84(io_grid, run_grid_cli, name, crs_arg, to_file):
    gdf = frame(c2_tiles())
    path = io_grid.write(to_file(gdf), name)
    argv = ["import", path, "--level", "base_grid"] + (["--crs", crs_arg] if crs_arg else [])
    status, _, err = run_grid_cli(io_grid.url, *argv)
    assert status == 0, err
    stored = {r["code"]: shapely.from_wkt(r["wkt"]) for r in io_grid.snapshot()["base_grid"]}
    for code, _, _, geom in c2_tiles():
        assert shapely.hausdorff_distance(stored[code], geom) < 0.5 * M


def test_zipped_shapefile(io_grid, run_grid_cli, tmp_path):
    import zipfile

    folder = tmp_path / "shp"
    folder.mkdir()
    frame(c2_tiles()).to_file(folder / "c2.shp", encoding="UTF-8")
    archive = tmp_path / "c2.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, part.name)
    status, out, err = run_grid_cli(io_grid.url, "import", archive, "--level", "base_grid")
    assert status == 0, err
    assert {r["name"] for r in io_grid.snapshot()["base_grid"] if r["code"].startswith(C2)} == {
        "基础网格1", "基础网格2", "基础网格3", "基础网格4"}


def test_real_pingshan_boundary_from_gcj02(db_url, run_grid_cli, shared_dir):
    path = shared_dir / "geo" / "pingshan_440310_boundary_gcj02.geojson"
    status, out, err = run_grid_cli(db_url, "import", path, "--level", "district", "--crs", "gcj02")
    assert status == 0, err
    with db.connect(db_url) as conn:
        row = conn.execute("SELECT code, name, ST_Area(geom::geography) / 1e6 AS km2, ST_XMin(geom) AS x0, "
                           "ST_XMax(geom) AS x1, ST_YMin(geom) AS y0, ST_YMax(geom) AS y1, "
                           "ST_X(ST_Centroid(geom)) AS cx, ST_Y(ST_Centroid(geom)) AS cy FROM district").fetchone()
    assert (row["code"], row["name"]) == ("440310", "坪山区")
    assert row["km2"] == pytest.approx(166, abs=4)
    assert 114.26 <= row["x0"] < row["x1"] <= 114.45 and 22.61 <= row["y0"] < row["y1"] <= 22.79
    # The file's own "centroid" property is in GCJ-02: corrected, it must sit within 300 m of the stored one.
    c_lon, c_lat = gcj02.gcj02_to_wgs84(114.361832, 22.688325)
    assert np.hypot((row["cx"] - c_lon) * 102_700, (row["cy"] - c_lat) * 110_700) < 300
    # ...while the uncorrected position is hundreds of metres off.
    assert np.hypot((row["cx"] - 114.361832) * 102_700, (row["cy"] - 22.688325) * 110_700) > 400
