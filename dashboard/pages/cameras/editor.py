"""The zone editor's widgets: the drawing surface over the snapshot and the zone and rule form.

The surface is drawn by assets/gridwatch-cameras.js (SVG, no outside library); it and the form share
one dcc.Store, `cameras-edit` = {"code", "zones", "sel"}: the script writes it with set_props after a
drag, a new polygon or a deletion, the page callback after a form change, and both redraw from it.
Nothing reaches the database before "save", which validates with video.config.
"""

from __future__ import annotations

from dash import dcc, html

from dashboard.pages.cameras.zone_form import PEOPLE_KIND, RULE_KINDS, control_id
from dashboard.i18n import label, t
from grid.camera_matters import RULE_MATTERS
from video.config import DEFAULT_SECONDS

# Sentences the script shows itself, handed over as data-* attributes in the user's language.
SCRIPT_STRINGS = ("hint_edit", "hint_draw", "hint_min3", "hint_cross", "zone_default",
                  # The counting-line tool (assets/gridwatch-camera-lines.js) reads its own from the same place.
                  "hint_line_draw", "hint_line_side", "hint_line_min2", "line_default", "line_in")


def make_surface(lang: str, editable: bool) -> html.Div:
    """The snapshot with the SVG editor laid over it (the script fills #cameras-editor)."""
    strings = {f"data-{k.replace('_', '-')}": t(f"cameras.{k}", lang) for k in SCRIPT_STRINGS}
    return html.Div([
        html.Div([html.Img(id="cameras-snapshot", alt=t("cameras.snapshot", lang), hidden=True),
                  html.Div(id="cameras-editor", className="gw-zone-editor",
                           **{"data-editable": "1" if editable else "0"}, **strings)],
                 id="cameras-snapshot-box", className="gw-snapshot"),
        # Written by the script only (the hint of the current mode, or why a polygon will be refused).
        html.Div(id="cameras-editor-hint", className="gw-zone-hint"),
        dcc.Store(id="cameras-edit"),
    ])


def _rule_row(kind: str, lang: str, editable: bool) -> html.Tr:
    off = not editable
    people = (dcc.Input(id=control_id(PEOPLE_KIND, "people"), type="text", inputMode="numeric", placeholder="5",
                        disabled=off, className="gw-zone-num")
              if kind == PEOPLE_KIND else None)
    return html.Tr([
        html.Td(dcc.Checklist(id=control_id(kind, "on"), value=[], className="gw-zone-check",
                              options=[{"label": label("rule", kind, lang), "value": "on", "disabled": off}])),
        html.Td(dcc.Input(id=control_id(kind, "seconds"), type="text", inputMode="decimal", disabled=off,
                          placeholder=f"{DEFAULT_SECONDS[kind]:g}", className="gw-zone-num")),
        html.Td(people),
        html.Td(dcc.Checklist(id=control_id(kind, "auto"), value=[], className="gw-zone-check",
                              options=[{"label": t("cameras.rule_auto", lang), "value": "auto", "disabled": off}])),
        html.Td(dcc.Input(id=control_id(kind, "matter"), type="text", disabled=off, placeholder=RULE_MATTERS[kind],
                          className="gw-zone-matter")),
    ], id=f"cameras-rule-{kind}")


def make_line_form(lang: str, editable: bool) -> html.Div:
    """Counting lines (issue 14): picker, drawing buttons, name and counted classes of the line on show.

    The geometry (points, in side) is drawn and edited on the picture by assets/gridwatch-camera-lines.js
    in the same store as the zones, `cameras-edit` ("lines", "lsel"); "save" stores both.
    """
    off = not editable
    classes = [{"label": label("count_class", c, lang), "value": c, "disabled": off} for c in ("person", "vehicle")]
    return html.Div([
        html.H2(t("cameras.lines", lang)),
        html.Div([
            dcc.Dropdown(id="cameras-line-pick", options=[], clearable=False, searchable=False,
                         placeholder=t("cameras.line_pick", lang), className="gw-zone-pick"),
            html.Button(t("cameras.line_new", lang), id="cameras-line-new", n_clicks=0, disabled=off),
            html.Button(t("cameras.line_side", lang), id="cameras-line-side", n_clicks=0, disabled=off),
            html.Button(t("cameras.line_delete", lang), id="cameras-line-delete", n_clicks=0, disabled=off),
        ], className="gw-filters"),
        html.Div([
            html.Label([t("cameras.line_name", lang), " ",
                        dcc.Input(id="cameras-line-name", type="text", maxLength=64, disabled=off)]),
            html.Label([t("cameras.line_classes", lang), " ",
                        dcc.Checklist(id="cameras-line-classes", options=classes, value=[], inline=True,
                                      className="gw-zone-check")]),
        ], id="cameras-line-form", hidden=True),
        html.Div(t("cameras.line_none", lang), id="cameras-line-none", hidden=True, className="gw-note"),
        # Written by the line script only (the hint of its current mode).
        html.Div(id="cameras-line-hint", className="gw-zone-hint"),
        # The line script's clientside callback needs an output of its own; nothing reads it.
        dcc.Store(id="cameras-lines-drawn"),
    ], id="cameras-lines")


def make_zone_form(lang: str, editable: bool, extra: html.Div | None = None) -> html.Div:
    """Zone picker, name, the drawing buttons, one row per rule kind, `extra` (the line form), save, JSON view."""
    off = not editable
    head = [t("cameras.zone_rule", lang), t("cameras.rule_seconds", lang), t("cameras.rule_people", lang),
            t("cameras.rule_auto", lang), t("cameras.rule_matter", lang)]
    return html.Div([
        html.Div([
            dcc.Dropdown(id="cameras-zone-pick", options=[], clearable=False, searchable=False,
                         placeholder=t("cameras.zone_pick", lang), className="gw-zone-pick"),
            html.Button(t("cameras.zone_new", lang), id="cameras-zone-new", n_clicks=0, disabled=off),
            html.Button(t("cameras.vertex_delete", lang), id="cameras-vertex-delete", n_clicks=0, disabled=off),
            html.Button(t("cameras.zone_delete", lang), id="cameras-zone-delete", n_clicks=0, disabled=off),
        ], className="gw-filters"),
        html.Div([
            html.Label([t("cameras.zone_name", lang), " ",
                        dcc.Input(id="cameras-zone-name", type="text", maxLength=64, disabled=off)]),
            html.H3(t("cameras.rules", lang)),
            html.Table([html.Thead(html.Tr([html.Th(h) for h in head])),
                        html.Tbody([_rule_row(k, lang, editable) for k in RULE_KINDS])],
                       className="gw-table gw-zone-rules"),
        ], id="cameras-zone-form", hidden=True),
        html.Div(t("cameras.zone_none", lang), id="cameras-zone-none", hidden=True, className="gw-note"),
        extra,
        html.Div([
            html.Button(t("cameras.zone_save", lang), id="cameras-zone-save", n_clicks=0, disabled=off),
            html.Button(t("cameras.zone_reset", lang), id="cameras-zone-reset", n_clicks=0, disabled=off),
        ], className="gw-actions"),
        html.Div(id="cameras-msg", className="gw-msg", role="status"),
        html.Details([
            html.Summary(t("cameras.json_view", lang)),
            dcc.Textarea(id="cameras-zones", style={"width": "100%", "height": "160px"}, readOnly=off),
            html.Button(t("cameras.json_apply", lang), id="cameras-json-apply", n_clicks=0, disabled=off),
        ], className="gw-zone-json"),
    ])
