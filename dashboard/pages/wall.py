"""/wall: the command center's display. Read from metres away, never clicked; live by push."""

from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import Input, Output, dcc, html

from dashboard import access, analysis_view, basemap, context, data
from dashboard.components import fmt_time, make_kpi, matter_name
from dashboard.i18n import label, t
from dashboard.maps import feature_collection, fn, make_map, points

dash.register_page(__name__, path="/wall", title="Wall", name="wall")
PAGE = "wall"
ANALYSIS_REFRESH_MS = 180_000  # results change every few minutes; the live message is the fast path


def _sub_grid_shapes(user):
    disp = context.display()

    def make():
        with context.pool().connection() as conn:
            rows = data.sub_grids(conn, user)
        return feature_collection(rows, "geojson", disp, lambda r: {"code": r["code"], "name": r["name"],
                                                                    "workers": r["workers"] or ""})
    return context.cache().get(("sub_grids", user.scope_code), make)


@context.page_layout(PAGE)
def layout(user, lang, **_query):
    """The wall: KPIs left, map centre, ticker and street ranking right, status line on top."""
    cfg = context.cfg()
    ground, lines = basemap.ground(), basemap.lines()
    layers = [
        dl.GeoJSON(id="wall-ground", data=ground, style=fn("outlineStyle"), interactive=False),
        dl.GeoJSON(id="wall-subgrids", data=None, style=fn("subGridStyle"), interactive=False),
        # A pane of its own: GeoJSON layers are re-added on every data change, so plain layer order would
        # let the sub-grid shading, refreshed more often, end up over the hot spots.
        dl.Pane([dl.GeoJSON(id="wall-hotspots", data=None, style=fn("hotspotStyle"), interactive=False),
                 dl.GeoJSON(id="wall-emerging", data=None, style=fn("emergingStyle"), interactive=False)],
                name="wall-analysis-pane", style={"zIndex": 450}),
        dl.GeoJSON(id="wall-outlines", data=lines, style=fn("outlineStyle"), interactive=False),
        dl.GeoJSON(id="wall-workers", data=None, pointToLayer=fn("workerPoint"), interactive=False),
        dl.GeoJSON(id="wall-cameras", data=None, pointToLayer=fn("cameraPoint"), interactive=False),
        dl.GeoJSON(id="wall-clusters", data=None, pointToLayer=fn("clusterPoint"), interactive=False),
        dl.GeoJSON(id="wall-live", data=None, pointToLayer=fn("livePoint"), interactive=False),
    ]
    kpis = ["today", "open", "overdue", "on_time", "cameras_online"]
    return html.Div([
        dcc.Store(id="wall-sync", data=0),
        dcc.Store(id="wall-alarms", data=[]),
        dcc.Store(id="wall-alarm-count", data=0),
        dcc.Interval(id="wall-interval", interval=30_000),
        dcc.Interval(id="wall-alarm-interval", interval=5_000),
        # Set by assets/gridwatch-live.js on an `analysis` or `early_warning` message; the interval covers a lost feed.
        dcc.Store(id="wall-analysis-sync", data=0),
        dcc.Interval(id="wall-analysis-interval", interval=ANALYSIS_REFRESH_MS),
        html.Div([
            html.Div(t("app.title", lang), className="gw-wall-title"),
            html.Div(id="wall-clock", className="gw-wall-clock"),
            html.Div(t("wall.live_ok", lang), id="wall-status", className="gw-wall-status"),
            html.Button(t("wall.sound_on", lang), id="wall-sound", className="gw-wall-sound", hidden=True),
        ], className="gw-wall-head"),
        html.Div(id="wall-alarm", className="gw-wall-alarm", hidden=True),
        html.Aside([make_kpi(PAGE, k, "—", lang) for k in kpis], id="wall-kpis", className="gw-wall-left"),
        html.Section([
            make_map(PAGE, cfg, layers=layers, zoomControl=False, dragging=False,
                     scrollWheelZoom=False, doubleClickZoom=False, keyboard=False, zoomSnap=0.1,
                     bounds=basemap.district_bounds(), boundsOptions={"padding": [12, 12]}),
            html.Div([html.Div(id="wall-analysis-title", className="gw-analysis-title"),
                      html.Div(id="wall-legend")], className="gw-wall-legend", id="wall-analysis"),
        ], className="gw-wall-map"),
        html.Aside([
            html.H2(t("wall.ticker", lang)),
            html.Ul(id="wall-ticker", className="gw-ticker"),
            html.H2(t("wall.ranking", lang)),
            html.Ol(id="wall-ranking", className="gw-ranking"),
            html.H2(t("analysis.warnings", lang)),
            html.Div(id="wall-warnings", className="gw-wall-warnings"),
            html.H2(t("analysis.redblack", lang)),
            html.Div(id="wall-redblack", className="gw-wall-redblack"),
        ], className="gw-wall-right"),
    ], id="wall-root", className="gw-wall")


def _kpi_values(k: dict) -> list:
    rate = "—" if k["on_time_rate"] is None else f"{k['on_time_rate'] * 100:.1f}%"
    return [f"{k['today']:,}", f"{k['open']:,}", f"{k['overdue']:,}", rate,
            f"{k['cameras_online']}/{k['cameras']}"]


@dash.callback(
    Output("wall-kpi-today-value", "children"), Output("wall-kpi-open-value", "children"),
    Output("wall-kpi-overdue-value", "children"), Output("wall-kpi-on_time-value", "children"),
    Output("wall-kpi-cameras_online-value", "children"),
    Output("wall-ticker", "children"), Output("wall-ranking", "children"),
    Output("wall-subgrids", "data"), Output("wall-clusters", "data"), Output("wall-cameras", "data"),
    Output("wall-workers", "data"), Output("wall-alarms", "data"),
    Input("wall-sync", "data"), Input("wall-interval", "n_intervals"),
)
@access.guard(PAGE)
def wall_refresh(_sync, _tick):
    """Recompute everything the wall shows from the database (on load, resync, and every 30 s)."""
    user = context.user()
    lang = context.lang()
    cfg, disp = context.cfg(), context.display()
    shapes = _sub_grid_shapes(user)
    with context.pool().connection() as conn:
        k = data.kpis(conn, user, cfg.timezone)
        latest = data.latest(conn, user)
        ranking = data.street_ranking(conn, user)
        counts = data.open_by_sub_grid(conn)
        clusters = data.incident_clusters(conn, user)
        cams = data.cameras(conn)
        workers = data.grid_worker_positions(conn, user)
        alarms = data.alarms(conn, user)
    subgrids = {"type": "FeatureCollection", "features": [
        {**f, "properties": {**f["properties"], "open": counts.get(f["properties"]["code"], {}).get("open", 0)}}
        for f in shapes["features"]]}
    ticker = [html.Li([html.Span(fmt_time(r["created_at"], cfg.timezone), className="gw-ticker-time"),
                       html.Span(matter_name(r, lang), className=f"gw-family-{r['family']}"),
                       html.Span((r["community_en"] if lang == "en" else r["community"]) or ""),
                       html.Span(label("status", r["status"], lang), className=f"gw-badge gw-status-{r['status']}")])
              for r in latest] or [html.Li(t("wall.no_incidents", lang))]
    top = max([r["open"] for r in ranking] + [1])
    rank = [html.Li([html.Span((r["name_en"] if lang == "en" else r["name"]) or r["code"]),
                     html.Span(html.I(style={"width": f"{100 * r['open'] / top:.0f}%"}), className="gw-bar"),
                     html.Span(f"{r['open']}", className="gw-rank-n"),
                     html.Span(f"{r['overdue']}", className="gw-rank-overdue")]) for r in ranking]
    cluster_fc = points(clusters, disp, lambda r: {"n": r["n"], "priority": r["priority"], "family": r["family"],
                                                   "status": r["status"], "overdue": r["overdue"],
                                                   "id": r["id"] if r["n"] == 1 else None})
    cam_fc = points(cams, disp, lambda r: {"code": r["code"], "health": r["health"]})
    worker_fc = points(workers, disp, lambda r: {"code": r["code"], "name": r["name"], "on_duty": r["on_duty"]})
    alarm_list = [{"id": a["id"], "text": f"{matter_name(a, lang)} {a['camera_code'] or ''}"} for a in alarms]
    return (*_kpi_values(k), ticker, rank, subgrids, cluster_fc, cam_fc, worker_fc, alarm_list)


@dash.callback(
    Output("wall-alarms", "data", allow_duplicate=True),
    Input("wall-alarm-interval", "n_intervals"),
    prevent_initial_call=True,
)
@access.guard(PAGE)
def wall_alarms(_tick):
    """Unacknowledged alarms, polled often so an acknowledgement on the console silences the wall."""
    user, lang = context.user(), context.lang()
    with context.pool().connection() as conn:
        alarms = data.alarms(conn, user)
    return [{"id": a["id"], "text": f"{matter_name(a, lang)} {a['camera_code'] or ''}"} for a in alarms]


@dash.callback(
    Output("wall-hotspots", "data"), Output("wall-emerging", "data"), Output("wall-legend", "children"),
    Output("wall-analysis-title", "children"), Output("wall-warnings", "children"),
    Output("wall-redblack", "children"),
    Input("wall-analysis-sync", "data"), Input("wall-analysis-interval", "n_intervals"),
)
@access.guard(PAGE)
def wall_analysis(_sync, _tick):
    """Hot spots of every family (30 days), emerging classes, open warnings and the red/black lists."""
    user, lang = context.user(), context.lang()
    tz, disp = context.cfg().timezone, context.display()
    with context.pool().connection() as conn:
        hot, classes = analysis_view.hotspot_layer(conn, user, disp)
        emerging, patterns = analysis_view.emerging_layer(conn, user, disp)
        warnings = analysis_view.open_warnings(conn, user, limit=6)
        ranks = {lvl: analysis_view.red_black(conn, user, lvl) for lvl in ("street", "community")}
        when = analysis_view.computed_label(conn, lang, tz)
    title = [html.Div(t("analysis.hotspots", lang, days=analysis_view.WINDOW_DAYS,
                        family=t("analysis.all_families", lang))), html.Div(when, className="gw-muted")]
    return (hot, emerging, analysis_view.make_legend(PAGE, classes, patterns, lang), title,
            analysis_view.make_warning_list(PAGE, warnings, lang, tz, actions=False),
            analysis_view.make_red_black(PAGE, ranks, lang))


dash.clientside_callback(
    dash.ClientsideFunction(namespace="gridwatch", function_name="wallAlarms"),
    Output("wall-alarm-count", "data"),
    Input("wall-alarms", "data"),
)
