"""Indicators and camera availability for any period of CST days, read from PostGIS into pandas.

What the /reports page, its CSV and the printed period report show; the analysis worker's own loads
and writes stay in `analysis_repo`, whose queries these reuse.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import psycopg

from geodata import analysis_repo
from grid.camera_availability import availability_rates
from grid.indicators import LEVEL_KEYS, indicators
from grid.period import Period
from grid.trends import CST

#: What period_indicators adds for area levels: cameras with diagnosed time, and their availability.
CAMERA_COLUMNS = ("cameras", "camera_online_rate", "camera_available_rate")


def period_incidents(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """The incidents created in the period, cancelled ones left out (what the indicators count)."""
    df = analysis_repo.load_incidents(conn, period.start.to_pydatetime(), period.end.to_pydatetime())
    return df[df["status"] != "cancelled"]


def camera_availability(conn: psycopg.Connection, period: Period, as_of: datetime | None = None) -> pd.DataFrame:
    """Seconds per camera and CST day of the period by health (`analysis_repo.camera_availability`)."""
    now = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.now(tz=CST)
    return analysis_repo.camera_availability(conn, period.start.to_pydatetime(), period.end.to_pydatetime(),
                                             now.to_pydatetime())


def period_indicators(conn: psycopg.Connection, period: Period, level: str,
                      incidents: pd.DataFrame | None = None, cameras: pd.DataFrame | None = None) -> pd.DataFrame:
    """Indicators per group of ``level`` for incidents created in the period, with names.

    Areas (street, community, sub-grid) also get their cameras' availability over the period
    (CAMERA_COLUMNS; ``cameras`` is a `camera_availability` frame, loaded when not given).
    """
    if level not in LEVEL_KEYS:
        raise ValueError(f"level must be one of {sorted(LEVEL_KEYS)}")
    df = incidents if incidents is not None else period_incidents(conn, period)
    key = LEVEL_KEYS[level]
    table = indicators(df, key, start=period.start, end=period.end, as_of=min(period.end, pd.Timestamp.now(tz=CST)))
    names = analysis_repo.area_names(conn)
    table = table.rename(columns={key: "code"})
    table.insert(1, "name", [names.get((level, c), "") for c in table["code"]])
    if level == "worker":
        return table
    cams = cameras if cameras is not None else camera_availability(conn, period)
    rates = availability_rates(cams, [key]).rename(columns={
        key: "code", "online_rate": "camera_online_rate", "available_rate": "camera_available_rate"})
    table = table.merge(rates.loc[:, ["code", *CAMERA_COLUMNS]], on="code", how="left")
    table["cameras"] = table["cameras"].fillna(0).astype(int)
    return table
