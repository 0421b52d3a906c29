"""Location lookup against the stored grid: a GridIndex loaded from PostGIS, plus names and workers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg
import shapely

from geodata.queries import q
from grid.locate import GridIndex, GridRecord


@dataclass
class GridLookup:
    """An in-memory index of the base grids with the names of every grid level."""

    index: GridIndex
    names: dict[tuple[str, str], str]

    def name(self, level: str, code: str | None) -> str | None:
        return self.names.get((level, code)) if code else None


def load_lookup(conn: psycopg.Connection) -> GridLookup:
    """Read every base grid once and build the lookup index."""
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    rows = cur.execute(q("base_grids_for_index")).fetchall()
    records = [GridRecord(r["base_grid"], r["sub_grid"], r["community"], r["street"]) for r in rows]
    geoms = shapely.from_wkb([bytes(r["wkb"]) for r in rows]) if rows else np.array([], dtype=object)
    names = {(r["level"], r["code"]): r["name"] for r in cur.execute(q("grid_names")).fetchall()}
    return GridLookup(GridIndex(records, geoms), names)


def grid_workers_of(conn: psycopg.Connection, sub_grid_codes: list[str]) -> dict[str, list[dict]]:
    """Current primary and backup workers per sub-grid."""
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    out: dict[str, list[dict]] = {code: [] for code in sub_grid_codes}
    for r in cur.execute(q("current_workers_of_sub_grids"), {"codes": list(sub_grid_codes)}).fetchall():
        out[r["sub_grid_code"]].append(
            {"code": r["code"], "name": r["name"], "role": r["role"], "on_duty": r["on_duty"]}
        )
    return out


def describe(conn: psycopg.Connection, lon: float, lat: float) -> dict:
    """JSON-ready answer for one point: each grid level with code and name, and the workers."""
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    hit = cur.execute(q("locate_point"), {"lon": lon, "lat": lat}).fetchone()
    if hit is None:
        out = {"outside": True, "lon": lon, "lat": lat}
        near = cur.execute(q("nearest_community"), {"lon": lon, "lat": lat}).fetchone()
        if near:
            out["nearest_community"] = {
                "code": near["code"], "name": near["name"], "distance_m": round(near["distance_m"], 1)
            }
        return out
    out = {"outside": False, "lon": lon, "lat": lat}
    for level in ("street", "community", "sub_grid", "base_grid"):
        out[level] = {"code": hit[level], "name": hit[f"{level}_name"]}
    out["workers"] = grid_workers_of(conn, [hit["sub_grid"]])[hit["sub_grid"]]
    return out
