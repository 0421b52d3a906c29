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
    imp.add_argument("--replace", action="store_true",
                     help="update grids whose code is already stored (otherwise an error)")
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
            name_field=args.name_field, parent_field=args.parent_field, replace=args.replace,
        )
    if not result.ok:
        for line in rules.feature_lines(result.violations):
            print(line, file=sys.stderr)
        print(f"import refused: nothing was written ({len(result.violations)} problem(s))", file=sys.stderr)
        return EXIT_REFUSED
    print(f"{args.level}: {len(result.added)} added, {len(result.updated)} updated"
          + (f", {result.moved} base grid(s) moved" if result.moved else "")
          + (f", sub-grid(s) removed: {', '.join(result.removed)}" if result.removed else ""))
    return 0


def run_export(args, settings) -> int:
    """Export one level to a file."""
    url = settings.require_database()
    with db.connect(url) as conn:
        count = grid_io.export(conn, args.level, args.path)
    print(f"exported {count} {args.level} grid(s) to {args.path}")
    return 0
