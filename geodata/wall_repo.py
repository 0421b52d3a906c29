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


def kpis_closed(conn: psycopg.Connection, scope: dict, day_start: datetime) -> dict:
    """Cases created today, cases closed (and on time) over 30 days, cameras (online) in all."""
    return _rows(conn, "wall_kpis_closed", {**scope, "day_start": day_start})[0]


def streets(conn: psycopg.Connection, scope: dict) -> list[dict]:
    """The streets of the area: code, name, name_en."""
    return _rows(conn, "wall_streets", scope)


def open_count(conn: psycopg.Connection, scope: dict) -> int:
    """How many cases of the area are open."""
    return int(_rows(conn, "wall_open_count", scope)[0]["n"])


def open_rollup(conn: psycopg.Connection, scope: dict, cell: float) -> dict:
    """Open cases of the area counted in one pass: `open` and `overdue` in all, `sub_grids` {code: open},
    `streets` {code: (open, overdue)}, and `cells`, one row per cell of `cell` degrees and family
    (cx, cy, family, n, overdue, priority, sx, sy: the sums of the cases' coordinates)."""
    out: dict = {"open": 0, "overdue": 0, "sub_grids": {}, "streets": {}, "cells": []}
    for r in _rows(conn, "wall_open_rollup", {**scope, "cell": cell}):
        if r["kind"] == "all":
            out["open"], out["overdue"] = int(r["n"]), int(r["overdue"])
        elif r["kind"] == "sub_grid" and r["sub_grid_code"] is not None:
            out["sub_grids"][r["sub_grid_code"]] = int(r["n"])
        elif r["kind"] == "street" and r["street_code"] is not None:
            out["streets"][r["street_code"]] = (int(r["n"]), int(r["overdue"]))
        elif r["kind"] == "cell" and r["cx"] is not None:  # a case without a position has no cell
            out["cells"].append(r)
    return out


def merge_cells(cells: list[dict], factor: int, limit: int) -> list[dict]:
    """Clusters of `factor` x `factor` cells of open_rollup, biggest first, at most `limit`: n, priority,
    family (the commonest; ties: the first by name), lon and lat (the cases' mean), overdue."""
    merged: dict[tuple[int, int], dict] = {}
    for c in cells:
        key = (c["cx"] // factor, c["cy"] // factor)
        m = merged.setdefault(key, {"n": 0, "priority": None, "overdue": 0, "sx": 0.0, "sy": 0.0, "families": {}})
        n = int(c["n"])
        m["n"] += n
        m["overdue"] += int(c["overdue"])
        m["priority"] = c["priority"] if m["priority"] is None else min(m["priority"], c["priority"])
        m["sx"] += c["sx"]
        m["sy"] += c["sy"]
        m["families"][c["family"]] = m["families"].get(c["family"], 0) + n
    out = []
    for key, m in sorted(merged.items(), key=lambda kv: (-kv[1]["n"], kv[0]))[:limit]:
        family = min(m["families"], key=lambda f: (-m["families"][f], f))
        # rounded to 0.1 m: the wall compares snapshots by digest to send only what changed, and a
        # float sum's last bits follow the order the rows came in
        out.append({"n": m["n"], "priority": m["priority"], "family": family, "overdue": m["overdue"],
                    "lon": round(m["sx"] / m["n"], 6), "lat": round(m["sy"] / m["n"], 6)})
    return out
