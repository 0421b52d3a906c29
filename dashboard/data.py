"""The dashboard's one data-access module: read models and the few writes, all through named queries."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from dashboard.access import SessionUser, scope_filter
from geodata.queries import q
from geodata import grid_workers, wall_repo

logger = logging.getLogger(__name__)

# Cells for server-side aggregation of open incidents (degrees; ~400 m at the wall's zoom).
WALL_CELL_DEG = 0.004
MAX_CLUSTERS = 1500


def day_start(tz: str, now: datetime | None = None) -> datetime:
    """Midnight of today in the reporting time zone (China Standard Time by default)."""
    now = now or datetime.now(ZoneInfo(tz))
    local = now.astimezone(ZoneInfo(tz))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def week_start(tz: str) -> datetime:
    """Monday 00:00 of this week in the reporting time zone."""
    d = day_start(tz)
    return d - timedelta(days=d.weekday())


class TTLCache:
    """A tiny per-process cache for read models: rarely changing ones (outlines, matters) and the wall's
    short-lived aggregates that every wall of one scope shares."""

    def __init__(self, ttl_s: float):
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._data: dict = {}
        self._making: dict = {}  # key -> the lock of the one request making it now

    def get(self, key, make, ttl_s: float | None = None):
        """The cached value of key, made again by make() when older than the TTL (`ttl_s` or the cache's).

        Single flight: when many requests miss the same key at once (every wall resyncing after one
        alarm), one runs make() and the others wait for its value instead of repeating the queries.
        """
        ttl = self.ttl_s if ttl_s is None else ttl_s
        with self._lock:
            hit = self._data.get(key)
            if hit and time.monotonic() - hit[0] < ttl:
                return hit[1]
            maker = self._making.setdefault(key, threading.Lock())
        with maker:
            with self._lock:
                hit = self._data.get(key)
                if hit and time.monotonic() - hit[0] < ttl:
                    return hit[1]  # made by the request we waited for
            made_at = time.monotonic()
            try:
                value = make()
                with self._lock:
                    self._data[key] = (made_at, value)
            finally:
                with self._lock:
                    if self._making.get(key) is maker:
                        del self._making[key]
            return value

    def clear(self) -> None:
        """Forget everything (after a base grid moved)."""
        with self._lock:
            self._data.clear()


def _rows(conn: psycopg.Connection, name: str, params: dict | None = None) -> list[dict]:
    return conn.cursor(row_factory=psycopg.rows.dict_row).execute(q(name), params or {}).fetchall()


def _one(conn: psycopg.Connection, name: str, params: dict | None = None) -> dict | None:
    return conn.cursor(row_factory=psycopg.rows.dict_row).execute(q(name), params or {}).fetchone()


def kpis(conn, user: SessionUser, tz: str) -> dict:
    """Today's incidents, open, overdue, on-time closure rate (30 days) and cameras online."""
    row = _one(conn, "dash_kpis", {**scope_filter(user), "day_start": day_start(tz)})
    rate = (row["closed_on_time"] / row["closed"]) if row["closed"] else None
    return {**row, "on_time_rate": rate}


def outlines(conn) -> list[dict]:
    """District, street and community outlines (simplified GeoJSON text)."""
    return _rows(conn, "dash_outlines")


def sub_grids(conn, user: SessionUser) -> list[dict]:
    """Sub-grids in the user's scope with their geometry and current workers' names."""
    return _rows(conn, "dash_sub_grids", scope_filter(user))


def open_by_sub_grid(conn) -> dict[str, dict]:
    """Open incidents per sub-grid: {code: {open, top_priority}}."""
    return {r["code"]: r for r in _rows(conn, "dash_open_by_sub_grid")}


def incident_clusters(conn, user: SessionUser, cell: float = WALL_CELL_DEG) -> list[dict]:
    """Open incidents aggregated per cell on the server (never one marker per incident)."""
    return _rows(conn, "dash_incident_clusters", {**scope_filter(user), "cell": cell, "limit": MAX_CLUSTERS})


def cameras(conn) -> list[dict]:
    """Every camera with health and position."""
    return _rows(conn, "dash_cameras")


def camera(conn, code: str) -> dict | None:
    """One camera by code."""
    return next((c for c in cameras(conn) if c["code"] == code), None)


def grid_worker_positions(conn, user: SessionUser) -> list[dict]:
    """Grid workers with a known last position, in scope."""
    return _rows(conn, "dash_workers", scope_filter(user))


def latest(conn, user: SessionUser, limit: int = 12) -> list[dict]:
    """The newest incidents in scope."""
    return _rows(conn, "dash_latest", {**scope_filter(user), "limit": limit})


def street_ranking(conn, user: SessionUser) -> list[dict]:
    """Streets by open incidents, with overdue counts; a scoped supervisor sees its own street only."""
    return _rows(conn, "dash_street_ranking", {"scope_street": scope_filter(user)["scope_street"]})


def matters(conn) -> list[dict]:
    """The active grid matters list."""
    return _rows(conn, "dash_matters")


def queue(conn, user: SessionUser, *, verification: bool | None, status=None, family=None, priority=None,
          overdue_only: bool = False, limit: int = 200) -> list[dict]:
    """The incident queue (or the verification queue) in the user's scope, filtered."""
    return _rows(conn, "dash_queue", {
        **scope_filter(user), "verification": verification, "status": status or None,
        "family": family or None, "priority": int(priority) if priority else None,
        "overdue_only": bool(overdue_only), "limit": limit,
    })


def incident(conn, incident_id: str) -> dict | None:
    """One incident with its first report's media."""
    try:
        return _one(conn, "dash_incident", {"id": incident_id})
    except psycopg.errors.InvalidTextRepresentation:
        conn.rollback()
        return None


def incident_events(conn, incident_id: str) -> list[dict]:
    """An incident's history, oldest first."""
    return _rows(conn, "dash_incident_events", {"id": incident_id})


def workload(conn, user: SessionUser, tz: str) -> list[dict]:
    """Open, overdue and on-time-this-week counts per grid worker in scope."""
    return _rows(conn, "dash_workload", {**scope_filter(user), "week_start": week_start(tz)})


def base_grid_at(conn, lon: float, lat: float) -> dict | None:
    """The base grid under a point, with its community and street."""
    return _one(conn, "dash_base_grid_at", {"lon": lon, "lat": lat})


def base_grids_of_community(conn, community: str) -> list[dict]:
    """The base grids of one community with geometry and sub-grid."""
    return _rows(conn, "dash_base_grids_of_community", {"community": community})


def sub_grids_of_community(conn, community: str) -> list[dict]:
    """The sub-grids of one community."""
    return _rows(conn, "dash_sub_grids_of_community", {"community": community})


def audit(conn, actor: str, action: str, target: str, reason: str | None = None, data: dict | None = None) -> None:
    """Append one row to audit_log (commits)."""
    with conn.transaction():
        conn.execute(q("dash_audit"), {"actor": actor, "action": action, "target": target, "reason": reason,
                                       "data": Jsonb(data or {})})


def alarms(conn, user: SessionUser) -> list[dict]:
    """High-priority camera alarms of the last day not yet acknowledged (the wall's query, 50 newest)."""
    return wall_repo.alarms(conn, scope_filter(user), limit=50)[0]


def first_media(conn, incident_ids: list[str]) -> dict[str, list]:
    """The media list of each incident's first report, by incident id (queue thumbnails)."""
    if not incident_ids:
        return {}
    return {r["id"]: r["media"] or [] for r in _rows(conn, "console_first_media", {"ids": list(incident_ids)})}


def grid_worker_tasks(conn, worker: str) -> list[dict]:
    """A grid worker's open tasks, by deadline."""
    return _rows(conn, "dash_worker_tasks", {"worker": worker})


def grid_worker_get(conn, worker: str) -> dict | None:
    """A grid worker's code, name, duty and last known position."""
    return _one(conn, "dash_worker_get", {"worker": worker})


def set_duty(conn, worker: str, on_duty: bool, lon: float | None, lat: float | None) -> dict | None:
    """Record a worker's duty and position (commits)."""
    return grid_workers.set_duty_position(conn, worker, on_duty=on_duty, lon=lon, lat=lat)


def inside_district(conn, lon: float, lat: float) -> bool:
    """True when the point lies in the district outline."""
    return bool(_one(conn, "dash_inside_district", {"lon": lon, "lat": lat})["inside"])


def client_event_seen(conn, event_id: str) -> bool:
    """True when a tablet action with this client event id is already in some incident's history."""
    return bool(_one(conn, "dash_event_seen", {"event_id": event_id})["seen"])


def camera_situations(conn, code: str) -> list[dict]:
    """The newest incidents raised by one camera."""
    return _rows(conn, "dash_camera_situations", {"camera": code})


def maintenance_cases(conn) -> list[dict]:
    """Open maintenance-family cases (cameras and facilities)."""
    return _rows(conn, "dash_maintenance_cases")


def set_zones(conn, code: str, zones: list) -> bool:
    """Save a camera's zone list into its config (commits)."""
    with conn.transaction():
        return _one(conn, "dash_camera_set_zones", {"code": code, "zones": Jsonb(zones)}) is not None


def set_lines(conn, code: str, lines: list) -> bool:
    """Save a camera's counting lines into its config (commits)."""
    with conn.transaction():
        return _one(conn, "dash_camera_set_lines", {"code": code, "lines": Jsonb(lines)}) is not None


def hotspot_cells(conn, user: SessionUser, lattice: str, family: str | None, window_days: int,
                  limit: int = 4000) -> list[dict]:
    """Significant Gi* cells of the latest analysis run in the user's area (family None: every family)."""
    return _rows(conn, "dash_hotspots", {**scope_filter(user), "lattice": lattice, "family": family,
                                         "window_days": window_days, "limit": limit})


def emerging_cells(conn, user: SessionUser, lattice: str, family: str | None, limit: int = 4000) -> list[dict]:
    """Emerging-hot-spot cells of the latest analysis run in the user's area (family None: every family)."""
    return _rows(conn, "dash_emerging", {**scope_filter(user), "lattice": lattice, "family": family,
                                         "limit": limit})


def grid_worker_communities(conn) -> dict[str, str | None]:
    """Every grid worker's community, to keep a supervisor's worker rows inside its area."""
    return {r["code"]: r["community_code"] for r in _rows(conn, "dash_worker_communities")}


def field_sub_grids(conn, worker: str) -> list[dict]:
    """The sub-grids a grid worker holds now (primary first) with their outline as GeoJSON text."""
    return _rows(conn, "field_worker_sub_grids", {"worker": worker})


def field_tasks(conn, worker: str) -> list[dict]:
    """A grid worker's open tasks by deadline, with their street, community and base grid names."""
    return _rows(conn, "field_worker_tasks", {"worker": worker})


def field_task_media(conn, incident_id: str) -> list[str]:
    """Every media reference of a case (its reports and history), oldest first."""
    rows = _rows(conn, "field_task_media", {"id": incident_id})
    return [r["ref"] for r in sorted(rows, key=lambda r: r["at"])]


def field_nearby_cases(conn, worker: str, matter: str, lon: float, lat: float, now: datetime) -> list[dict]:
    """Open cases of `matter` a report at lon/lat might merge into, among those the worker may see
    (a superset: grid.merging decides)."""
    return _rows(conn, "field_nearby_cases", {"worker": worker, "matter": matter, "lon": lon, "lat": lat,
                                              "now": now})
