"""gridwatch grid import: English names, GeoPackage layers, and naming a GCJ-02 file read as WGS84."""

from __future__ import annotations

import re

import numpy as np
import pytest

from geodata import db
from grid import gcj02

from .conftest import C1, C2, DISTRICT, STREET_E, STREET_W, base_tiles, box, frame


def stored_english(url: str, table: str) -> dict:
    with db.connect(url) as conn:
        return {r["code"]: r["name_en"] for r in conn.execute(f"SELECT code, name_en FROM {table} ORDER BY code")}


def test_name_en_is_read_from_its_default_field_or_the_one_named(io_grid, run_grid_cli):
    streets = io_grid.streets.assign(name_en=["Pingshan Subdistrict", "Kengzi Subdistrict"])
    status, _, err = run_grid_cli(io_grid.url, "import", io_grid.write(streets, "streets.gpkg"),
                                  "--level", "street", "--replace")
    assert status == 0, err
    assert stored_english(io_grid.url, "street") == {STREET_W: "Pingshan Subdistrict", STREET_E: "Kengzi Subdistrict"}
    renamed = io_grid.communities.assign(YWMC=["Liuhe", "Liulian"])
    status, _, err = run_grid_cli(io_grid.url, "import", io_grid.write(renamed, "communities.shp"),
                                  "--level", "community", "--replace", "--name-en-field", "YWMC")
    assert status == 0, err
    assert stored_english(io_grid.url, "community") == {C1: "Liuhe", C2: "Liulian"}


def test_a_file_without_english_names_keeps_the_stored_ones(io_grid, run_grid_cli):
    with_en = io_grid.district.assign(name_en=["Pingshan District"])
    assert run_grid_cli(io_grid.url, "import", io_grid.write(with_en, "d_en.geojson"), "--level", "district",
                        "--replace")[0] == 0
    status, _, err = run_grid_cli(io_grid.url, "import", io_grid.write(io_grid.district, "d.geojson"),
                                  "--level", "district", "--replace")
    assert status == 0, err
    assert stored_english(io_grid.url, "district") == {DISTRICT: "Pingshan District"}


@pytest.mark.parametrize("level, gdf_name, argv, line", [
    ("base_grid", "base_grids", ["--name-en-field", "name_en"],
     "file: base_grid grids have no English name column: leave out --name-en-field"),
    ("street", "streets", ["--name-en-field", "YWMC"], "file: field 'YWMC' is missing"),
])
def test_name_en_field_errors(shared_io_grid, run_grid_cli, level, gdf_name, argv, line):
    before = shared_io_grid.snapshot()
    path = shared_io_grid.write(getattr(shared_io_grid, gdf_name), f"{level}.geojson")
    status, _, err = run_grid_cli(shared_io_grid.url, "import", path, "--level", level, "--replace", *argv)
    assert status == 2 and err.splitlines()[0] == line
    assert shared_io_grid.snapshot() == before


def test_a_default_name_en_column_in_a_base_grid_file_is_ignored(io_grid, run_grid_cli):
    # Base grids have no English name column; a file that carries one still imports.
    gdf = frame(base_tiles(C2, 114.30, 22.67)).assign(name_en="grid")
    status, out, err = run_grid_cli(io_grid.url, "import", io_grid.write(gdf, "c2.geojson"), "--level", "base_grid")
    assert status == 0 and "4 added" in out, err


@pytest.fixture
def two_layers(io_grid, tmp_path):
    """A GeoPackage holding C2's base grids (layer c2) and a copy of C1's (layer c1)."""
    path = tmp_path / "grids.gpkg"
    frame(base_tiles(C1, 114.30, 22.65)).to_file(path, layer="c1")
    frame(base_tiles(C2, 114.30, 22.67)).to_file(path, layer="c2")
    return path


@pytest.mark.parametrize("argv, line", [
    ([], "file: holds several layers (c1, c2): choose one with --layer"),
    (["--layer", "c3"], "file: has no layer 'c3' (its layers: c1, c2)"),
])
def test_several_layers_need_one_named(io_grid, run_grid_cli, two_layers, argv, line):
    before = io_grid.snapshot()
    status, _, err = run_grid_cli(io_grid.url, "import", two_layers, "--level", "base_grid", *argv)
    assert status == 2 and err.splitlines() == [line, "import refused: nothing was written (1 problem(s))"]
    assert io_grid.snapshot() == before


def test_the_named_layer_is_imported(io_grid, run_grid_cli, two_layers):
    status, out, err = run_grid_cli(io_grid.url, "import", two_layers, "--level", "base_grid", "--layer", "c2")
    assert status == 0, err
    assert out.strip() == "base_grid: 4 added, 0 updated"
    assert sum(r["code"].startswith(C2) for r in io_grid.snapshot()["base_grid"]) == 4


def to_gcj02(gdf):
    """What a Chinese web map would have drawn: the same shapes in GCJ-02 coordinates."""
    return gdf.set_geometry(gcj02.geoms_wgs84_to_gcj02(np.asarray(gdf.geometry.values)))


GCJ_LINE = re.compile(r"^file: coordinates look like GCJ-02 \(Chinese web-map coordinates\) read as EPSG:4326: "
                      r"the features sit about (\d+) m from where the stored grids put them, the shift GCJ-02 "
                      r"makes here; import with --crs gcj02$")


@pytest.mark.parametrize("level, gdf", [
    ("base_grid", frame(base_tiles(C2, 114.30, 22.67))),
    ("district", frame([(DISTRICT, "坪山区", None, box(114.30, 22.65, 114.34, 22.69))])),
], ids=["base-grid-outside-its-community", "district-beside-its-stored-self"])
def test_gcj02_read_as_wgs84_is_named(io_grid, run_grid_cli, level, gdf):
    before = io_grid.snapshot()
    path = io_grid.write(to_gcj02(gdf), f"{level}_gcj.geojson")
    status, _, err = run_grid_cli(io_grid.url, "import", path, "--level", level, "--replace")
    assert status == 2
    found = [GCJ_LINE.match(line) for line in err.splitlines()]
    offsets = [int(m.group(1)) for m in found if m]
    assert len(offsets) == 1 and 300 <= offsets[0] <= 700, err
    assert io_grid.snapshot() == before
    # Declared as what it is, the same file fits.
    status, _, err = run_grid_cli(io_grid.url, "import", path, "--level", level, "--replace", "--crs", "gcj02")
    assert status == 0, err


def test_a_small_slip_outside_the_parent_is_not_called_gcj02(shared_io_grid, run_grid_cli):
    tiles = base_tiles(C2, 114.30, 22.67)
    tiles[0] = (*tiles[0][:3], box(114.30 - 0.0002, 22.67, 114.31, 22.68))  # 20 m west of C2
    before = shared_io_grid.snapshot()
    path = shared_io_grid.write(frame(tiles), "slip.geojson")
    status, _, err = run_grid_cli(shared_io_grid.url, "import", path, "--level", "base_grid")
    assert status == 2 and "outside its community" in err and "GCJ-02" not in err
    assert shared_io_grid.snapshot() == before
