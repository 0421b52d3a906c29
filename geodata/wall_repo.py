"""What the wall's charts and alarm strip read, and the alarm acknowledgement the console writes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from geodata import analysis_repo, reports_repo
from geodata.queries import q
from grid.camera_availability import availability_rates
from grid.period import Period


def _rows(conn: psycopg.Connection, name: str, params: dict) -> list[dict]:
    return conn.cursor(row_factory=dict_row).execute(q(name), params).fetchall()


def hourly(conn: psycopg.Connection, scope: dict, day_start: datetime) -> list[dict]:
    """Per family and CST hour: incidents today, and the mean of that hour over the 7 days before."""
    return _rows(conn, "wall_hourly", {**scope, "day_start": day_start})


def on_time_daily(conn: psycopg.Connection, scope: dict, since: datetime) -> list[dict]:
    """Per CST day since `since`: cases closed and closed on time."""
    return _rows(conn, "wall_on_time_daily", {**scope, "since": since})


def street_availability(conn: psycopg.Connection, day_start: datetime, days: int = 7) -> list[dict]:
    """Camera availability per street over the last `days` CST days up to now: code, name, rate, cameras."""
    end = pd.Timestamp(day_start) + pd.Timedelta(days=1)
    period = Period(end - pd.Timedelta(days=days), end)
    cams = reports_repo.camera_availability(conn, period)
    if cams.empty:
        return []
    rates = availability_rates(cams, ["street_code"])
    names = analysis_repo.area_names(conn)
    return [{"code": r.street_code, "name": names.get(("street", r.street_code), r.street_code),
             "rate": None if pd.isna(r.available_rate) else float(r.available_rate), "cameras": int(r.cameras)}
            for r in rates.itertuples() if r.street_code]


def alarms(conn: psycopg.Connection, scope: dict, limit: int = 20) -> tuple[list[dict], int]:
    """The newest `limit` unacknowledged high-priority camera alarms in scope, and how many there are."""
    rows = _rows(conn, "wall_alarms", {**scope, "limit": limit})
    return rows, int(rows[0]["total"]) if rows else 0


def acknowledge_alarms(conn: psycopg.Connection, incident_ids: list[str], actor: str, role: str) -> list[str]:
    """Acknowledge alarms (commits): one `alarm_ack` audit row per id not yet acknowledged; returns those ids.

    The wall stops showing and sounding them at its next poll (a few seconds).
    """
    with conn.transaction():
        conn.execute(q("wall_ack_lock"))
        rows = _rows(conn, "wall_ack_alarms", {"ids": [str(i) for i in incident_ids], "actor": actor,
                                               "data": Jsonb({"role": role})})
    return [r["target"] for r in rows]


def since_days(day_start: datetime, days: int) -> datetime:
    """Midnight `days - 1` days before the day starting at `day_start` (a window of `days` whole days)."""
    return day_start - timedelta(days=days - 1)


def clusters(conn: psycopg.Connection, scope: dict, cell: float, limit: int) -> list[dict]:
    """Open incidents per cell of `cell` degrees, biggest first: n, priority, family, lon, lat, id, overdue."""
    return _rows(conn, "wall_clusters", {**scope, "cell": cell, "limit": limit})
