"""gridwatch grid export: the extension names the format, and export -> import --replace keeps every feature."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pytest
import shapely

from geodata import db, grid_io

from .conftest import C1, C2

FORMATS = ["grid.geojson", "grid.json", "grid.gpkg", "grid.shp", "grid.zip"]
# English names where the tables have them; C2 has none, and must come back without one.
ENGLISH = {"district": ["Pingshan District"], "street": ["Pingshan Subdistrict", "Kengzi Subdistrict"],
           "community": ["Liuhe Community", None]}


def english_names(url: str) -> dict:
    """name_en per code of every table that has the column."""
    with db.connect(url) as conn:
        return {level: {r["code"]: r["name_en"] for r in conn.execute(q)} for level, q in (
            ("district", "SELECT code, name_en FROM district ORDER BY code"),
            ("street", "SELECT code, name_en FROM street ORDER BY code"),
            ("community", "SELECT code, name_en FROM community ORDER BY code"))}


@pytest.fixture(scope="module")
def fuller_grid(shared_io_grid):
    """The small grid plus C2's base grids and C1 split into two sub-grids: every level has rows.

    Shared by the module: a round trip must leave it as it was, and each test checks that it did.
    """
    io_grid = shared_io_grid
    for gdf, level in ((io_grid.district, "district"), (io_grid.streets, "street"), (io_grid.communities, "community")):
        result = io_grid.load(gdf.assign(name_en=ENGLISH[level]), level, f"{level}_en.geojson", replace=True)
        assert result.ok, result.violations
    io_grid.fill()
    return io_grid


def same_rows(before: list[dict], after: list[dict]) -> None:
    """Same codes, names and parents; geometries equal to 1e-7 degrees (about a centimetre)."""
    assert [(r["code"], r["name"], r["parent"]) for r in after] == [(r["code"], r["name"], r["parent"]) for r in before]
    for old, new in zip(before, after):
        assert shapely.hausdorff_distance(shapely.from_wkt(old["wkt"]), shapely.from_wkt(new["wkt"])) < 1e-7


@pytest.mark.parametrize("filename", FORMATS)
@pytest.mark.parametrize("level", ["district", "street", "community", "sub_grid", "base_grid"])
def test_round_trip_keeps_every_feature(fuller_grid, run_grid_cli, tmp_path, level, filename):
    before, english = fuller_grid.snapshot(), english_names(fuller_grid.url)
    assert english["community"] == {C1: "Liuhe Community", C2: None}
    path = tmp_path / filename
    status, out, _ = run_grid_cli(fuller_grid.url, "export", "--level", level, path)
    assert status == 0 and path.exists()
    assert out.startswith(f"exported {len(before[level])} {level} grid(s)")
    status, out, err = run_grid_cli(fuller_grid.url, "import", path, "--level", level, "--replace")
    assert status == 0, err
    assert f"0 added, {len(before[level])} updated" in out
    after = fuller_grid.snapshot()
    for table in before:
        same_rows(before[table], after[table])
    assert english_names(fuller_grid.url) == english


def test_exported_fields(fuller_grid, tmp_path):
    with db.connect(fuller_grid.url) as conn:
        assert grid_io.export(conn, "base_grid", tmp_path / "b.gpkg") == 8
        assert grid_io.export(conn, "district", tmp_path / "d.geojson") == 1
    base = gpd.read_file(tmp_path / "b.gpkg")
    assert list(base.columns) == ["code", "name", "parent", "sub_grid", "geometry"]
    assert base.crs.to_epsg() == 4326
    assert set(base.geom_type) == {"MultiPolygon"}
    row = base.set_index("code").loc[C1 + "002"]
    assert (row["name"], row["parent"], row["sub_grid"]) == ("基础网格2", C1, C1 + "02")
    district = gpd.read_file(tmp_path / "d.geojson")
    assert list(district.columns) == ["code", "name", "name_en", "parent", "geometry"]
    assert district.loc[0, "code"] == "440310" and district.loc[0, "name"] == "坪山区"
    assert district.loc[0, "name_en"] == "Pingshan District"


def test_zip_holds_one_shapefile_with_its_encoding(fuller_grid, tmp_path):
    with db.connect(fuller_grid.url) as conn:
        grid_io.export(conn, "community", tmp_path / "communities.zip")
    names = sorted(zipfile.ZipFile(tmp_path / "communities.zip").namelist())
    assert names == ["communities.cpg", "communities.dbf", "communities.prj", "communities.shp", "communities.shx"]
    back = gpd.read_file(tmp_path / "communities.zip")
    assert sorted(back["name"]) == ["六和社区", "六联社区"]


def test_unknown_extension_is_refused(fuller_grid, tmp_path):
    with db.connect(fuller_grid.url) as conn, pytest.raises(ValueError, match="cannot tell the format"):
        grid_io.export(conn, "street", tmp_path / "streets.kml")
    assert not (tmp_path / "streets.kml").exists()
