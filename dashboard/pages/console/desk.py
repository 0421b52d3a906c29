"""The console's one-screen frame: tabs, queue tables with thumbnails, who holds a case, the key hints.

Part of the `/console` page (ids start with `console-`); page.py keeps the callbacks that act. The keys
themselves are read by assets/console-keys.js, which only clicks the rows and buttons made here, so a
keyboard action takes the same path (and the same transition function) as a mouse click.
"""

from __future__ import annotations

from pathlib import Path

import dash
from dash import ClientsideFunction, Input, Output, dcc, html

from dashboard.components import (IMAGE_EXT, fmt_time, make_badge, make_missing, make_table, matter_name, media_on_disk,
                                  media_url)
from dashboard.i18n import label, t

PAGE = "console"
# Tab order is the order of the number keys 1-5 (console-keys.js reads data-key).
TABS = ("verification", "incidents", "workload", "grid", "analysis")
COUNTED = ("verification", "incidents")


def make_tabs(lang: str) -> html.Div:
    """The tab bar; the two queues carry their row counts."""
    buttons = []
    for i, key in enumerate(TABS):
        children = [html.Kbd(str(i + 1)), " ", t(f"console.tab_{key}", lang)]
        if key in COUNTED:
            children += [" ", html.Span(id=f"console-tab-count-{key}", className="gw-tab-count")]
        buttons.append(html.Button(children, id=f"console-tab-{key}", n_clicks=0, type="button",
                                   className="gw-tab gw-tab-active" if key == TABS[0] else "gw-tab",
                                   role="tab", **{"data-key": str(i + 1)}))
    return html.Div(buttons, className="gw-tabs", role="tablist")


def make_pane(key: str, children) -> html.Div:
    """One tab's panel; only the active one is shown (the others stay in the page for their callbacks)."""
    return html.Div(children, id=f"console-pane-{key}", role="tabpanel",
                    className="gw-console-pane gw-active" if key == TABS[0] else "gw-console-pane")


def holder(row: dict, lang: str) -> str:
    """Who holds the case: the worker's name, else the queue it waits in (never a bare level)."""
    if row.get("worker"):
        return row["worker"]
    if row.get("worker_code"):
        return row["worker_code"]
    queue = row.get("queue")
    if not queue:
        return "—"
    key = "console.awaiting_verification" if queue == "verification" else "console.awaiting_dispatch"
    return t(key, lang, queue=label("queue", queue, lang))


def snapshot_of(media) -> str | None:
    """The first stored snapshot of a media list (foreign URLs are never loaded by a staff browser)."""
    return next((m for m in media or [] if isinstance(m, str) and "://" not in m
                 and m.lower().endswith(IMAGE_EXT)), None)


def make_thumb(media, lang: str, root: Path | None = None):
    """A small snapshot for a queue row, or a placeholder saying there is none, or that its file is missing."""
    snap = snapshot_of(media)
    if snap is None:
        return html.Span(t("console.no_snapshot", lang), className="gw-thumb gw-thumb-none")
    if not media_on_disk(root, snap):
        return make_missing(lang, "gw-thumb gw-thumb-none gw-media-missing")
    return html.Img(src=media_url(snap), alt="", title=t("console.snapshot", lang), className="gw-thumb")


def with_more(table: html.Table, rows: list[dict], width: int, lang: str) -> html.Table:
    """The table, with a last row "+N" when the query had more rows than it listed (the rest are reached with
    the filters); data-total carries the whole count for the tab's figure."""
    total = int(rows[0]["total"]) if rows else 0
    setattr(table, "data-total", total)  # a data-* prop: not a Python identifier
    if total > len(rows):
        more = t("console.more_rows", lang, n=total - len(rows), total=total)
        table.children = [*table.children, html.Tfoot(html.Tr(html.Td(more, colSpan=width, className="gw-more")))]
    return table


def verification_table(rows: list[dict], media: dict[str, list], lang: str, tz: str, *, root: Path | None = None):
    """The verification queue: thumbnail, priority, matter and camera, when, who holds it."""
    headers = [t("console.snapshot", lang), t("console.filter_priority", lang), t("field.matter", lang),
               t("console.reported_at", lang), t("console.worker", lang)]
    cells = [[make_thumb(media.get(r["id"]), lang, root), make_badge("priority", r["priority"], lang),
              html.Div([html.Div(matter_name(r, lang)), html.Div(r["camera_code"] or "", className="gw-muted")]),
              fmt_time(r["created_at"], tz, True), html.Span(holder(r, lang), className="gw-holder")]
             for r in rows]
    return with_more(make_table(PAGE, "verification", headers, cells, row_ids=[r["id"] for r in rows]), rows,
                     len(headers), lang)


def queue_table(rows: list[dict], lang: str, tz: str):
    """The incident queue: priority, matter, status, who holds it, deadline (red when overdue)."""
    headers = [t("console.filter_priority", lang), t("field.matter", lang), t("console.filter_status", lang),
               t("console.worker", lang), t("field.due", lang, at="")]
    cells = [[make_badge("priority", r["priority"], lang), matter_name(r, lang),
              make_badge("status", r["status"], lang), html.Span(holder(r, lang), className="gw-holder"),
              html.Span(fmt_time(r["due_at"], tz, True), className="gw-family-crime" if r["overdue"] else "")]
             for r in rows]
    return with_more(make_table(PAGE, "queue", headers, cells, row_ids=[r["id"] for r in rows]), rows,
                     len(headers), lang)


def make_key_hint(lang: str) -> html.Div:
    """The keys, always on screen under the actions."""
    return html.Div(t("console.keys", lang), id="console-keys", className="gw-console-keys")


def make_grid_changes(lang: str) -> list:
    """Move a base grid (picked on the map) and replace a sub-grid's worker, each with a preview."""
    return [
        html.H2(t("console.move_base", lang)),
        html.Div(t("console.pick_base", lang), id="console-base-label", className="gw-muted"),
        html.Div([
            dcc.Dropdown(id="console-move-target", placeholder=t("console.target_sub_grid", lang)),
            dcc.Input(id="console-move-reason", placeholder=t("console.reason", lang)),
            html.Button(t("console.preview", lang), id="console-move-preview", n_clicks=0, className="gw-secondary"),
            html.Button(t("console.confirm", lang), id="console-move-confirm", n_clicks=0),
        ], className="gw-filters"),
        html.Div(id="console-move-msg", className="gw-msg"),
        html.H2(t("console.replace", lang)),
        html.Div([
            dcc.Dropdown(id="console-replace-sub", placeholder=t("console.target_sub_grid", lang)),
            dcc.Dropdown(id="console-replace-role", value="primary", clearable=False,
                         options=[{"label": t("console.role_primary", lang), "value": "primary"},
                                  {"label": t("console.role_backup", lang), "value": "backup"}]),
            dcc.Dropdown(id="console-replace-worker", placeholder=t("console.worker", lang)),
            dcc.Input(id="console-replace-reason", placeholder=t("console.reason", lang)),
            html.Button(t("console.preview", lang), id="console-replace-preview", n_clicks=0,
                        className="gw-secondary"),
            html.Button(t("console.confirm", lang), id="console-replace-confirm", n_clicks=0),
        ], className="gw-filters"),
        html.Div(id="console-replace-msg", className="gw-msg"),
    ]


# Switching tabs and counting rows happen in the browser: nothing to ask the server.
dash.clientside_callback(
    ClientsideFunction("gwConsole", "tab"),
    [Output(f"console-pane-{k}", "className") for k in TABS] + [Output(f"console-tab-{k}", "className") for k in TABS],
    [Input(f"console-tab-{k}", "n_clicks") for k in TABS],
)
dash.clientside_callback(
    ClientsideFunction("gwConsole", "counts"),
    [Output(f"console-tab-count-{k}", "children") for k in COUNTED],
    [Input("console-verification", "children"), Input("console-queue", "children")],
)
