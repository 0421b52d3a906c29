"""Grid import and export with geopandas: validate the whole file first, then write it in one transaction."""

from __future__ import annotations

import logging
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyogrio
import pyproj
import shapely
from psycopg import sql

from geodata import grid_plan
from geodata.queries import q
from grid import gcj02, rules
from grid.rules import Violation, violation

logger = logging.getLogger(__name__)

CODE_FIELDS = ("code", "adcode")
NAME_FIELDS = ("name",)
NAME_EN_FIELDS = ("name_en",)
# Only these tables have an English name column (geodata/migrations/0001_grid.sql).
NAME_EN_LEVELS = ("district", "street", "community")
PARENT_FIELDS = ("parent", "parent_code")
SUB_GRID_FIELDS = ("sub_grid", "sub_grid_code")


class ImportRefused(Exception):
    """Raised inside the transaction so that nothing is written."""


@dataclass
class Features:
    """A file's features, cleaned: codes as text, geometries as WGS84 MultiPolygons."""

    codes: list
    names: list
    parents: list
    geoms: np.ndarray
    sub_grids: list | None = None
    ok: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # None when the file has no English name column: the stored ones are then kept.
    names_en: list | None = None
    # The CRS the coordinates were declared in (--crs, else the file's own), for the GCJ-02 sanity check.
    declared_crs: str | None = None


@dataclass
class ImportResult:
    """What an import did, or the violations that stopped it (then nothing was written)."""

    level: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # grids of the file's level (sub-grid files: emptied ones)
    removed_sub_grids: list[str] = field(default_factory=list)  # base-grid files: sub-grids left empty
    ended_assignments: int = 0
    moved: int = 0
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the import was written (no violation)."""
        return not self.violations


# ---------------------------------------------------------------- reading


def _find_column(columns, wanted: str | None, defaults: tuple[str, ...]) -> str | None:
    by_lower = {str(c).lower(): c for c in columns if c != "geometry"}
    for name in ((wanted,) if wanted else defaults):
        if name.lower() in by_lower:
            return by_lower[name.lower()]
    return None


def _as_text(value) -> str | None:
    """Codes may arrive as numbers (adcode 440310, or 440310.0 from a shapefile)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating)) and float(value).is_integer()):
        return str(int(value))
    text = str(value).strip()
    return text or None


def _to_wgs84(geoms: gpd.GeoSeries, crs: str | None) -> np.ndarray:
    flat = shapely.force_2d(np.asarray(geoms.values, dtype=object))
    if crs and crs.lower().replace("-", "") == "gcj02":
        return gcj02.geoms_gcj02_to_wgs84(flat)
    source = crs or geoms.crs or "EPSG:4326"
    series = gpd.GeoSeries(flat, crs=source)
    if not series.crs.equals("EPSG:4326"):
        series = series.to_crs("EPSG:4326")
    return np.asarray(series.values, dtype=object)


def _as_multipolygon(geom):
    """A MultiPolygon, repairing only what reprojection may have nudged into invalidity."""
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    polys = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    parts = [part for p in polys for part in shapely.get_parts(p)]
    return shapely.MultiPolygon(parts)


def _read(path, layer: str | None) -> tuple[gpd.GeoDataFrame | None, list]:
    """The file's one layer, or the named one: a GeoPackage (or a zip of shapefiles) may hold several."""
    try:
        layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
        if layer is not None and layer not in layers:
            return None, [violation("no_such_layer", index="file", layer=layer, layers=", ".join(layers))]
        if layer is None and len(layers) > 1:
            # Reading the first one silently would import the wrong grids as readily as the right ones.
            return None, [violation("several_layers", index="file", layers=", ".join(layers))]
        return gpd.read_file(path, layer=layer), []
    except Exception as exc:  # pyogrio raises several types for unreadable files; all mean the same here
        return None, [violation("unreadable", index="file", reason=str(exc))]


def read_features(path, level: str, *, crs: str | None = None, code_field: str | None = None,
                  name_field: str | None = None, parent_field: str | None = None,
                  name_en_field: str | None = None, layer: str | None = None) -> tuple[Features | None, list]:
    """Read and clean a file; return the features and every per-feature violation found without the database."""
    gdf, file_errors = _read(path, layer)
    if gdf is None:
        return None, file_errors
    cols = gdf.columns
    code_col = _find_column(cols, code_field, CODE_FIELDS)
    name_col = _find_column(cols, name_field, NAME_FIELDS)
    name_en_col = _find_column(cols, name_en_field, NAME_EN_FIELDS)
    parent_level = rules.PARENT_LEVEL.get(level)
    parent_defaults = PARENT_FIELDS + ((f"{parent_level}_code",) if parent_level else ())
    parent_col = _find_column(cols, parent_field, parent_defaults) if parent_level else None
    file_errors = []
    for col, wanted, default in ((code_col, code_field, "code"), (name_col, name_field, "name")):
        if col is None:
            file_errors.append(violation("missing_field", index="file", field=wanted or default))
    if parent_field and parent_level and parent_col is None:
        file_errors.append(violation("missing_field", index="file", field=parent_field))
    if name_en_field and level not in NAME_EN_LEVELS:
        file_errors.append(violation("name_en_unsupported", index="file", level=level))
    elif name_en_field and name_en_col is None:
        file_errors.append(violation("missing_field", index="file", field=name_en_field))
    if file_errors:
        return None, file_errors

    codes = [_as_text(v) for v in gdf[code_col]]
    names = [_as_text(v) for v in gdf[name_col]]
    # A default `name_en` column in a sub-grid or base-grid file is ignored: those tables have none.
    names_en = [_as_text(v) for v in gdf[name_en_col]] if name_en_col is not None and level in NAME_EN_LEVELS else None
    if parent_col is not None:
        parents = [_as_text(v) for v in gdf[parent_col]]
    else:
        # Codes extend their parent's code, so the parent is implied when the file does not say.
        parents = [rules.parent_code_of(level, c) if c and parent_level else None for c in codes]
    sub_grids = None
    if level == "base_grid":
        sub_col = _find_column(cols, None, SUB_GRID_FIELDS)
        sub_grids = [_as_text(v) for v in gdf[sub_col]] if sub_col is not None else [None] * len(gdf)

    source = np.asarray(gdf.geometry.values, dtype=object)
    violations = rules.check_codes(level, codes, names, parents if parent_level else None)
    geom_violations = rules.check_geometries(source)
    violations += geom_violations
    ok = np.ones(len(gdf), dtype=bool)
    for v in geom_violations:
        ok[v.params["index"]] = False
    geoms = np.array([None] * len(gdf), dtype=object)
    if ok.any():
        try:
            converted = _to_wgs84(gdf.geometry[ok], crs)
        except pyproj.exceptions.CRSError as exc:
            return None, [violation("bad_crs", index="file", crs=crs, reason=str(exc))]
        geoms[ok] = [_as_multipolygon(g) for g in converted]
    coord_violations = rules.check_coordinates(geoms[ok])
    ok_idx = np.flatnonzero(ok)
    for v in coord_violations:
        i = int(ok_idx[v.params["index"]])
        params = {**v.params, "index": i, "value": codes[i]}
        violations.append(violation(v.code, **params))
        ok[i] = False
    for v in violations:
        # Without a usable code or parent a feature cannot be placed; a missing name does not stop the checks.
        unplaceable = v.code == "bad_code_format" or (v.code == "missing_field" and v.params["field"] != "name")
        if isinstance(v.params.get("index"), int) and unplaceable:
            ok[v.params["index"]] = False
    declared = crs or (gdf.crs.to_string() if gdf.crs else "EPSG:4326")
    feats = Features(codes, names, parents, geoms, sub_grids, ok, names_en, declared)
    return feats, _with_codes(violations, codes)


def _with_codes(violations: list[Violation], codes: list) -> list[Violation]:
    """Name the feature's code beside its index wherever the check did not."""
    out = []
    for v in violations:
        i = v.params.get("index")
        if isinstance(i, int) and "value" not in v.params and codes[i]:
            v = violation(v.code, **{**v.params, "value": codes[i]})
        out.append(v)
    return out


# ---------------------------------------------------------------- importing


def import_file(conn: psycopg.Connection, path, level: str, *, crs: str | None = None,
                code_field: str | None = None, name_field: str | None = None,
                parent_field: str | None = None, name_en_field: str | None = None,
                layer: str | None = None, replace: bool = False) -> ImportResult:
    """Validate a file at one level against the rules and the database; write it all or nothing.

    With `replace` the file is the whole truth for the part of the level it covers (see
    `grid_plan.scope_of`): stored grids there that the file lacks are removed, unless something live
    still needs them.
    """
    if level not in rules.LEVELS:
        raise ValueError(f"unknown level {level!r}")
    result = ImportResult(level)
    feats, found = read_features(path, level, crs=crs, code_field=code_field, name_field=name_field,
                                 parent_field=parent_field, name_en_field=name_en_field, layer=layer)
    result.violations.extend(found)
    if feats is None:
        return result
    try:
        with conn.transaction():
            conn.execute(q("grid_io_lock"))
            plan = grid_plan.plan(conn, level, feats, replace=replace)
            result.violations.extend(plan.violations)
            if result.violations:
                raise ImportRefused
            result.ended_assignments = grid_plan.write(conn, level, feats, plan)
            result.added, result.updated, result.removed, result.moved = (
                plan.added, plan.updated, plan.removed, len(plan.moves))
            result.removed_sub_grids = plan.removed_sub_grids
    except ImportRefused:
        logger.info("import of %s refused: %s violation(s), nothing written", path, len(result.violations))
    except psycopg.DatabaseError as exc:
        # The schema's own rules (checked at commit) are the last word; the transaction is rolled back.
        reason = exc.diag.message_primary or str(exc)
        result.violations.append(violation("database_rule", reason=reason))
        result.added, result.updated, result.removed, result.moved = [], [], [], 0
        result.removed_sub_grids, result.ended_assignments = [], 0
    return result


# ---------------------------------------------------------------- exporting

_DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".shp": "ESRI Shapefile"}


def read_level(conn: psycopg.Connection, level: str) -> gpd.GeoDataFrame:
    """Every grid of one level as a GeoDataFrame (code, name[, name_en], parent[, sub_grid], geometry), EPSG:4326."""
    if level == "base_grid":
        rows = conn.execute(q("grid_io_base_grid_export")).fetchall()
    else:
        name_en = sql.Identifier("name_en") if level in NAME_EN_LEVELS else sql.SQL("NULL::text")
        rows = conn.execute(grid_plan.query("grid_io_export", level, name_en=name_en)).fetchall()
    data = {"code": [r["code"] for r in rows], "name": [r["name"] for r in rows]}
    if level in NAME_EN_LEVELS:
        data["name_en"] = [r["name_en"] for r in rows]
    data["parent"] = [r["parent"] or "" for r in rows]
    if level == "base_grid":
        data["sub_grid"] = [r["sub_grid"] for r in rows]
    geoms = shapely.from_wkb([bytes(r["wkb"]) for r in rows]) if rows else []
    return gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")


def export(conn: psycopg.Connection, level: str, path) -> int:
    """Write one level to the format the extension names (.geojson/.json, .gpkg, .shp, .zip); return the count."""
    if level not in rules.LEVELS:
        raise ValueError(f"unknown level {level!r}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in _DRIVERS and suffix != ".zip":
        raise ValueError(f"cannot tell the format of {path.name}: use .geojson, .json, .gpkg, .shp or .zip")
    gdf = read_level(conn, level)
    if suffix == ".zip":
        with tempfile.TemporaryDirectory() as tmp:
            shp = Path(tmp) / f"{path.stem}.shp"
            gdf.to_file(shp, driver="ESRI Shapefile", encoding="UTF-8")
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
                for part in sorted(Path(tmp).iterdir()):
                    zf.write(part, part.name)
    elif suffix == ".gpkg":
        gdf.to_file(path, driver="GPKG", layer=level)
    elif suffix == ".shp":
        gdf.to_file(path, driver="ESRI Shapefile", encoding="UTF-8")
    else:
        # The GeoJSON driver will not write over an existing file.
        path.unlink(missing_ok=True)
        gdf.to_file(path, driver="GeoJSON")
    logger.info("exported %s %s grid(s) to %s", len(gdf), level, path)
    return len(gdf)
