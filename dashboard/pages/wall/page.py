"""/wall: the command center's display. Read from metres away, never clicked, never scrolled; live by push.

One screen at 1920x1080 or 3840x2160: KPIs and two charts left, the alarm strip above the map (never
over it), the map with its layers taking turns, camera availability and the lists right. Lists show
what fits and "+N" for the rest (assets/wall.js trims them after each render).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import dash
import dash_leaflet as dl
from dash import Input, Output, State, dcc, html

from dashboard import access, analysis_view, basemap, context, data
from dashboard.access import scope_filter
from dashboard.components import fmt_time, make_kpi, matter_name
from dashboard.i18n import label, t
from dashboard.maps import feature_collection, fn, make_map, points
from dashboard.pages.wall import charts, layers, shared, snapshot
from geodata import wall_repo

dash.register_page(__name__, path="/wall", title="Wall", name="wall")
PAGE = "wall"
ANALYSIS_REFRESH_MS = 180_000  # results change every few minutes; the live message is the fast path
CHART_REFRESH_MS = 120_000     # hourly figures and 30-day rates: a couple of minutes is fresh enough
CHART_ROWS_TTL_S = 60.0        # and one read of their rows a minute serves every wall of an area
# The rows are shared by the dashboard's processes (pages/wall/shared.py) and kept fresh in the
# background while walls ask for them, so no chart refresh waits for the queries (some hundred ms
# in a storm); shown up to CHART_ROWS_STALE_S old while the next read runs.
CHART_ROWS_STALE_S = 180.0
CHART_ROWS_KEEP_WARM_S = 300.0  # longer than CHART_REFRESH_MS: still warm at each wall's next refresh
GRAPH_CONFIG = {"staticPlot": True, "displayModeBar": False, "responsive": True}


def _sub_grid_shapes(user) -> tuple[dict, str]:
    """The sub-grids of the user's area as GeoJSON, and its digest (shapes change when base grids move)."""
    disp = context.display()

    def make():
        with context.pool().connection() as conn:
            rows = data.sub_grids(conn, user)
        fc = feature_collection(rows, "geojson", disp, lambda r: {"code": r["code"], "name": r["name"],
                                                                  "workers": r["workers"] or ""})
        return fc, snapshot.digest(fc)
    return context.cache().get(("sub_grids", user.scope_code), make)


def _more(key: str) -> html.Span:
    return html.Span(id=f"wall-{key}-more", className="gw-more", hidden=True)


def _panel(key: str, title: str, body, cls: str = "") -> html.Section:
    return html.Section([html.H2([html.Span(title, className="gw-wall-h"), _more(key)]), body],
                        className=f"gw-wall-panel {cls}".strip(), id=f"wall-{key}-panel")


def _graph(key: str) -> dcc.Graph:
    return dcc.Graph(id=f"wall-chart-{key}", config=GRAPH_CONFIG, className="gw-wall-graph",
                     style={"width": "100%", "height": "100%"})


@context.page_layout(PAGE)
def layout(user, lang, layer=None, **_query):
    """The wall; `?layer=cameras` (one of layers.TURNS) holds one layer instead of taking turns."""
    cfg = context.cfg()
    ground, lines = basemap.ground(), basemap.lines()
    held = layer if layer in layers.TURNS else ""
    # The shapes come with the page, once: each refresh sends only the open count per sub-grid (the
    # layer's hideout, read by the style), not a megabyte of polygons every second of a storm.
    shapes, _ = _sub_grid_shapes(user)
    # The first paint comes with the page (no round trip for a callback before the figures show); the
    # refresh callback then sends only what changed since (wall-sent).
    view, sent = _view(user, lang, {})
    panes = [
        dl.Pane([dl.GeoJSON(id="wall-subgrids", data=shapes, hideout=view["counts"], interactive=False,
                            style={"variable": "gridwatch.wall.subGridStyle"})],
                name="wall-subgrid-pane", style={"zIndex": 350}),
        # GeoJSON layers are re-added on every data change, so plain layer order would let the sub-grid
        # shading, refreshed more often, end up over the hot spots: each turn has a pane of its own.
        dl.Pane([dl.GeoJSON(id="wall-hotspots", data=None, style=fn("hotspotStyle"), interactive=False),
                 dl.GeoJSON(id="wall-emerging", data=None, style=fn("emergingStyle"), interactive=False)],
                name="wall-analysis-pane", style={"zIndex": 450}),
        dl.GeoJSON(id="wall-outlines", data=lines, style=fn("outlineStyle"), interactive=False),
        dl.Pane([dl.GeoJSON(id="wall-cameras", data=view["cameras"], interactive=False,
                            pointToLayer={"variable": "gridwatch.wall.cameraPoint"})],
                name="wall-cameras-pane", style={"zIndex": 600}),
        dl.Pane([dl.GeoJSON(id="wall-workers", data=view["workers"], interactive=False,
                            pointToLayer={"variable": "gridwatch.wall.workerPoint"})],
                name="wall-workers-pane", style={"zIndex": 610}),
        dl.Pane([dl.GeoJSON(id="wall-clusters", data=view["clusters"], interactive=False,
                            pointToLayer={"variable": "gridwatch.wall.clusterPoint"})],
                name="wall-clusters-pane", style={"zIndex": 620}),
        dl.Pane([dl.GeoJSON(id="wall-live", data=None, pointToLayer={"variable": "gridwatch.wall.livePoint"},
                            interactive=False)], name="wall-live-pane", style={"zIndex": 650}),
    ]
    map_layers = [dl.GeoJSON(id="wall-ground", data=ground, style=fn("outlineStyle"), interactive=False), *panes]
    kpis = ["today", "open", "overdue", "on_time", "cameras_online"]
    names = {k: t(f"wall.layer.{k}", lang) for k in layers.TURNS}
    legends = html.Div([
        html.Div([html.Div(names["live"], className="gw-legend-title"),
                  html.Div(layers.live_legend(lang), className="gw-legend")],
                 className="gw-wall-legend-box", **{"data-layer": "live"}),
        html.Div([html.Div(id="wall-analysis-title", className="gw-analysis-title"), html.Div(id="wall-legend")],
                 className="gw-wall-legend-box", id="wall-analysis", **{"data-layer": "analysis"}),
        html.Div([html.Div(names["cameras"], className="gw-legend-title"),
                  html.Div(view["camera_legend"], id="wall-camera-legend", className="gw-legend")],
                 className="gw-wall-legend-box", **{"data-layer": "cameras"}),
        html.Div([html.Div(names["workers"], className="gw-legend-title"),
                  html.Div(view["worker_legend"], id="wall-worker-legend", className="gw-legend")],
                 className="gw-wall-legend-box", **{"data-layer": "workers"}),
    ], className="gw-wall-legends", id="wall-legends")
    return html.Div([
        dcc.Store(id="wall-sync", data=0),
        # The digest of each part this wall was last sent (pages/wall/snapshot.py): unchanged parts are not sent.
        dcc.Store(id="wall-sent", data=sent),
        dcc.Store(id="wall-alarms", data=view["alarms"]),
        dcc.Store(id="wall-alarm-count", data=0),
        dcc.Store(id="wall-age", data=view["age"]),
        dcc.Store(id="wall-charts", data=None),
        dcc.Interval(id="wall-interval", interval=30_000),
        dcc.Interval(id="wall-alarm-interval", interval=5_000),
        dcc.Interval(id="wall-chart-interval", interval=CHART_REFRESH_MS),
        # Set by assets/gridwatch-live.js on an `analysis` or `early_warning` message; the interval covers a lost feed.
        dcc.Store(id="wall-analysis-sync", data=0),
        dcc.Interval(id="wall-analysis-interval", interval=ANALYSIS_REFRESH_MS),
        html.Header([
            html.Div(t("app.title", lang), className="gw-wall-title"),
            html.Div(names[held or "live"], id="wall-layer-name", className="gw-wall-layer-name"),
            html.Div(id="wall-clock", className="gw-wall-clock"),
            html.Div(t("wall.live_ok", lang), id="wall-status", className="gw-wall-status"),
            html.Div(view["age"]["text"], id="wall-figures-age", className="gw-wall-age",
                     hidden=not view["age"]["text"]),
            html.Button(t("wall.sound_on", lang), id="wall-sound", className="gw-wall-sound", hidden=True),
        ], className="gw-wall-head"),
        html.Aside([
            html.Div([make_kpi(PAGE, k, v, lang, alert=k == "overdue" and view["overdue_alert"])
                      for k, v in zip(kpis, view["kpis"])], id="wall-kpis", className="gw-wall-kpis"),
            _panel("hourly", t("wall.chart_hourly", lang), _graph("hourly"), "gw-wall-chart"),
            _panel("ontime", t("wall.chart_on_time", lang), _graph("ontime"), "gw-wall-chart"),
        ], className="gw-wall-left"),
        html.Div([
            html.Div(id="wall-alarm", className="gw-wall-alarm", hidden=True),
            html.Div(t("wall.no_alarms", lang), className="gw-wall-noalarm"),
        ], className="gw-wall-alarmrow", id="wall-alarmrow"),
        html.Section([
            make_map(PAGE, cfg, layers=map_layers, zoomControl=False, dragging=False,
                     scrollWheelZoom=False, doubleClickZoom=False, keyboard=False, zoomSnap=0.1,
                     bounds=basemap.district_bounds(), boundsOptions={"padding": [12, 12]}),
            legends,
        ], className="gw-wall-map", id="wall-mapbox"),
        html.Aside([
            _panel("cameras", t("wall.chart_cameras", lang), _graph("cameras"), "gw-wall-chart"),
            _panel("ticker", t("wall.ticker", lang),
                   html.Ul(view["ticker"], id="wall-ticker", className="gw-ticker", **{"data-fit": "ticker"}),
                   "gw-wall-list"),
            _panel("ranking", t("wall.ranking", lang),
                   html.Ol(view["ranking"], id="wall-ranking", className="gw-ranking", **{"data-fit": "ranking"}),
                   "gw-wall-list"),
            _panel("warnings", t("analysis.warnings", lang),
                   html.Div(id="wall-warnings", className="gw-wall-warnings", **{"data-fit": "warnings"}),
                   "gw-wall-list"),
            _panel("redblack", t("analysis.redblack", lang),
                   html.Div(id="wall-redblack", className="gw-wall-redblack", **{"data-fit": "redblack"}),
                   "gw-wall-list"),
        ], className="gw-wall-right"),
    ], id="wall-root", className="gw-wall",
        **{"data-layer": held or "live", "data-held": held, "data-turn-s": str(layers.TURN_S),
           "data-layer-names": json.dumps(names, ensure_ascii=False)})


def _kpi_values(k: dict) -> list:
    rate = "—" if k["on_time_rate"] is None else f"{k['on_time_rate'] * 100:.1f}%"
    return [f"{k['today']:,}", f"{k['open']:,}", f"{k['overdue']:,}", rate,
            f"{k['cameras_online']}/{k['cameras']}"]


def _alarm_store(rows: list[dict], total: int, lang: str, tz: str) -> dict:
    return {"total": total, "items": [
        {"id": a["id"], "text": f"{fmt_time(a['created_at'], tz)[:5]} {matter_name(a, lang)} {a['camera_code'] or ''}"}
        for a in rows]}


def _age_store(age: float, lang: str) -> dict:
    """How old the wall's figures are, whether to ask again (older than STALE_S), and the label shown."""
    return {"age": round(age, 1), "stale": age > snapshot.STALE_S,
            "text": t("wall.stale", lang, n=round(age)) if age > snapshot.AGE_SHOWN_S else ""}


def _view(user, lang: str, sent: dict) -> tuple[dict, dict]:
    """The wall's parts from the shared snapshot of the user's area, leaving out those whose digest
    `sent` (what this browser was last sent) already holds; and the digests of everything now."""
    cfg, disp = context.cfg(), context.display()
    snap, age, (alarms, total) = snapshot.view(user)
    shapes, shapes_digest = _sub_grid_shapes(user)
    now = {p: f"{lang}:{snap.digests[p]}" for p in snapshot.PARTS}
    now["shapes"], now["counts"] = shapes_digest, f"{shapes_digest}:{snap.digests['counts']}"
    new = {p for p in now if sent.get(p) != now[p]}
    # The alarm strip always comes: an acknowledgement on the console must reach it. So does the age:
    # figures older than STALE_S (the first wall after a quiet spell) are labelled, and the wall asks
    # again (assets/wall.js) until the build under way has landed.
    view: dict = {"alarms": _alarm_store(alarms, total, lang, cfg.timezone), "age": _age_store(age, lang)}
    if "shapes" in new:
        view["shapes"] = shapes
    if "kpis" in new:
        view["kpis"], view["overdue_alert"] = _kpi_values(snap.kpis), bool(snap.kpis["overdue"])
    if "latest" in new:
        view["ticker"] = [
            html.Li([html.Span(fmt_time(r["created_at"], cfg.timezone)[:5], className="gw-ticker-time"),
                     html.Span(matter_name(r, lang), className=f"gw-family-{r['family']}"),
                     html.Span((r["community_en"] if lang == "en" else r["community"]) or ""),
                     html.Span(label("status", r["status"], lang), className=f"gw-badge gw-status-{r['status']}")])
            for r in snap.latest] or [html.Li(t("wall.no_incidents", lang))]
    if "ranking" in new:
        top = max([r["open"] for r in snap.ranking] + [1])
        view["ranking"] = [
            html.Li([html.Span((r["name_en"] if lang == "en" else r["name"]) or r["code"], className="gw-rank-name"),
                     html.Span(html.I(style={"width": f"{100 * r['open'] / top:.0f}%"}), className="gw-bar"),
                     html.Span(f"{r['open']:,}", className="gw-rank-n"),
                     html.Span(f"{r['overdue']:,}", className="gw-rank-overdue")]) for r in snap.ranking]
    if "counts" in new:
        # Counts of the sub-grids this wall draws, 0 for those with no open case.
        view["counts"] = {f["properties"]["code"]: snap.counts.get(f["properties"]["code"], 0)
                          for f in shapes["features"]}
    if "clusters" in new:
        view["clusters"] = points(snap.clusters, disp, lambda r: {
            "n": r["n"], "priority": r["priority"], "family": r["family"], "overdue": r["overdue"]})
    if "cameras" in new:
        view["cameras"] = points(snap.cameras, disp, lambda r: {"code": r["code"], "health": r["health"]})
        view["camera_legend"] = layers.camera_legend(snap.cameras, lang)
    if "workers" in new:
        view["workers"] = points(snap.workers, disp, lambda r: {"code": r["code"], "on_duty": r["on_duty"]})
        view["worker_legend"] = layers.worker_legend(snap.workers, lang)
    return view, now


@dash.callback(
    Output("wall-kpi-today-value", "children"), Output("wall-kpi-open-value", "children"),
    Output("wall-kpi-overdue-value", "children"), Output("wall-kpi-on_time-value", "children"),
    Output("wall-kpi-cameras_online-value", "children"), Output("wall-kpi-overdue", "className"),
    Output("wall-ticker", "children"), Output("wall-ranking", "children"),
    Output("wall-subgrids", "data"), Output("wall-subgrids", "hideout"), Output("wall-clusters", "data"),
    Output("wall-cameras", "data"), Output("wall-workers", "data"), Output("wall-alarms", "data"),
    Output("wall-camera-legend", "children"), Output("wall-worker-legend", "children"),
    Output("wall-age", "data"), Output("wall-sent", "data"),
    Input("wall-sync", "data"), Input("wall-interval", "n_intervals"), State("wall-sent", "data"),
    # The page came with its first paint; the live feed asks for a resync as soon as it connects.
    prevent_initial_call=True,
)
@access.guard(PAGE)
def wall_refresh(_sync, _tick, sent):
    """What changed on the wall since this browser's last refresh (on resync and every 30 s)."""
    # A digest from the browser only decides whether to resend: the rows are always the user's own area.
    view, now = _view(context.user(), context.lang(), sent if isinstance(sent, dict) else {})
    nu = dash.no_update
    kpis = [*view["kpis"], "gw-kpi gw-kpi-alert" if view["overdue_alert"] else "gw-kpi"] if "kpis" in view \
        else [nu] * 6
    return (*kpis, *(view.get(k, nu) for k in ("ticker", "ranking", "shapes", "counts", "clusters", "cameras",
                                               "workers", "alarms", "camera_legend", "worker_legend", "age")),
            now if now != sent else nu)


@dash.callback(
    Output("wall-alarms", "data", allow_duplicate=True),
    Input("wall-alarm-interval", "n_intervals"),
    prevent_initial_call=True,
)
@access.guard(PAGE)
def wall_alarms(_tick):
    """Unacknowledged alarms, polled often so an acknowledgement on the console silences the wall."""
    user, lang = context.user(), context.lang()
    alarms, total = snapshot.alarms(user)
    return _alarm_store(alarms, total, lang, context.cfg().timezone)


_AVAILABILITY: dict = {}  # day start -> (monotonic time, rows): seven days of health logs move slowly
AVAILABILITY_TTL_S = 600.0


def _availability(conn, start: datetime) -> list[dict]:
    key = start.isoformat()
    hit = _AVAILABILITY.get(key)
    if hit and time.monotonic() - hit[0] < AVAILABILITY_TTL_S:
        return hit[1]
    rows = wall_repo.street_availability(conn, start)
    _AVAILABILITY.clear()  # one day kept: yesterday's entry goes at midnight
    _AVAILABILITY[key] = (time.monotonic(), rows)
    return rows


@dash.callback(
    Output("wall-charts", "data"),
    Input("wall-chart-interval", "n_intervals"),
)
@access.guard(PAGE)
def wall_charts(_tick):
    """Today per hour against the last 7 days, on-time closure over 30 days, camera availability per street."""
    user, lang = context.user(), context.lang()
    tz = context.cfg().timezone
    scope = scope_filter(user)
    start = data.day_start(tz)
    now_hour = datetime.now(ZoneInfo(tz)).hour

    pool, cfg = context.pool(), context.cfg()

    def make():
        # Runs in the request or in a background thread: only what it was handed, no Flask context.
        with pool.connection() as conn:
            return (wall_repo.hourly(conn, scope, start),
                    wall_repo.on_time_daily(conn, scope, wall_repo.since_days(start, 30)), _availability(conn, start))
    # Rows shared by every wall of the area for a minute: the figures move by the hour and the day.
    rows = shared.of_app("gridwatch_wall_chart_rows", fresh_s=CHART_ROWS_TTL_S, stale_s=CHART_ROWS_STALE_S,
                         lock_s=snapshot.BUILD_LOCK_S, keep_warm_s=CHART_ROWS_KEEP_WARM_S)
    key = (f"gridwatch:wall:charts:{shared.db_tag(cfg.database_url)}:{scope['scope_street'] or '*'}:"
           f"{scope['scope_community'] or '*'}:{start.isoformat()}")
    hourly, closing, streets = rows.get(key, make)
    if not user.district_wide:
        streets = [s for s in streets if s["code"] == scope["scope_street"]]
    return {"hourly": charts.hourly(hourly, lang, now_hour), "ontime": charts.on_time(closing, lang),
            "cameras": charts.cameras(streets, lang)}


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

# Labels old figures and asks for a resync until younger ones came (pages/wall/snapshot.py serves the
# last snapshot at once, however old, while the next is built).
dash.clientside_callback(
    dash.ClientsideFunction(namespace="gridwatch_wall", function_name="age"),
    Output("wall-figures-age", "children"), Output("wall-figures-age", "hidden"),
    Input("wall-age", "data"),
)

dash.clientside_callback(
    dash.ClientsideFunction(namespace="gridwatch_wall", function_name="charts"),
    Output("wall-chart-hourly", "figure"), Output("wall-chart-ontime", "figure"),
    Output("wall-chart-cameras", "figure"),
    Input("wall-charts", "data"),
)
