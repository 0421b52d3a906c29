"""/cameras: maintenance, dispatchers and admins see camera health, snapshots with zones, and edit zones.

Calibrated cameras (4+ image-to-map pairs) also show their zones on the map; others only their point.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import dash
import dash_leaflet as dl
from dash import ALL, Input, Output, State, ctx, dcc, html
from pydantic import TypeAdapter, ValidationError

from dashboard import access, basemap, context, data
from dashboard.camera_zones import zone_features
from dashboard.components import fmt_time, make_badge, make_table, matter_name
from dashboard.i18n import label, t
from dashboard.maps import fn, make_map, points
from video.media import latest_snapshot_name

dash.register_page(__name__, path="/cameras", title="Cameras", name="cameras")
PAGE = "cameras"
logger = logging.getLogger(__name__)
RULE_KINDS = ("intrusion", "loitering", "crowd", "object_left", "vehicle_stopped")
ZONE_EDITORS = frozenset({"maintenance", "admin"})
# The snapshot overlay's red, so a zone looks the same on the picture and on the map.
ZONE_STYLE = {"color": "#ff4d4f", "weight": 2, "fillColor": "#ff4d4f", "fillOpacity": 0.25,
              "className": "gw-camera-zone"}


def layout(**_query):
    """Camera list and map on the left; the selected camera's snapshot, zones and cases on the right."""
    user = context.user()
    lang = context.lang()
    if not access.may_open(user.role, PAGE):
        return html.Div(t("app.forbidden", lang), className="gw-forbidden")
    cfg = context.cfg()
    editor = user.role in ZONE_EDITORS
    return html.Div([
        dcc.Store(id="cameras-selected"), dcc.Store(id="cameras-saved", data=0),
        dcc.Interval(id="cameras-interval", interval=30_000),
        html.Div([
            html.Div([html.H2(t("cameras.title", lang)),
                      html.Div(make_map(PAGE, cfg, bounds=basemap.district_bounds(), layers=[
                          dl.GeoJSON(id="cameras-ground", data=basemap.ground(), style=fn("outlineStyle"),
                                     interactive=False),
                          dl.GeoJSON(id="cameras-lines", data=basemap.lines(), style=fn("outlineStyle"),
                                     interactive=False),
                          # Under the points, so a camera inside its own zone stays clickable.
                          dl.GeoJSON(id="cameras-zones-map", data=None, style=ZONE_STYLE),
                          dl.GeoJSON(id="cameras-points", data=None, pointToLayer=fn("cameraPoint"))]),
                               className="gw-console-map")], className="gw-panel"),
            html.Div(id="cameras-list", className="gw-panel gw-scroll"),
            html.Div([html.H2(t("cameras.cases", lang)), html.Div(id="cameras-cases")], className="gw-panel"),
        ], className="gw-col"),
        html.Div([
            html.Div([
                html.H2(id="cameras-title", children=t("cameras.select", lang)),
                html.Div([html.Img(id="cameras-snapshot", alt=t("cameras.snapshot", lang), hidden=True),
                          html.Img(id="cameras-zones-overlay", className="gw-zones-overlay")],
                         id="cameras-snapshot-box", className="gw-snapshot"),
                html.H2(t("cameras.zones", lang)),
                dcc.Textarea(id="cameras-zones", style={"width": "100%", "height": "160px"}, readOnly=not editor),
                html.Div([
                    dcc.Input(id="cameras-zone-name", placeholder=t("cameras.zones", lang)),
                    dcc.Dropdown(id="cameras-zone-rule", value="intrusion", clearable=False,
                                 options=[{"label": label("rule", k, lang), "value": k} for k in RULE_KINDS]),
                    dcc.Input(id="cameras-draw-points", placeholder="[[x, y], ...]"),
                    html.Button(t("cameras.zone_save", lang), id="cameras-zone-save", n_clicks=0,
                                disabled=not editor),
                ], className="gw-filters"),
                html.Div(id="cameras-msg", className="gw-msg"),
                html.H2(t("cameras.situations", lang)), html.Div(id="cameras-situations"),
            ], className="gw-panel"),
        ], className="gw-col"),
    ], id="cameras-root", className="gw-cameras")


@dash.callback(
    Output("cameras-list", "children"), Output("cameras-points", "data"), Output("cameras-zones-map", "data"),
    Output("cameras-cases", "children"),
    Input("cameras-interval", "n_intervals"), Input("cameras-saved", "data"),
)
@access.guard(PAGE)
def cameras_refresh(_tick, _saved):
    """Every camera with health, on the map and in the table, calibrated cameras' zones; maintenance cases."""
    lang, tz = context.lang(), context.cfg().timezone
    with context.pool().connection() as conn:
        cams = data.cameras(conn)
        cases = data.maintenance_cases(conn)
    order = {"offline": 0, "degraded": 1, "unknown": 2, "online": 3}
    cams.sort(key=lambda c: (order.get(c["health"], 9), c["code"]))
    table = make_table(PAGE, "list", [t("cameras.code", lang), t("cameras.name", lang), t("cameras.health", lang),
                                      t("cameras.health_at", lang)],
                       [[c["code"], c["name"], make_badge("health", c["health"], lang), fmt_time(c["health_at"], tz, True)]
                        for c in cams], row_ids=[c["code"] for c in cams])
    fc = points(cams, context.display(), lambda r: {"code": r["code"], "health": r["health"],
                                                    "tooltip": f"{r['code']} {label('health', r['health'], lang)}"})
    case_list = html.Ul([html.Li([matter_name(c, lang), " ", c["camera_code"] or "", " ",
                                  make_badge("status", c["status"], lang)]) for c in cases])
    return table, fc, zone_features(cams, context.display(), lang), case_list


@dash.callback(
    Output("cameras-selected", "data"),
    Input({"type": "cameras-list-row", "index": ALL}, "n_clicks"),
    Input("cameras-points", "clickData"), Input("cameras-zones-map", "clickData"),
    prevent_initial_call=True,
)
@access.guard(PAGE)
def cameras_select(_rows, click, zone_click):
    """The camera picked in the table, or on the map by its point or one of its zones."""
    if ctx.triggered_id in ("cameras-points", "cameras-zones-map"):
        click = click if ctx.triggered_id == "cameras-points" else zone_click
        if not click or not click.get("properties"):
            raise dash.exceptions.PreventUpdate
        return click["properties"]["code"]
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        raise dash.exceptions.PreventUpdate
    return ctx.triggered_id["index"]


def _zones_svg(zones: list) -> str:
    """The zones as an SVG data URL laid over the snapshot (0-1 image coordinates)."""
    shapes = []
    for z in zones or []:
        pts = " ".join(f"{x * 1000:.1f},{y * 1000:.1f}" for x, y in z.get("polygon", []))
        shapes.append(f'<polygon points="{pts}" fill="rgba(255,77,79,0.25)" stroke="#ff4d4f" stroke-width="4"/>')
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 1000" preserveAspectRatio="none">{"".join(shapes)}</svg>'
    return "data:image/svg+xml;utf8," + quote(svg)


@dash.callback(
    Output("cameras-title", "children"), Output("cameras-snapshot", "src"), Output("cameras-snapshot", "hidden"),
    Output("cameras-zones-overlay", "src"),
    Output("cameras-zones", "value"), Output("cameras-situations", "children"),
    Input("cameras-selected", "data"), Input("cameras-saved", "data"),
)
@access.guard(PAGE)
def cameras_detail(code, _saved):
    """The camera's latest snapshot with its zones, the zone list, and its recent situations (view logged)."""
    user, lang, tz = context.user(), context.lang(), context.cfg().timezone
    if not code:
        return t("cameras.select", lang), None, True, None, "", None
    with context.pool().connection() as conn:
        cam = data.camera(conn, code)
        if cam is None:
            return t("cameras.select", lang), None, True, None, "", None
        situations = data.camera_situations(conn, code)
    zones = (cam["config"] or {}).get("zones", [])
    snap = context.cfg().media_dir / latest_snapshot_name(code)
    # The /media route writes the access log entry when the browser fetches the image.
    src = f"/media/{latest_snapshot_name(code)}" if snap.exists() else None
    rows = html.Ul([html.Li([fmt_time(s["created_at"], tz, True), " ", matter_name(s, lang), " ",
                             make_badge("status", s["status"], lang)]) for s in situations])
    title = f"{cam['code']} · {cam['name']} · {label('health', cam['health'], lang)}"
    if src is None:
        title += f" · {t('cameras.no_snapshot', lang)}"
    return title, src, src is None, _zones_svg(zones), json.dumps(zones, ensure_ascii=False, indent=1), rows


@dash.callback(
    Output("cameras-msg", "children"), Output("cameras-saved", "data"),
    Input("cameras-zone-save", "n_clicks"),
    State("cameras-selected", "data"), State("cameras-zones", "value"), State("cameras-zone-name", "value"),
    State("cameras-zone-rule", "value"), State("cameras-draw-points", "value"), State("cameras-saved", "data"),
    prevent_initial_call=True,
)
@access.guard(PAGE)
def cameras_save_zones(_n, code, zones_text, name, rule, drawn, saved):
    """Validate the zone list (plus a newly drawn zone) with the video config rules and save it."""
    from video.config import Zone

    user, lang = context.user(), context.lang()
    if user.role not in ZONE_EDITORS:
        # The button is disabled for other roles; the server refuses anyway.
        return t("app.forbidden", lang), saved
    if not code:
        return t("cameras.select", lang), saved
    try:
        zones = json.loads(zones_text or "[]")
        if drawn and name:
            zones.append({"name": name, "polygon": json.loads(drawn), "rules": [{"kind": rule or "intrusion"}]})
        checked = TypeAdapter(list[Zone]).validate_python(zones)
    except (ValueError, ValidationError) as exc:
        return t("cameras.zone_bad", lang, why=str(exc).splitlines()[0][:300]), saved
    clean = [z.model_dump(exclude_none=True) for z in checked]
    with context.pool().connection() as conn:
        data.set_zones(conn, code, clean)
        data.audit(conn, user.username, "camera_zones", code, data={"zones": len(clean)})
    return t("cameras.zone_saved", lang), (saved or 0) + 1
