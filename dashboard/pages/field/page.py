"""/field: the grid worker's tablet. Thumbs, poor network: everything sent goes through an offline outbox.

One screen at 800x1280 and 1280x800: the map (my sub-grids, my open tasks numbered as in the list, my
position, the report's point), my task list, the report form. A task and the nearby-case prompt open
over the lists. The script (assets/gridwatch-field.js, assets/field-tablet.js) fills them, offline too.
"""

from __future__ import annotations

import json

import dash
import dash_leaflet as dl
from dash import Input, Output, dcc, html

from dashboard import basemap, context, data
from dashboard.i18n import t
from dashboard.maps import bounds_of, feature_collection, fn, legend, make_map

dash.register_page(__name__, path="/field", title="Field", name="field")
PAGE = "field"
TASK_ZOOM = 17  # street level: the worker finds the doorway, not the district
# Style functions of assets/field-tablet.js (window.gridwatch.fieldMap).
FIELD_JS = "gridwatch.fieldMap"
ACTIONS = ("accept", "start", "resolve", "return")


def ffn(name: str) -> dict:
    """A reference dash-leaflet resolves to window.gridwatch.fieldMap.<name>."""
    return {"variable": f"{FIELD_JS}.{name}"}


def my_sub_grids(conn, worker: str | None) -> dict:
    """The worker's sub-grids as a FeatureCollection in display coordinates (role: primary or backup)."""
    rows = data.field_sub_grids(conn, worker) if worker else []
    return feature_collection(rows, "geojson", context.display(),
                              lambda r: {"code": r["code"], "name": r["name"], "role": r["role"]})


def _task_panel(lang: str, labels: dict, grids: dict) -> html.Div:
    """One task, opened over the lists: what, where, until when, photos, its map, and what to do."""
    return html.Div([
        html.Div([
            html.Span(id="field-task-num", className="gw-task-n"),
            html.H3(id="field-task-title"),
            html.Button(t("field.back", lang), id="field-task-close", className="gw-secondary"),
        ], className="gw-field-task-head"),
        html.Div([
            html.Div([
                html.Div(id="field-task-due", className="gw-countdown"),
                html.Div([html.Span(t("field.place", lang) + "：", className="gw-note"),
                          html.Span(id="field-task-place")], className="gw-field-place"),
                html.Div(id="field-task-body", className="gw-field-desc"),
                html.Div(id="field-task-photos", className="gw-field-photos"),
                html.Ol(id="field-task-history", className="gw-history"),
            ], className="gw-field-task-info"),
            html.Div([
                # The task (pin) and the worker (dot) over my sub-grids; the script fills the points
                # from the task list, so it works offline too.
                html.Div(make_map(f"{PAGE}-task", context.cfg(), layers=[
                    dl.GeoJSON(id="field-task-ground", data=basemap.ground(), style=fn("outlineStyle"),
                               interactive=False),
                    dl.GeoJSON(id="field-task-grids", data=grids, style=ffn("gridStyle"), interactive=False),
                    dl.GeoJSON(id="field-task-points", data=None, pointToLayer=fn("taskPoint")),
                ], zoom=TASK_ZOOM), className="gw-field-task-map"),
                legend([("#52c41a", t("field.my_grids", lang)), ("#ffd666", t("field.task_pos", lang)),
                        ("#40a9ff", t("field.my_pos", lang))]),
                dcc.Textarea(id="field-task-note", placeholder=t("console.note", lang)),
                # Dash has no file input with `capture`; the script puts a real one in this slot.
                html.Div(id="field-task-photo-slot", className="gw-photo-slot"),
                html.Div([html.Button(labels[a], id=f"field-act-{a}", **{"data-action": a},
                                      className="gw-danger" if a == "return" else "") for a in ACTIONS],
                         className="gw-actions"),
            ], className="gw-field-task-act"),
        ], className="gw-field-task-cols"),
    ], id="field-task", hidden=True, className="gw-panel gw-field-over")


def _nearby_panel(lang: str) -> html.Div:
    """Before a report goes: the open cases of its matter it would merge into, and the two answers."""
    return html.Div([
        html.H3(t("field.nearby_title", lang)),
        html.Div(id="field-nearby-list", className="gw-field-nearby-list"),
        html.Div([
            html.Button(t("field.nearby_same", lang), id="field-nearby-same"),
            html.Button(t("field.nearby_different", lang), id="field-nearby-different", className="gw-secondary"),
            html.Button(t("field.nearby_cancel", lang), id="field-nearby-cancel", className="gw-secondary"),
        ], className="gw-actions"),
    ], id="field-nearby", hidden=True, className="gw-panel gw-field-over")


@context.page_layout(PAGE)
def layout(user, lang, **_query):
    """Duty and outbox bar; the map of my grid and tasks; my task list; the report form."""
    cfg = context.cfg()
    with context.pool().connection() as conn:
        matters = data.matters(conn)
        worker = data.grid_worker_get(conn, user.worker_code) or {"name": user.worker_code, "on_duty": False}
        grids = my_sub_grids(conn, user.worker_code)
    district = basemap.ground()
    bounds = basemap.district_bounds()
    # The worker's own ground fills the map; the district is the frame only without sub-grids.
    view = bounds_of(grids) if grids["features"] else bounds
    labels = {a: t(f"action.{a}", lang) for a in ACTIONS}
    grid_names = " / ".join(f["properties"]["name"] for f in grids["features"]) or "—"
    return html.Div([
        html.Div([
            html.Span(worker["name"], className="gw-field-name"),
            html.Button(t("field.on_duty" if worker["on_duty"] else "field.off_duty", lang), id="field-duty",
                        **{"data-on": "1" if worker["on_duty"] else "0", "data-on-label": t("field.on_duty", lang),
                           "data-off-label": t("field.off_duty", lang)}),
            html.Span(t("field.pending", lang, n=0), id="field-pending", className="gw-pending gw-zero"),
            html.Span(id="field-net", className="gw-field-net"),
        ], className="gw-field-bar"),
        html.Div([
            html.Section([
                html.Div(make_map(PAGE, cfg, layers=[
                    dl.GeoJSON(id="field-district", data=district, style=fn("outlineStyle"), interactive=False),
                    dl.GeoJSON(id="field-grids", data=grids, style=ffn("gridStyle"), interactive=False),
                    dl.GeoJSON(id="field-task-marks", data=None, pointToLayer=ffn("taskNumber")),
                    dl.GeoJSON(id="field-nearby-marks", data=None, pointToLayer=ffn("nearbyCase")),
                    dl.GeoJSON(id="field-me", data=None, pointToLayer=fn("taskPoint")),
                    dl.GeoJSON(id="field-point", data=None, pointToLayer=fn("fieldPoint")),
                ], bounds=view), className="gw-field-map"),
                html.Div([
                    legend([("#52c41a", t("field.my_grids", lang)), ("#ffd666", t("field.my_tasks", lang)),
                            ("#40a9ff", t("field.my_pos", lang))]),
                    html.Span(grid_names, id="field-grid-names", className="gw-note"),
                ], className="gw-field-legend"),
            ], className="gw-field-mapcol"),
            html.Section([
                html.H2([t("field.my_tasks", lang), html.Span(id="field-task-count", className="gw-note"),
                         html.Span(id="field-new", className="gw-badge-new", hidden=True)]),
                html.Div(id="field-tasks", children=t("field.no_tasks", lang), className="gw-field-list"),
            ], className="gw-field-taskcol"),
            html.Section([
                html.H2(t("field.report", lang)),
                html.Div([
                    html.Div([
                        dcc.Input(id="field-matter-search", placeholder=t("field.search", lang), type="search"),
                        html.Select([html.Option(f"{m['name']} · {m['name_en']}" if lang == "zh" else m["name_en"],
                                                 value=m["code"]) for m in matters], id="field-matter"),
                    ], className="gw-field-row"),
                    html.Div([html.Button(t("field.gps", lang), id="field-gps", className="gw-secondary"),
                              html.Span(t("field.tap_map", lang), id="field-pos")], className="gw-field-row"),
                    dcc.Textarea(id="field-description", placeholder=t("field.description", lang)),
                    html.Div([
                        html.Label([t("field.photo", lang), html.Div(id="field-photo-slot", className="gw-photo-slot")]),
                        html.Button(t("field.send", lang), id="field-send"),
                    ], className="gw-field-row"),
                    html.Div(id="field-msg", className="gw-field-msg"),
                ], className="gw-field-form"),
            ], className="gw-field-reportcol"),
            _task_panel(lang, labels, grids),
            _nearby_panel(lang),
        ], className="gw-field-grid"),
    ], id="field-root", className="gw-field",
        **{"data-bounds": json.dumps(bounds), "data-worker": user.worker_code or "", "data-labels": json.dumps(labels),
           "data-crs": cfg.tile_crs, "data-task-zoom": str(TASK_ZOOM), "data-lang": lang,
           "data-view": json.dumps(view)})


# A tap on the map is the position when there is no GPS; the script reads it from window.gridwatch.field.
dash.clientside_callback(
    dash.ClientsideFunction(namespace="gridwatch", function_name="fieldTap"),
    Output("field-point", "data"),
    Input("field-map", "clickData"),
    prevent_initial_call=True,
)
