"""/cameras: maintenance, dispatchers and admins see camera health, snapshots with zones, and edit zones.

Calibrated cameras (4+ image-to-map pairs) also show their zones on the map; others only their point.
"""

from __future__ import annotations

import json
import logging

import dash
import dash_leaflet as dl
from dash import ALL, ClientsideFunction, Input, Output, State, ctx, dcc, html

from dashboard import access, basemap, context, data
from dashboard.pages.cameras.zones import zone_features
from dashboard.pages.cameras.editor import make_line_form, make_surface, make_zone_form
from dashboard.pages.cameras.counts import make_counts_panel
from dashboard.pages.cameras.line_check import check_lines
from dashboard.pages.cameras import line_form
from dashboard.pages.cameras.zone_check import check_zones
from dashboard.pages.cameras.zone_form import apply_form, form_ids, form_values
from dashboard.components import fmt_time, make_badge, make_table, matter_name
from dashboard.i18n import label, t
from dashboard.live_button import make_live_button
from dashboard.maps import fn, make_map, points
from video.media import latest_snapshot_name

dash.register_page(__name__, path="/cameras", title="Cameras", name="cameras")
PAGE = "cameras"
logger = logging.getLogger(__name__)
ZONE_EDITORS = frozenset({"maintenance", "admin"})
# The snapshot overlay's red, so a zone looks the same on the picture and on the map.
ZONE_STYLE = {"color": "#ff4d4f", "weight": 2, "fillColor": "#ff4d4f", "fillOpacity": 0.25,
              "className": "gw-camera-zone"}


@context.page_layout(PAGE)
def layout(user, lang, **_query):
    """Camera list and map on the left; the selected camera's snapshot with the zone editor, and its cases."""
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
                make_surface(lang, editor),
                html.H2(t("cameras.zones", lang)),
                make_zone_form(lang, editor, make_line_form(lang, editor)),
                make_counts_panel(lang),
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
                                      t("cameras.health_at", lang), t("live.open", lang)],
                       [[c["code"], c["name"], make_badge("health", c["health"], lang), fmt_time(c["health_at"], tz, True),
                         make_live_button(c["code"], lang, page=PAGE)]
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


@dash.callback(
    Output("cameras-title", "children"), Output("cameras-snapshot", "src"), Output("cameras-snapshot", "hidden"),
    Output("cameras-situations", "children"),
    Input("cameras-selected", "data"), Input("cameras-saved", "data"),
)
@access.guard(PAGE)
def cameras_detail(code, _saved):
    """The camera's latest snapshot (its zones come through the editor's store) and its recent situations."""
    lang, tz = context.lang(), context.cfg().timezone
    if not code:
        return t("cameras.select", lang), None, True, None
    with context.pool().connection() as conn:
        cam = data.camera(conn, code)
        if cam is None:
            return t("cameras.select", lang), None, True, None
        situations = data.camera_situations(conn, code)
    snap = context.cfg().media_dir / latest_snapshot_name(code)
    # The /media route writes the access log entry when the browser fetches the image.
    src = f"/media/{latest_snapshot_name(code)}" if snap.exists() else None
    rows = html.Ul([html.Li([fmt_time(s["created_at"], tz, True), " ", matter_name(s, lang), " ",
                             make_badge("status", s["status"], lang)]) for s in situations])
    title = f"{cam['code']} · {cam['name']} · {label('health', cam['health'], lang)}"
    if src is None:
        title += f" · {t('cameras.no_snapshot', lang)}"
    return title, src, src is None, rows


FORM_IDS = form_ids()
# The editor's store, then what the form shows of it; the first output names the page for access.py.
SYNC_OUTPUTS = ["edit", "pick_options", "pick", "name", "form_hidden", "none_hidden", "msg"]


@dash.callback(
    Output("cameras-edit", "data"), Output("cameras-zone-pick", "options"), Output("cameras-zone-pick", "value"),
    Output("cameras-zone-name", "value"), Output("cameras-zone-form", "hidden"),
    Output("cameras-zone-none", "hidden"), Output("cameras-msg", "children", allow_duplicate=True),
    *[Output(i, "value") for i in FORM_IDS],
    Input("cameras-selected", "data"), Input("cameras-saved", "data"), Input("cameras-zone-reset", "n_clicks"),
    Input("cameras-json-apply", "n_clicks"), Input("cameras-edit", "data"), Input("cameras-zone-pick", "value"),
    Input("cameras-zone-name", "value"), *[Input(i, "value") for i in FORM_IDS],
    State("cameras-zones", "value"),
    prevent_initial_call=True,
)
@access.guard(PAGE)
def cameras_zone_sync(code, _saved, _reset, _apply, edit, pick, name, *rest):
    """Keep the editor's store and its form in step: load a camera, apply the form or the JSON view, follow drags.

    The form always shows the zone the picker names (both are set in one answer), so a form change is
    written into that zone, even when a click on the picture has just selected another one.
    """
    *values, json_text = rest
    lang, trigger = context.lang(), ctx.triggered_id
    out = dict.fromkeys(SYNC_OUTPUTS, dash.no_update)
    form: list = [dash.no_update] * len(FORM_IDS)
    if trigger in ("cameras-selected", "cameras-saved", "cameras-zone-reset"):
        edit = _load_edit(code, edit)
        out["edit"] = edit
        if trigger != "cameras-saved":
            out["msg"] = ""  # a new camera or discarded changes: an old message no longer applies
    elif trigger == "cameras-json-apply":
        if not code:
            out["msg"] = t("cameras.select", lang)
            return _sync_answer(out, form)
        view, why = _parse_view(json_text, lang)
        if why:
            out["msg"] = why
            return _sync_answer(out, form)
        zones = view["zones"]
        edit = {**(edit or {}), "code": code, **view}
        edit["sel"] = _clamp_sel(edit.get("sel"), zones)
        edit["lsel"] = line_form.clamp_sel(edit.get("lsel"), edit.get("lines") or [])
        out["edit"], out["msg"] = edit, ""
    elif trigger == "cameras-zone-pick":
        if not edit or pick is None:
            raise dash.exceptions.PreventUpdate
        edit = {**edit, "sel": pick}
        out["edit"] = edit
    elif trigger != "cameras-edit":
        # The name or a rule control changed: write it into the zone on show, leave the form alone.
        zones = _with_form((edit or {}).get("zones") or [], pick, name, values)
        if zones is None:
            raise dash.exceptions.PreventUpdate
        out.update(edit={**edit, "zones": zones}, pick_options=_pick_options(zones, lang))
        return _sync_answer(out, form)
    zones = (edit or {}).get("zones") or []
    sel = (edit or {}).get("sel")
    # Only an object can be shown in the form; anything else typed into the JSON view waits for "save".
    zone = zones[sel] if isinstance(sel, int) and 0 <= sel < len(zones) and isinstance(zones[sel], dict) else None
    out.update(pick_options=_pick_options(zones, lang), pick=sel if zone is not None else None,
               name=(zone or {}).get("name", ""), form_hidden=zone is None,
               none_hidden=bool(zones) or not (edit or {}).get("code"))
    return _sync_answer(out, form_values(zone))


def _sync_answer(out: dict, form: list) -> tuple:
    return (*[out[k] for k in SYNC_OUTPUTS], *form)


def _with_form(zones: list, pick, name, values: list) -> list | None:
    """`zones` with the form's name and rules written into zone `pick`; None when no zone is on show."""
    if not isinstance(pick, int) or not 0 <= pick < len(zones) or not isinstance(zones[pick], dict):
        return None
    zones = list(zones)
    zones[pick] = apply_form({**zones[pick], "name": name or ""}, values)
    return zones


def _clamp_sel(sel, zones: list):
    """The selected zone index still valid for `zones` (the first zone otherwise, None when there is none)."""
    if not zones:
        return None
    return sel if isinstance(sel, int) and 0 <= sel < len(zones) else 0


def _load_edit(code, edit) -> dict | None:
    """The editor's store for camera `code` as stored; the selection kept when it is the same camera."""
    if not code:
        return None
    with context.pool().connection() as conn:
        cam = data.camera(conn, code)
    if cam is None:
        return None
    zones = (cam["config"] or {}).get("zones") or []
    lines = (cam["config"] or {}).get("lines") or []
    same = isinstance(edit, dict) and edit.get("code") == code
    return {"code": code, "zones": zones, "sel": _clamp_sel(edit.get("sel") if same else 0, zones),
            "lines": lines, "lsel": line_form.clamp_sel(edit.get("lsel") if same else 0, lines)}


def _pick_options(zones: list, lang: str) -> list[dict]:
    """The zone picker's entries: each zone by name, by its place when it has none."""
    names = [str(z.get("name") or "") if isinstance(z, dict) else "" for z in zones]
    return [{"label": n or f"#{i + 1} {t('cameras.zone_unnamed', lang)}", "value": i} for i, n in enumerate(names)]


def _parse_view(text: str | None, lang: str) -> tuple[dict | None, str | None]:
    """The JSON view as {"zones", "lines"} (what it shows), or None and why it is not that.

    A bare list is read as the zones alone and keeps the lines (the view showed only zones before lines
    existed); the lists' contents are checked on save, as the editor's own edits are.
    """
    try:
        view = json.loads(text or "[]")
    except json.JSONDecodeError as exc:
        return None, t("cameras.json_bad", lang, line=exc.lineno, col=exc.colno)
    if isinstance(view, list):
        return {"zones": view}, None
    if (not isinstance(view, dict) or set(view) - {"zones", "lines"}
            or not all(isinstance(view.get(k, []), list) for k in ("zones", "lines"))):
        return None, t("cameras.err_view_shape", lang)
    return {"zones": view.get("zones", []), "lines": view.get("lines", [])}, None


# In the browser, in the same tick as the store changes: the picture and the JSON view never lag behind
# the store, so "save" can tell a JSON view typed into from one that was merely not yet redrawn.
dash.clientside_callback(
    ClientsideFunction(namespace="gwZones", function_name="render"),
    Output("cameras-zones", "value"), Input("cameras-edit", "data"),
)


@dash.callback(
    Output("cameras-msg", "children"), Output("cameras-saved", "data"),
    Input("cameras-zone-save", "n_clicks"),
    State("cameras-selected", "data"), State("cameras-edit", "data"), State("cameras-zones", "value"),
    State("cameras-saved", "data"), State("cameras-zone-pick", "value"), State("cameras-zone-name", "value"),
    State("cameras-line-pick", "value"), State("cameras-line-name", "value"), State("cameras-line-classes", "value"),
    *[State(i, "value") for i in FORM_IDS],
    prevent_initial_call=True,
)
@access.guard(PAGE)
def cameras_save_zones(_n, code, edit, json_text, saved, pick, name, line_pick, line_name, line_classes, *values):
    """Validate the edited zones as the camera worker will and save them; refuse in the user's language.

    A refusal leaves `cameras-saved` alone: setting it, even to the same value, reloads the stored zones
    over the operator's edits.
    """
    user, lang = context.user(), context.lang()
    if user.role not in ZONE_EDITORS:
        # The button is disabled for other roles; the server refuses anyway.
        return t("app.forbidden", lang), dash.no_update
    if not code or not isinstance(edit, dict) or edit.get("code") != code:
        return t("cameras.select", lang), dash.no_update
    # A keystroke may still be on its way into the store; the form on show is what the operator sees.
    zones = edit.get("zones") or []
    zones = _with_form(zones, pick, name, list(values)) or zones
    lines = edit.get("lines") or []
    lines = line_form.with_form(lines, line_pick, line_name, line_classes) or lines
    shown, _ = _parse_view(json_text, lang)
    # The view is redrawn from the store by a clientside callback that Dash runs only after the server
    # callbacks the store's change set off: a save clicked in that moment sees the store with the form's
    # last change and the view without it. Both are compared with the forms applied, so only an edit
    # typed into the view itself (elsewhere than the name, rules or classes on show) counts as unapplied.
    if shown is not None:
        shown_lines = shown.get("lines", edit.get("lines") or [])
        shown = {"zones": _with_form(shown["zones"], pick, name, list(values)) or shown["zones"],
                 "lines": line_form.with_form(shown_lines, line_pick, line_name, line_classes) or shown_lines}
    if shown != {"zones": zones, "lines": lines}:
        # The JSON view was typed into and not applied: saving the editor's zones would drop that silently.
        return t("cameras.json_unapplied", lang), dash.no_update
    clean, why = check_zones(zones, lang)
    if why:
        return t("cameras.zone_bad", lang, why=why), dash.no_update
    lines, why = check_lines(lines, lang)
    if why:
        return t("cameras.line_bad", lang, why=why), dash.no_update
    with context.pool().connection() as conn:
        # One transaction: the zones, and the audit row saying who changed them (the update bumps
        # grid_revision by trigger, which makes the camera workers restart this camera).
        with conn.transaction():
            if not data.set_zones(conn, code, clean) or not data.set_lines(conn, code, lines):
                return t("cameras.zone_gone", lang), dash.no_update
            data.audit(conn, user.username, "camera_zones", code,
                       data={"zones": len(clean), "names": [z["name"] for z in clean],
                             "lines": [ln["name"] for ln in lines]})
    logger.info("zones of camera %s saved by %s", code, user.username, extra={"camera": code})
    return t("cameras.zone_saved", lang), (saved or 0) + 1
