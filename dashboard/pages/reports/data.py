"""Period indicators, red/black lists and CSV for /reports, kept to the user's area."""

from __future__ import annotations

import io
import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard import data
from dashboard.access import SessionUser
from dashboard.analysis_view import code_in_scope
from dashboard.i18n import t
from geodata.reports_repo import CAMERA_COLUMNS, period_indicators
from grid.camera_availability import AVAILABILITY_COLUMNS, availability_rates
from grid.indicators import red_black_ranking
from grid.period import Period

logger = logging.getLogger(__name__)

LEVELS = ("street", "community", "sub_grid", "worker")
COLUMNS = ("code", "name", "incidents", "closed", "due", "on_time_rate", "mean_dispatch_min", "mean_accept_min",
           "mean_resolve_min", "returned", "escalated")
RANK_COLUMNS = ("list", "rank", "code", "name", "on_time_rate", "due", "incidents")
#: The per-day camera availability table of the page.
DAY_COLUMNS = ("day", *AVAILABILITY_COLUMNS)
MAX_DAYS = 400  # a year and a bit: longer periods are a batch job, not a page


def last_week(tz: str, today: date | None = None) -> tuple[str, str]:
    """Monday and Sunday of last week in the reporting time zone, as YYYY-MM-DD."""
    today = today or datetime.now(ZoneInfo(tz)).date()
    monday = today - timedelta(days=today.weekday() + 7)
    return monday.isoformat(), (monday + timedelta(days=6)).isoformat()


def period(first: str | None, last: str | None) -> Period:
    """The CST days first..last inclusive; ValueError for a bad, reversed or too long period."""
    p = Period.from_days(str(first or ""), str(last or ""))
    if (p.end - p.start).days > MAX_DAYS:
        raise ValueError(f"at most {MAX_DAYS} days")
    return p


def indicators(conn, user: SessionUser, p: Period, level: str, incidents: pd.DataFrame | None = None,
               cameras: pd.DataFrame | None = None) -> pd.DataFrame:
    """Indicators per group of `level` for the period, only the groups inside the user's area.

    `incidents` / `cameras` (reports_repo.period_incidents / camera_availability) are loaded when not given;
    a caller showing several tables of one period loads them once.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    table = period_indicators(conn, p, level, incidents, cameras)
    if user.district_wide or table.empty:
        return table.reset_index(drop=True)
    if level == "worker":
        where = data.grid_worker_communities(conn)
        keep = [code_in_scope(user, where.get(c)) for c in table["code"]]
    else:
        keep = [code_in_scope(user, c) for c in table["code"]]
    return table[keep].reset_index(drop=True)


def columns(table: pd.DataFrame) -> list[str]:
    """The indicator columns to show: COLUMNS, plus camera availability for area levels (not workers)."""
    return [*COLUMNS, *(c for c in CAMERA_COLUMNS if c in table.columns)]


def camera_days(cams: pd.DataFrame, user: SessionUser) -> pd.DataFrame:
    """Camera availability per CST day (from a reports_repo.camera_availability frame), in the user's area."""
    if not user.district_wide:
        cams = cams[cams["community_code"].map(lambda c: code_in_scope(user, c)).astype(bool)]
    days = availability_rates(cams, ["day"]).loc[:, list(DAY_COLUMNS)]
    return days.assign(day=days["day"].astype(str))


def ranking(table: pd.DataFrame, level: str, n: int = 5) -> pd.DataFrame:
    """Red (best) and black (worst) lists by on-time rate among the table's groups, with names."""
    if table.empty:
        return pd.DataFrame(columns=list(RANK_COLUMNS))
    # Streets are few and large: every street with a case due takes part, as in the period report.
    rank = red_black_ranking(table, "code", n=n, min_due=1 if level == "street" else 10)
    return rank.merge(table[["code", "name"]], on="code", how="left").loc[:, list(RANK_COLUMNS)]


def csv_bytes(table: pd.DataFrame, rank: pd.DataFrame, lang: str) -> bytes:
    """Indicators then the ranking as CSV, UTF-8 with a BOM so spreadsheet programs read Chinese names."""
    buf = io.StringIO()
    table.loc[:, columns(table)].rename(columns=lambda c: t(f"col.{c}", lang)).to_csv(buf, index=False)
    buf.write("\n")
    out = rank.assign(list=[t(f"analysis.{v}", lang) for v in rank["list"]])
    out.rename(columns=lambda c: t(f"col.{c}", lang)).to_csv(buf, index=False)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
