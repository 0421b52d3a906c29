"""/reports: indicators per street, community, sub-grid or worker for a period, the red/black lists, camera
availability per day (from the health history), CSV, print; beside the tables the period's charts per street
(charts.py, the same figures the printed report draws)."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import dash
from dash import Input, Output, dcc, html

from dashboard import access, context
from dashboard.pages.reports import charts as reports_charts
from dashboard.pages.reports import data as reports_data
from dashboard.components import make_table
from dashboard.i18n import t
from geodata import reports_repo

dash.register_page(__name__, path="/reports", title="Reports", name="reports")
PAGE = "reports"
CHARTS = ("cases", "on_time", "cameras")
logger = logging.getLogger(__name__)


@context.page_layout(PAGE)
def layout(user, lang, **_query):
    """Period (default last week, CST) and level on top; the tables on the left, the charts beside them."""
    first, last = reports_data.last_week(context.cfg().timezone)
    return html.Div([
        html.H2(t("reports.title", lang)),
        html.Div([
            html.Label([t("reports.from", lang), " ", _date_picker("reports-from", first)]),
            html.Label([t("reports.to", lang), " ", _date_picker("reports-to", last)]),
            dcc.Dropdown(id="reports-level", value="street", clearable=False,
                         options=[{"label": t(f"reports.level.{v}", lang), "value": v}
                                  for v in reports_data.LEVELS]),
            html.A(t("reports.csv", lang), id="reports-csv", className="gw-btn", href=""),
            html.A(t("reports.print", lang), id="reports-print", className="gw-btn", href="", target="_blank"),
        ], className="gw-filters"),
        html.Div(id="reports-period", className="gw-msg"),
        html.Div([
            html.Div([
                html.Div(id="reports-table", className="gw-panel"),
                html.H2(t("analysis.redblack", lang)),
                html.Div(id="reports-ranking", className="gw-panel"),
                html.H2(t("reports.cameras", lang)),
                html.P(t("reports.cameras_note", lang), className="gw-msg"),
                html.Div(id="reports-cameras", className="gw-panel"),
            ], className="gw-reports-tables"),
            html.Div([dcc.Graph(id=f"reports-chart-{key}", className="gw-panel gw-reports-chart",
                                config={"displayModeBar": False, "responsive": True}) for key in CHARTS],
                     id="reports-charts", className="gw-reports-charts"),
        ], className="gw-reports-body"),
    ], id="reports-root", className="gw-reports")


def _date_picker(id_: str, day: str) -> dcc.DatePickerSingle:
    # The browser's own date input follows the machine's locale ("11/23/2026", cut to "11/23/2" when narrow);
    # the picker shows ISO days whatever the locale, as the CSV and the printed report name them.
    return dcc.DatePickerSingle(id=id_, date=day, display_format="YYYY-MM-DD", first_day_of_week=1,
                                className="gw-reports-date")


def _cell(v, col: str):
    if v is None or v != v:  # None or NaN: no case to measure
        return "—"
    if col.endswith("_rate") or col == "known_share":
        return f"{100 * float(v):.1f}%"
    if isinstance(v, float):
        return f"{v:,.1f}"
    return v


@dash.callback(
    Output("reports-table", "children"), Output("reports-ranking", "children"), Output("reports-cameras", "children"),
    Output("reports-period", "children"), Output("reports-csv", "href"), Output("reports-print", "href"),
    *(Output(f"reports-chart-{key}", "figure") for key in CHARTS),
    Input("reports-from", "date"), Input("reports-to", "date"), Input("reports-level", "value"),
)
@access.guard(PAGE)
def reports_refresh(first, last, level):
    """Indicators, the red/black lists and camera availability per day of the chosen period, in the user's area."""
    user, lang = context.user(), context.lang()
    level = level if level in reports_data.LEVELS else "street"
    try:
        p = reports_data.period(first, last)
    except ValueError as exc:
        return ("", "", "", t("reports.bad_period", lang, why=exc), "", "", *(reports_charts.empty_figure() for _ in CHARTS))
    with context.pool().connection() as conn:
        # One load of the period's cases and camera time serves the tables and the charts.
        incidents = reports_repo.period_incidents(conn, p)
        cams = reports_repo.camera_availability(conn, p)
        table = reports_data.indicators(conn, user, p, level, incidents, cams)
        streets = table if level == "street" else reports_data.indicators(conn, user, p, "street", incidents, cams)
        days = reports_data.camera_days(cams, user)
    figures = [reports_charts.figure(c, t("reports.empty", lang))
               for c in reports_charts.report_charts(incidents, streets, lambda key: t(key, lang))]
    rank = reports_data.ranking(table, level)
    cols = reports_data.columns(table)
    body = (make_table(PAGE, "indicators", [t(f"col.{c}", lang) for c in cols],
                       [[_cell(r[c], c) for c in cols] for r in table.to_dict("records")])
            if len(table) else t("reports.empty", lang))
    rcols = reports_data.RANK_COLUMNS
    ranking = (make_table(PAGE, "ranking", [t(f"col.{c}", lang) for c in rcols],
                          [[t(f"analysis.{r[c]}", lang) if c == "list" else _cell(r[c], c) for c in rcols]
                           for r in rank.to_dict("records")])
               if len(rank) else t("reports.empty", lang))
    dcols = reports_data.DAY_COLUMNS
    cameras = (make_table(PAGE, "cameras", [t(f"col.{c}", lang) for c in dcols],
                          [[_cell(r[c], c) for c in dcols] for r in days.to_dict("records")])
               if days["cameras"].any() else t("reports.empty", lang))
    query = urlencode({"from": first, "to": last, "level": level})
    return (body, ranking, cameras, t("reports.period", lang, label=p.label()), f"/reports/csv?{query}",
            f"/reports/print?{query}", *figures)
