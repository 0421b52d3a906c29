"""A small grid built in code for the import/export tests, and a way to run `gridwatch grid ...`."""

from __future__ import annotations

import argparse
import uuid
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import psycopg
import pytest
import shapely
from psycopg import sql

from geodata import db, grid_io
from workers.cli import grid_io_cmd
from geodata.settings import Settings

DISTRICT = "440310"
STREET_W, STREET_E = "440310001", "440310002"
C1, C2 = "440310001001", "440310001002"
STEP = 0.01  # about 1 km: base grids are STEP x STEP tiles


def box(x0, y0, x1, y1):
    return shapely.box(x0, y0, x1, y1)


def frame(rows, crs="EPSG:4326") -> gpd.GeoDataFrame:
    """rows: (code, name, parent, geometry) -> GeoDataFrame with code/name/parent columns."""
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[1] for r in rows], "parent": [r[2] for r in rows]},
        geometry=[r[3] for r in rows],
        crs=crs,
    )


def base_tiles(community: str, x0: float, y0: float, nx: int = 2, ny: int = 2):
    """Base grids tiling a community's lower-left corner cell by cell, codes 001, 002, ..."""
    rows, k = [], 0
    for j in range(ny):
        for i in range(nx):
            k += 1
            rows.append((f"{community}{k:03d}", f"基础网格{k}", community,
                         box(x0 + i * STEP, y0 + j * STEP, x0 + (i + 1) * STEP, y0 + (j + 1) * STEP)))
    return rows


@dataclass
class SmallGrid:
    """District 440310 with two streets; street 001 has communities C1 (2x2 base grids) and C2 (empty)."""

    url: str
    tmp: Path

    district = frame([(DISTRICT, "坪山区", None, box(114.30, 22.65, 114.34, 22.69))])
    streets = frame([(STREET_W, "坪山街道", DISTRICT, box(114.30, 22.65, 114.32, 22.69)),
                     (STREET_E, "坑梓街道", DISTRICT, box(114.32, 22.65, 114.34, 22.69))])
    communities = frame([(C1, "六和社区", STREET_W, box(114.30, 22.65, 114.32, 22.67)),
                         (C2, "六联社区", STREET_W, box(114.30, 22.67, 114.32, 22.69))])
    base_grids = frame(base_tiles(C1, 114.30, 22.65))

    def write(self, gdf: gpd.GeoDataFrame, name: str) -> Path:
        path = self.tmp / name
        gdf.to_file(path)
        return path

    def load(self, gdf: gpd.GeoDataFrame, level: str, name: str | None = None, **kw) -> grid_io.ImportResult:
        path = self.write(gdf, name or f"{level}.geojson")
        with db.connect(self.url) as conn:
            return grid_io.import_file(conn, path, level, **kw)

    def fill(self) -> None:
        """Give C2 its four base grids and split C1 into sub-grids 01 (west) and 02 (east)."""
        assert self.load(frame(base_tiles(C2, 114.30, 22.67)), "base_grid", "c2.geojson").ok
        subs = frame([(C1 + "01", "西片", C1, box(114.299, 22.64, 114.31, 22.669)),
                      (C1 + "02", "东片", C1, box(114.31, 22.64, 114.321, 22.669))])
        result = self.load(subs, "sub_grid", "subs.geojson", replace=True)
        assert result.ok, result.violations

    def snapshot(self) -> dict:
        """Every grid row (code, parent, name, geometry text) per table: 'unchanged' means equal snapshots."""
        out = {}
        with db.connect(self.url) as conn:
            for table, parent in (("district", None), ("street", "district_code"), ("community", "street_code"),
                                  ("sub_grid", "community_code"), ("base_grid", "sub_grid_code")):
                stmt = sql.SQL("SELECT code, {} AS parent, name, ST_AsText(geom) AS wkt FROM {} ORDER BY code")
                parent_sql = sql.Identifier(parent) if parent else sql.SQL("NULL")
                out[table] = conn.execute(stmt.format(parent_sql, sql.Identifier(table))).fetchall()
        return out


def _admin(admin_url: str, stmt: sql.Composable) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(stmt)


def _with_dbname(url: str, name: str) -> str:
    return psycopg.conninfo.make_conninfo(url, dbname=name)


@pytest.fixture(scope="session")
def io_grid_template(admin_url, template_db, tmp_path_factory) -> str:
    """A database holding the small grid, loaded once through the importer, cloned by each test."""
    name = f"gw_io_{uuid.uuid4().hex[:8]}"
    _admin(admin_url, sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template_db)))
    grid = SmallGrid(_with_dbname(admin_url, name), tmp_path_factory.mktemp("io_grid"))
    for gdf, level in ((grid.district, "district"), (grid.streets, "street"),
                       (grid.communities, "community"), (grid.base_grids, "base_grid")):
        result = grid.load(gdf, level)
        assert result.ok, result.violations
    yield name
    _admin(admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def io_grid(make_db, io_grid_template, tmp_path) -> SmallGrid:
    """A fresh copy of the small grid for this test alone (C1's base grids sit in sub-grid C1 00)."""
    return SmallGrid(make_db(io_grid_template), tmp_path)


@pytest.fixture(scope="module")
def shared_io_grid(admin_url, io_grid_template, tmp_path_factory) -> SmallGrid:
    """One copy for a module's refused imports: each must leave it unchanged, and says so."""
    name = f"gw_iom_{uuid.uuid4().hex[:8]}"
    _admin(admin_url, sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                      sql.Identifier(io_grid_template)))
    yield SmallGrid(_with_dbname(admin_url, name), tmp_path_factory.mktemp("shared_io_grid"))
    _admin(admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def run_grid_cli(capsys):
    """Run `gridwatch grid <argv>` against a database URL; return (status, stdout, stderr)."""

    def run(url: str, *argv: str) -> tuple[int, str, str]:
        parser = argparse.ArgumentParser(prog="gridwatch")
        sub = parser.add_subparsers(dest="command", required=True)
        grid_parser = sub.add_parser("grid")
        grid_io_cmd.register(grid_parser.add_subparsers(dest="grid_command", required=True))
        args = parser.parse_args(["grid", *map(str, argv)])
        capsys.readouterr()
        status = args.func(args, Settings(database_url=url, redis_url="redis://unused"))
        out = capsys.readouterr()
        return status, out.out, out.err

    return run
