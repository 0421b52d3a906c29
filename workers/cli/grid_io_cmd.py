"""gridwatch grid import|export: grid files in and out of PostGIS."""

from __future__ import annotations

import logging
import sys

from geodata import db, grid_io
from grid import rules

logger = logging.getLogger(__name__)

# Exit status of a refused import: the file was judged and nothing was written.
EXIT_REFUSED = 2


def register(grid_sub) -> None:
    """Add `import` and `export` to the `gridwatch grid` group."""
    imp = grid_sub.add_parser("import", help="import a grid file (GeoJSON, Shapefile, zipped Shapefile, GeoPackage)")
    imp.add_argument("path", help="the file to import")
    imp.add_argument("--level", required=True, choices=rules.LEVELS)
    imp.add_argument("--crs", help="coordinates' CRS: EPSG:4326, EPSG:4490 or gcj02 (default: the file's own)")
    imp.add_argument("--code-field", help="code column (default: code, else adcode)")
    imp.add_argument("--name-field", help="name column (default: name)")
    imp.add_argument("--parent-field", help="parent code column (default: parent, else implied by the code)")
    imp.add_argument("--name-en-field",
                     help="English name column, district/street/community only (default: name_en when present)")
    imp.add_argument("--layer", help="the layer to read from a file holding several (GeoPackage)")
    imp.add_argument("--replace", action="store_true",
                     help="the file is the whole truth for the parents it covers (all districts for a district "
                          "file): update stored codes, add new ones, remove the ones it leaves out")
    imp.set_defaults(func=run_import)

    exp = grid_sub.add_parser("export", help="export one level; the extension names the format")
    exp.add_argument("--level", required=True, choices=rules.LEVELS)
    exp.add_argument("path", help=".geojson, .json, .gpkg, .shp or .zip (zipped Shapefile)")
    exp.set_defaults(func=run_export)


def run_import(args, settings) -> int:
    """Import a file; on any violation print one line per bad feature and exit 2."""
    url = settings.require_database()
    with db.connect(url) as conn:
        result = grid_io.import_file(
            conn, args.path, args.level, crs=args.crs, code_field=args.code_field,
            name_field=args.name_field, parent_field=args.parent_field, name_en_field=args.name_en_field,
            layer=args.layer, replace=args.replace,
        )
    if not result.ok:
        for line in rules.feature_lines(result.violations):
            print(line, file=sys.stderr)
        print(f"import refused: nothing was written ({len(result.violations)} problem(s))", file=sys.stderr)
        return EXIT_REFUSED
    print(summary(result))
    return 0


def summary(result: grid_io.ImportResult) -> str:
    """One line saying what an accepted import wrote."""
    removed_subs = result.removed if result.level == "sub_grid" else result.removed_sub_grids
    parts = [f"{result.level}: {len(result.added)} added, {len(result.updated)} updated"]
    if result.level != "sub_grid" and result.removed:
        parts.append(f"removed: {', '.join(result.removed)}")
    if result.moved:
        parts.append(f"{result.moved} base grid(s) moved")
    if removed_subs:
        parts.append(f"sub-grid(s) removed: {', '.join(removed_subs)}")
    if result.ended_assignments:
        parts.append(f"{result.ended_assignments} worker assignment(s) ended")
    return ", ".join(parts)


def run_export(args, settings) -> int:
    """Export one level to a file."""
    url = settings.require_database()
    with db.connect(url) as conn:
        count = grid_io.export(conn, args.level, args.path)
    print(f"exported {count} {args.level} grid(s) to {args.path}")
    return 0
