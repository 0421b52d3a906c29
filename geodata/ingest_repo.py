"""The ingest worker's database side: reference data it caches, batch look-ups and bulk writes."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
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


def prepare(conn: psycopg.Connection) -> None:
    """Create this session's staging tables (once per connection; they empty at every commit)."""
    conn.execute(q("ingest_probe_table"))
    conn.execute(q("ingest_new_table"))


@dataclass(frozen=True)
class Probe:
    """What the replay check and the duplicate search need of one message; `matter` is None for a
    message that failed its look-ups, `mergeable` False for one that must not merge by place."""

    event_id: UUID
    observed: datetime
    matter: MatterInfo | None = None
    lon: float | None = None
    lat: float | None = None
    mergeable: bool = False


# Binary COPY: no text escaping, and the C dumpers of psycopg for every type but uuid.
PROBE_TYPES = ("uuid", "text", "float8", "float8", "float8", "timestamptz", "float8")


def probe(conn: psycopg.Connection, probes: list[Probe]) -> None:
    """Copy the batch's messages into the staging table the two look-ups below join."""
    with conn.cursor().copy(q("ingest_probe_copy")) as copy:
        copy.set_types(PROBE_TYPES)
        for p in probes:
            radius_deg = window = None
            if p.matter is not None and p.mergeable:
                # Bounding box in degrees, widened for longitude at this latitude; exact test in Python.
                radius_deg = p.matter.merge.radius_m / (_M_PER_DEG_LAT * max(0.1, math.cos(math.radians(p.lat))))
                window = p.matter.merge.window_min
            copy.write_row((p.event_id, p.matter.code if p.matter else None, p.lon, p.lat, radius_deg,
                            p.observed, window))


def known_event_ids(conn: psycopg.Connection) -> set[UUID]:
    """Which of the probed event ids were already accepted (replays)."""
    return {r["event_id"] for r in conn.cursor(row_factory=dict_row).execute(q("known_event_ids")).fetchall()}


def assignments(conn: psycopg.Connection, sub_grids: set[str]) -> dict[str, routing.Assignment]:
    """Current primary and backup worker of each sub-grid."""
    found: dict[str, dict[str, routing.GridWorker]] = {}
    if sub_grids:
        rows = conn.cursor(row_factory=dict_row).execute(
            q("ingest_assignments"), {"codes": sorted(sub_grids)}).fetchall()
        for r in rows:
            found.setdefault(r["sub_grid_code"], {})[r["role"]] = routing.GridWorker(r["code"], r["on_duty"], r["active"])
    return {code: routing.Assignment(w.get("primary"), w.get("backup")) for code, w in found.items()}


def situation_incidents(conn: psycopg.Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], UUID]:
    """Incidents already opened for (camera, situation id) pairs."""
    if not keys:
        return {}
    cams, sits = zip(*sorted(keys))
    rows = conn.cursor(row_factory=dict_row).execute(
        q("situation_incidents"), {"cameras": list(cams), "situations": list(sits)}).fetchall()
    return {(r["camera_code"], r["situation_id"]): r["id"] for r in rows}


def merge_candidates(conn: psycopg.Connection) -> list[merging.Candidate]:
    """Open incidents that some probed message might merge into (refined by grid.merging)."""
    rows = conn.cursor(row_factory=dict_row).execute(q("merge_candidates")).fetchall()
    return [merging.Candidate(str(r["id"]), r["matter_code"], r["status"], r["lon"], r["lat"], r["last_report_at"])
            for r in rows]


@dataclass(frozen=True)
class LockedCase:
    """A case locked for this batch: its status, and when its last `situation_update` row's report was seen."""

    status: Status
    update_at: datetime | None = None


def lock_incidents(conn: psycopg.Connection, ids: set[UUID]) -> dict[UUID, LockedCase]:
    """Lock these incidents until the batch commits (in id order: two ingest workers never deadlock)."""
    if not ids:
        return {}
    rows = conn.execute(q("lock_incidents_for_reports"), {"ids": sorted(ids)}).fetchall()
    return {r["id"]: LockedCase(Status(r["status"]), _timestamp(r["update_at"])) for r in rows}


def _timestamp(text: str | None) -> datetime | None:
    # Written by geodata.transitions as isoformat(); anything else (a hand edit) paces nothing.
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


@dataclass
class BatchWrite:
    """Rows one batch writes in one transaction: new cases (NEW_COLUMNS, fanned out in SQL into the
    incident, its first report and history) and further reports of existing cases (REPORT_COLUMNS)."""

    incidents: list[tuple] = field(default_factory=list)
    reports: list[tuple] = field(default_factory=list)


NEW_COLUMNS = (
    "id", "matter_code", "source", "status", "priority", "queue", "lon", "lat", "outside", "base_grid_code",
    "sub_grid_code", "community_code", "street_code", "worker_code", "camera_code", "situation_id",
    "description", "observed_at", "dispatched_at", "due_at", "attributes", "report_attributes", "media",
    "reporter", "dispatch_reason",
)
NEW_TYPES = ("uuid", "text", "text", "text", "int2", "text", "float8", "float8", "bool", "text", "text", "text", "text",
             "text", "text", "text", "text", "timestamptz", "timestamptz", "timestamptz", "text", "text", "text",
             "text", "text")
REPORT_COLUMNS = ("event_id", "incident_id", "source", "matter_code", "reporter", "observed_at", "geom",
                  "description", "media", "attributes")


def point_ewkt(lon: float, lat: float) -> str:
    """EWKT text PostGIS reads in COPY."""
    return f"SRID=4326;POINT({lon!r} {lat!r})"


# The standard encoder, for what orjson refuses (integers beyond 64 bits in free attributes).
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


def as_json(value: Any) -> str:
    """JSON text for a jsonb column."""
    if not value:
        # Most reports carry no media and many no attributes.
        return "[]" if isinstance(value, list) else _encode(value)
    try:
        # Several times faster than json on the attributes of every report.
        return orjson.dumps(value, default=str).decode()
    except TypeError:
        return _encode(value)


def write_batch(conn: psycopg.Connection, batch: BatchWrite, at: datetime, actor: str) -> None:
    """Write one batch of new cases, their reports and first history rows (caller holds the transaction)."""
    if batch.incidents:
        # COPY: the fastest way in; every row was validated before it got here. One row per case,
        # fanned out into the three tables in SQL, so Python formats each field once.
        with conn.cursor().copy(q("ingest_new_copy")) as copy:
            copy.set_types(NEW_TYPES)
            for row in batch.incidents:
                copy.write_row(row)
        conn.execute(q("ingest_new_write"), {"at": at, "actor": actor})
    if batch.reports:
        stmt = psycopg.sql.SQL("COPY incident_report ({}) FROM STDIN").format(
            psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, REPORT_COLUMNS)))
        with conn.cursor().copy(stmt) as copy:
            for row in batch.reports:
                copy.write_row(row)
