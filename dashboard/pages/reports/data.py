"""Period indicators, red/black lists, CSV and the printable report for /reports, kept to the user's area."""

from __future__ import annotations

import html
import io
import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard import data
from dashboard.access import SessionUser
from dashboard.analysis_view import code_in_scope
from dashboard.i18n import t
from geodata import analysis_repo
from grid.indicators import red_black_ranking
from workers import analysis_report
from workers.analysis_report import (AVAILABILITY_COLUMNS, CAMERA_COLUMNS, Period, availability_rates, map_svg,
                                     period_indicators, render_report, table_html)

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

    `incidents` / `cameras` (analysis_report.period_incidents / camera_availability) are loaded when not given;
    a caller showing several tables of one period loads them once.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    table = period_indicators(conn, p, level, incidents, cameras)
    if user.district_wide or table.empty:
        return table.reset_index(drop=True)
    if level == "worker":
        where = data.worker_communities(conn)
        keep = [code_in_scope(user, where.get(c)) for c in table["code"]]
    else:
        keep = [code_in_scope(user, c) for c in table["code"]]
    return table[keep].reset_index(drop=True)


def columns(table: pd.DataFrame) -> list[str]:
    """The indicator columns to show: COLUMNS, plus camera availability for area levels (not workers)."""
    return [*COLUMNS, *(c for c in CAMERA_COLUMNS if c in table.columns)]


def camera_days(cams: pd.DataFrame, user: SessionUser) -> pd.DataFrame:
    """Camera availability per CST day (from an analysis_report.camera_availability frame), in the user's area."""
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


_CSS = """@page { size: A4 portrait; margin: 14mm 12mm; }
body { font-family: "Noto Sans CJK SC", sans-serif; font-size: 9.5pt; color: #000; }
h1 { font-size: 15pt; } h2 { font-size: 12pt; margin-top: 6mm; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; page-break-inside: auto; }
th, td { border: 0.2mm solid #999; padding: 0.8mm 1.2mm; text-align: right; }
th:nth-child(-n+2), td:nth-child(-n+2) { text-align: left; } caption { text-align: left; font-weight: bold; }
tr { page-break-inside: avoid; } .map svg { width: 170mm; height: auto; }"""


def print_html(conn, user: SessionUser, p: Period) -> str:
    """The printable period report: the district report for district-wide users, else one of the user's area."""
    if user.district_wide:
        return render_report(conn, p)
    parts = [f"<h1>{html.escape(user.scope_code)} 期间报告 (period report)</h1>",
             f"<p>期间 (period): {html.escape(p.label())} (CST)</p>"]
    incidents = analysis_report.period_incidents(conn, p)
    cams = analysis_report.camera_availability(conn, p)
    comm = indicators(conn, user, p, "community", incidents, cams)
    geometry = analysis_repo.load_geometry(conn).communities
    shapes = geometry[[code_in_scope(user, c) for c in geometry["code"]]]
    if len(shapes):
        values = comm.set_index("code")["on_time_rate"] * 100
        parts.append("<div class='map'>" + map_svg(shapes, values, "按时结案率 % (on-time rate)",
                                                   fmt=lambda v: f"{v:.1f} %", low_is_bad=True) + "</div>")
    for level in LEVELS:
        table = comm if level == "community" else indicators(conn, user, p, level, incidents, cams)
        parts.append(table_html(table, columns(table), t(f"reports.level.{level}", "zh")))
        parts.append(table_html(ranking(table, level), list(RANK_COLUMNS), "红黑榜 (red/black)"))
    parts.append(table_html(camera_days(cams, user), list(DAY_COLUMNS), t("reports.cameras", "zh")))
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>期间报告 {html.escape(p.label())}"
            f"</title><style>{_CSS}</style></head><body>{''.join(parts)}</body></html>")
