"""The counting-line form: keeps the line picker, name and classes in step with the editor's store.

The store `cameras-edit` holds "lines" (as the camera config stores them) and "lsel" (the line on
show) beside the zones; the line script draws and moves the geometry, this callback the rest. Nothing
reaches the database before "save" (page.py), which validates with video.config (line_check.py).
"""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State, ctx

from dashboard import access, context
from dashboard.i18n import t

PAGE = "cameras"
CLASSES = ("person", "vehicle")


def clamp_sel(sel, items: list):
    """The selected index still valid for `items` (the first otherwise, None when empty)."""
    if not items:
        return None
    return sel if isinstance(sel, int) and 0 <= sel < len(items) else 0


def pick_options(lines: list, lang: str) -> list[dict]:
    """The line picker's entries: each line by name, by its place when it has none."""
    names = [str(ln.get("name") or "") if isinstance(ln, dict) else "" for ln in lines]
    return [{"label": n or f"#{i + 1} {t('cameras.zone_unnamed', lang)}", "value": i} for i, n in enumerate(names)]


def with_form(lines: list, pick, name, classes) -> list | None:
    """`lines` with the form's name and classes written into line `pick`; None when no line is on show."""
    if not isinstance(pick, int) or not 0 <= pick < len(lines) or not isinstance(lines[pick], dict):
        return None
    lines = list(lines)
    chosen = [c for c in CLASSES if c in (classes or [])]
    lines[pick] = {**lines[pick], "name": name or "", "classes": chosen}
    return lines


@dash.callback(
    Output("cameras-edit", "data", allow_duplicate=True), Output("cameras-line-pick", "options"),
    Output("cameras-line-pick", "value"), Output("cameras-line-name", "value"),
    Output("cameras-line-classes", "value"), Output("cameras-line-form", "hidden"),
    Output("cameras-line-none", "hidden"),
    Input("cameras-edit", "data"), Input("cameras-line-pick", "value"), Input("cameras-line-name", "value"),
    Input("cameras-line-classes", "value"),
    prevent_initial_call=True,
)
@access.guard(PAGE)
def cameras_line_sync(edit, pick, name, classes):
    """Show the store's selected line in the form; write a picked line or a form change into the store."""
    lang, trigger = context.lang(), ctx.triggered_id
    if not isinstance(edit, dict):
        return dash.no_update, [], None, "", [], True, True
    lines = edit.get("lines") if isinstance(edit.get("lines"), list) else []
    if trigger in ("cameras-line-name", "cameras-line-classes"):
        changed = with_form(lines, pick, name, classes)
        if changed is None:
            raise dash.exceptions.PreventUpdate
        return ({**edit, "lines": changed}, pick_options(changed, lang), dash.no_update, dash.no_update,
                dash.no_update, dash.no_update, dash.no_update)
    out_edit = dash.no_update
    sel = clamp_sel(edit.get("lsel"), lines)
    if trigger == "cameras-line-pick" and isinstance(pick, int) and pick != edit.get("lsel"):
        sel = clamp_sel(pick, lines)
        out_edit = {**edit, "lsel": sel}
    line = lines[sel] if sel is not None and isinstance(lines[sel], dict) else None
    return (out_edit, pick_options(lines, lang), sel if line is not None else None, (line or {}).get("name", ""),
            [c for c in CLASSES if c in ((line or {}).get("classes") or [])], line is None,
            bool(lines) or not edit.get("code"))


# The line script redraws from the store in the same tick as it changes (as the zone script does).
dash.clientside_callback(
    ClientsideFunction(namespace="gwLines", function_name="render"),
    Output("cameras-lines-drawn", "data"), Input("cameras-edit", "data"), State("cameras-lines-drawn", "data"),
)
