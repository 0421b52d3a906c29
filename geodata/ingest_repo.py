"""The ingest worker's database side: reference data it caches, batch look-ups and bulk writes."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from geodata.locate import GridLookup, load_lookup
from geodata.queries import q
from grid import merging, routing
from grid.lifecycle import Status

_M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class MatterInfo:
    """What ingest needs of a matter."""

    code: str
    family: str
    priority: int
    deadline_hours: float
    merge: merging.MergeRule


@dataclass(frozen=True)
class CameraInfo:
    """A camera's position and configuration as ingest sees it."""

    code: str
    lon: float
    lat: float
    config: dict


@dataclass
class Reference:
    """Slowly changing data ingest keeps in memory: grid index, matters, cameras."""

    revision: int
    lookup: GridLookup
    matters: dict[str, MatterInfo]
    cameras: dict[str, CameraInfo]


def grid_revision(conn: psycopg.Connection) -> int:
    """The grid's revision number; it changes whenever grids or cameras do."""
    row = conn.cursor(row_factory=dict_row).execute(q("grid_revision")).fetchone()
    return int(row["rev"]) if row else 0


def load_reference(conn: psycopg.Connection) -> Reference:
    """Read the grid, the matters list and the cameras once."""
    cur = conn.cursor(row_factory=dict_row)
    rev = grid_revision(conn)
    matters = _matters(conn)
    cameras = {
        r["code"]: CameraInfo(r["code"], float(r["lon"]), float(r["lat"]), r["config"] or {})
        for r in cur.execute(q("ingest_cameras")).fetchall()
    }
    return Reference(rev, load_lookup(conn), matters, cameras)


def _matters(conn: psycopg.Connection) -> dict[str, MatterInfo]:
    rows = conn.cursor(row_factory=dict_row).execute(q("ingest_matters")).fetchall()
    return {
        r["code"]: MatterInfo(r["code"], r["family"], int(r["priority"]), float(r["deadline_hours"]),
                              merging.MergeRule(float(r["merge_radius_m"]), float(r["merge_window_min"])))
        for r in rows
    }


def known_event_ids(conn: psycopg.Connection, ids: list[UUID]) -> set[UUID]:
    """Which of these event ids were already accepted (replays)."""
    if not ids:
        return set()
    rows = conn.cursor(row_factory=dict_row).execute(q("known_event_ids"), {"ids": ids}).fetchall()
    return {r["event_id"] for r in rows}


def assignments(conn: psycopg.Connection, sub_grids: set[str]) -> dict[str, routing.Assignment]:
    """Current primary and backup worker of each sub-grid."""
    found: dict[str, dict[str, routing.Worker]] = {}
    if sub_grids:
        rows = conn.cursor(row_factory=dict_row).execute(
            q("ingest_assignments"), {"codes": sorted(sub_grids)}).fetchall()
        for r in rows:
            found.setdefault(r["sub_grid_code"], {})[r["role"]] = routing.Worker(r["code"], r["on_duty"], r["active"])
    return {code: routing.Assignment(w.get("primary"), w.get("backup")) for code, w in found.items()}


def situation_incidents(conn: psycopg.Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], UUID]:
    """Incidents already opened for (camera, situation id) pairs."""
    if not keys:
        return {}
    cams, sits = zip(*sorted(keys))
    rows = conn.cursor(row_factory=dict_row).execute(
        q("situation_incidents"), {"cameras": list(cams), "situations": list(sits)}).fetchall()
    return {(r["camera_code"], r["situation_id"]): r["id"] for r in rows}


def merge_candidates(conn: psycopg.Connection, reports: list[tuple[MatterInfo, float, float, datetime]]
                     ) -> list[merging.Candidate]:
    """Open incidents that some report might merge into (refined by grid.merging)."""
    if not reports:
        return []
    params: dict[str, list[Any]] = {"matters": [], "lons": [], "lats": [], "radius_deg": [],
                                    "observed": [], "window_min": []}
    for matter, lon, lat, observed in reports:
        # Bounding box in degrees, widened for longitude at this latitude; exact test in Python.
        deg = matter.merge.radius_m / (_M_PER_DEG_LAT * max(0.1, math.cos(math.radians(lat))))
        params["matters"].append(matter.code)
        params["lons"].append(lon)
        params["lats"].append(lat)
        params["radius_deg"].append(deg)
        params["observed"].append(observed)
        params["window_min"].append(matter.merge.window_min)
    rows = conn.cursor(row_factory=dict_row).execute(q("merge_candidates"), params).fetchall()
    return [merging.Candidate(str(r["id"]), r["matter_code"], r["status"], r["lon"], r["lat"], r["last_report_at"])
            for r in rows]


def lock_incidents(conn: psycopg.Connection, ids: set[UUID]) -> dict[UUID, Status]:
    """Lock these incidents until the batch commits (in id order: two ingest workers never deadlock)."""
    if not ids:
        return {}
    rows = conn.execute(q("lock_incidents_for_reports"), {"ids": sorted(ids)}).fetchall()
    return {r["id"]: Status(r["status"]) for r in rows}


@dataclass
class BatchWrite:
    """Rows one batch writes in one transaction."""

    incidents: list[tuple] = field(default_factory=list)
    reports: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)


INCIDENT_COLUMNS = (
    "id", "matter_code", "source", "status", "level", "priority", "queue", "geom", "outside",
    "base_grid_code", "sub_grid_code", "community_code", "street_code", "worker_code", "camera_code",
    "situation_id", "description", "report_count", "observed_at", "last_report_at", "dispatched_at",
    "due_at", "attributes",
)
REPORT_COLUMNS = ("event_id", "incident_id", "source", "matter_code", "reporter", "observed_at", "geom",
                  "description", "media", "attributes")
EVENT_COLUMNS = ("incident_id", "at", "actor", "action", "from_status", "to_status", "note", "media", "data")


def point_ewkt(lon: float, lat: float) -> str:
    """EWKT text PostGIS reads in COPY."""
    return f"SRID=4326;POINT({lon!r} {lat!r})"


def as_json(value: Any) -> str:
    """JSON text for a jsonb column in COPY."""
    return json.dumps(value, ensure_ascii=False, default=str)


def write_batch(conn: psycopg.Connection, batch: BatchWrite) -> None:
    """Write one batch of new cases, their reports and first history rows (caller holds the transaction)."""
    cur = conn.cursor(row_factory=dict_row)
    # COPY: the fastest way in; every row was validated before it got here.
    for table, columns, rows in (("incident", INCIDENT_COLUMNS, batch.incidents),
                                 ("incident_report", REPORT_COLUMNS, batch.reports),
                                 ("incident_event", EVENT_COLUMNS, batch.events)):
        if not rows:
            continue
        stmt = psycopg.sql.SQL("COPY {} ({}) FROM STDIN").format(
            psycopg.sql.Identifier(table), psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, columns)))
        with cur.copy(stmt) as copy:
            for row in rows:
                copy.write_row(row)
