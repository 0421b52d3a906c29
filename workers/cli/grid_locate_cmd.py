"""gridwatch grid locate LON LAT."""

from __future__ import annotations

import json
import math

from geodata import db
from geodata.locate import describe


def register(grid_sub) -> None:
    p = grid_sub.add_parser("locate", help="which street, community, sub-grid, base grid and workers hold a point")
    p.add_argument("lon", type=float, help="longitude, WGS84 degrees")
    p.add_argument("lat", type=float, help="latitude, WGS84 degrees")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    if not (math.isfinite(args.lon) and -180 <= args.lon <= 180 and math.isfinite(args.lat) and -90 <= args.lat <= 90):
        print(json.dumps({"error": f"not a WGS84 position: lon {args.lon}, lat {args.lat}"}))
        return 2
    with db.connect(settings.require_database()) as conn:
        answer = describe(conn, args.lon, args.lat)
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 3 if answer["outside"] else 0
