"""/field: the grid worker's tablet. Thumbs, poor network: everything sent goes through an offline outbox."""

from __future__ import annotations

import json

import dash
import dash_leaflet as dl
from dash import Input, Output, dcc, html

from dashboard import basemap, context, data
from dashboard.i18n import t
from dashboard.maps import fn, legend, make_map

dash.register_page(__name__, path="/field", title="Field", name="field")
PAGE = "field"
TASK_ZOOM = 17  # street level: the worker finds the doorway, not the district


@context.page_layout(PAGE)
def layout(user, lang, **_query):
    """Duty and outbox bar, my tasks with the open task and its map, and the report form with its map."""
    cfg = context.cfg()
    with context.pool().connection() as conn:
        matters = data.matters(conn)
        worker = data.grid_worker_get(conn, user.worker_code) or {"name": user.worker_code, "on_duty": False}
    district = basemap.ground()
    bounds = basemap.district_bounds()
    labels = {a: t(f"action.{a}", lang) for a in ("accept", "start", "resolve", "return")}
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
                html.H2([t("field.my_tasks", lang), html.Span(id="field-new", className="gw-badge-new", hidden=True)]),
                html.Div(id="field-tasks", children=t("field.no_tasks", lang)),
                html.Div([
                    html.H3(id="field-task-title"),
                    html.Div(id="field-task-body"),
                    # The task (pin) and the worker (dot); the script fills it from the task list, so it
                    # works offline too.
                    html.Div(make_map(f"{PAGE}-task", cfg, layers=[
                        dl.GeoJSON(id="field-task-ground", data=district, style=fn("outlineStyle"),
                                   interactive=False),
                        dl.GeoJSON(id="field-task-points", data=None, pointToLayer=fn("taskPoint")),
                    ], zoom=TASK_ZOOM), className="gw-field-task-map"),
                    legend([("#ffd666", t("field.task_pos", lang)), ("#40a9ff", t("field.my_pos", lang))]),
                    dcc.Textarea(id="field-task-note", placeholder=t("console.note", lang)),
                    # Dash has no file input with `capture`; the script puts a real one in this slot.
                    html.Div(id="field-task-photo-slot", className="gw-photo-slot"),
                    html.Div([html.Button(labels[a], id=f"field-act-{a}", **{"data-action": a},
                                          className="gw-danger" if a == "return" else "")
                              for a in ("accept", "start", "resolve", "return")], className="gw-actions"),
                    html.Ol(id="field-task-history", className="gw-history"),
                    html.Button(t("field.back", lang), id="field-task-close", className="gw-secondary"),
                ], id="field-task", hidden=True, className="gw-panel"),
            ]),
            html.Section([
                html.H2(t("field.report", lang)),
                html.Div([
                    dcc.Input(id="field-matter-search", placeholder=t("field.search", lang), type="search"),
                    html.Select([html.Option(f"{m['name']} · {m['name_en']}" if lang == "zh" else m["name_en"],
                                             value=m["code"]) for m in matters], id="field-matter", size=4),
                    html.Div([html.Button(t("field.gps", lang), id="field-gps", className="gw-secondary"),
                              html.Span(t("field.tap_map", lang), id="field-pos")], className="gw-field-bar"),
                    html.Div(make_map(PAGE, cfg, layers=[
                        dl.GeoJSON(id="field-district", data=district, style=fn("outlineStyle"), interactive=False),
                        dl.GeoJSON(id="field-point", data=None, pointToLayer=fn("fieldPoint")),
                    ], bounds=bounds), className="gw-field-map"),
                    dcc.Textarea(id="field-description", placeholder=t("field.description", lang)),
                    html.Label([t("field.photo", lang), html.Div(id="field-photo-slot", className="gw-photo-slot")]),
                    html.Button(t("field.send", lang), id="field-send"),
                    html.Div(id="field-msg", className="gw-field-msg"),
                ], className="gw-field-form"),
            ]),
        ], className="gw-field-grid"),
    ], id="field-root", className="gw-field",
        **{"data-bounds": json.dumps(bounds), "data-worker": user.worker_code or "", "data-labels": json.dumps(labels),
           "data-crs": cfg.tile_crs, "data-task-zoom": str(TASK_ZOOM)})


# A tap on the map is the position when there is no GPS; the script reads it from window.gridwatch.field.
dash.clientside_callback(
    dash.ClientsideFunction(namespace="gridwatch", function_name="fieldTap"),
    Output("field-point", "data"),
    Input("field-map", "clickData"),
    prevent_initial_call=True,
)
