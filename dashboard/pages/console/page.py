"""/console: dispatchers and supervisors (scoped) verify, dispatch, escalate, close; move grids; workload."""

from __future__ import annotations

import logging
from datetime import datetime

import dash
import dash_leaflet as dl
import flask
import psycopg
from dash import ALL, Input, Output, State, ctx, dcc, html

from dashboard import access, basemap, context, data
from dashboard.pages.console import analysis as console_analysis
from dashboard.pages.console import desk
from dashboard.pages.console import recheck as console_recheck
from dashboard.pages.console import live as console_live
from dashboard.components import fmt_time, make_badge, make_evidence, make_history, make_table, matter_name
from dashboard.i18n import label, refused, t
from dashboard.maps import feature_collection, fn, make_map, points
from geodata import operations, wall_repo
from grid.lifecycle import Status
from grid.refusals import Refusal

dash.register_page(__name__, path="/console", title="Console", name="console")
PAGE = "console"
logger = logging.getLogger(__name__)
DESK_ACTIONS = ("verify", "dispatch", "redispatch", "escalate", "close", "reopen", "cancel")
# Keys shown on the buttons; assets/console-keys.js presses the buttons (V and Enter verify, X false alarm).
KEYS = {"verify": "V", "false_alarm": "X"}
# The newest alarms listed; the rest are counted ("+37"), so a storm never pushes the queues off screen.
ALARMS_SHOWN = 20
# "Acknowledge all" in a storm: at most this many alarms a click (the rest stay listed for the next one).
ACK_ALL_MAX = 5000
# Rows of each queue sent to the browser; the rest are counted ("+N") and reached with the filters.
QUEUE_ROWS = 200
FAMILIES = ("crime", "dispute", "hazard", "maintenance")
# Above this many sub-grids the workers' labels show only from street-level zoom (they would overlap).
DENSE_LABELS = 40
STATUSES = ("reported", "dispatched", "accepted", "in_progress", "resolved", "returned", "closed", "cancelled")


def _opts(prefix, values, lang):
    return [{"label": label(prefix, v, lang), "value": v} for v in values]


@context.page_layout(PAGE)
def layout(user, lang, **_query):
    """One screen: alarms and tabbed queues on the left, the selected case in the middle, the map on the right."""
    cfg = context.cfg()
    layers = [dl.GeoJSON(id="console-ground", data=basemap.ground(), style=fn("outlineStyle"), interactive=False),
              # Workers' names as permanent labels: who covers which sub-grid is read at a glance.
              dl.GeoJSON(id="console-subgrids", data=None, style=fn("subGridStyle"),
                         onEachFeature=fn("subGridLabel")),
              *console_analysis.make_layers(),
              dl.GeoJSON(id="console-basegrids", data=None, style=fn("baseGridStyle")),
              dl.GeoJSON(id="console-incident", data=None, pointToLayer=fn("fieldPoint")),
              console_live.make_layer(user, lang)]
    incidents = [
        html.Div([
            dcc.Dropdown(id="console-filter-status", options=_opts("status", STATUSES, lang),
                         placeholder=t("console.filter_status", lang), clearable=True),
            dcc.Dropdown(id="console-filter-family", options=_opts("family", FAMILIES, lang),
                         placeholder=t("console.filter_family", lang), clearable=True),
            dcc.Dropdown(id="console-filter-priority", options=_opts("priority", (1, 2, 3), lang),
                         placeholder=t("console.filter_priority", lang), clearable=True),
            dcc.Checklist(id="console-filter-overdue",
                          options=[{"label": t("console.filter_overdue", lang), "value": "overdue"}], value=[]),
        ], className="gw-filters"),
        html.Div(id="console-queue", className="gw-console-scroll"),
    ]
    actions = [html.Button([t(f"action.{a}", lang), *([" ", html.Kbd(KEYS[a])] if a in KEYS else [])],
                           id={"type": "console-action", "index": a}, n_clicks=0, type="button",
                           className="gw-danger" if a in ("cancel", "false_alarm") else "", **{"data-action": a})
               for a in DESK_ACTIONS + ("false_alarm",)]
    return html.Div([
        dcc.Store(id="console-selected"), dcc.Store(id="console-done", data=0),
        dcc.Store(id="console-base"), dcc.Interval(id="console-interval", interval=15_000),
        # The newest alarm the list showed: "acknowledge all" stops there, so an alarm that arrives
        # between the list and the click is never acknowledged unseen.
        dcc.Store(id="console-alarm-seen"),
        html.Div([
            html.Div([html.Div([html.H2(t("console.alarms", lang)),
                                html.Button(t("console.ack_all", lang, n=0), id="console-ack-all", n_clicks=0,
                                            type="button", disabled=True, className="gw-secondary")],
                               className="gw-console-alarmhead"),
                      html.Div(id="console-alarms", className="gw-console-scroll")],
                     className="gw-panel gw-console-alarmbox"),
            desk.make_tabs(lang),
            html.Div([
                desk.make_pane("verification", html.Div(id="console-verification", className="gw-console-scroll")),
                desk.make_pane("incidents", incidents),
                desk.make_pane("workload", html.Div(id="console-workload", className="gw-console-scroll")),
                desk.make_pane("grid", desk.make_grid_changes(lang)),
                desk.make_pane("analysis", console_analysis.make_panel(lang)),
            ], className="gw-panel gw-console-panes"),
        ], className="gw-console-left"),
        html.Div([
            html.Div(id="console-detail", children=t("console.select", lang), className="gw-console-detail"),
            html.Div([
                dcc.Dropdown(id="console-worker", placeholder=t("console.worker", lang)),
                dcc.Textarea(id="console-note", placeholder=t("console.note", lang), rows=1),
            ], className="gw-console-form"),
            html.Div(actions, className="gw-actions"),
            html.Div(id="console-msg", className="gw-msg"),
            desk.make_key_hint(lang),
        ], className="gw-panel gw-console-desk"),
        html.Div(make_map(PAGE, cfg, layers=layers, bounds=basemap.district_bounds()),
                 className="gw-panel gw-console-map"),
    ], id="console-root", className="gw-console")


@dash.callback(
    Output("console-verification", "children"), Output("console-queue", "children"),
    Output("console-alarms", "children"), Output("console-workload", "children"),
    Output("console-ack-all", "children"), Output("console-ack-all", "disabled"), Output("console-alarm-seen", "data"),
    Input("console-filter-status", "value"), Input("console-filter-family", "value"),
    Input("console-filter-priority", "value"), Input("console-filter-overdue", "value"),
    Input("console-interval", "n_intervals"), Input("console-done", "data"),
)
@access.guard(PAGE)
def console_refresh(status, family, priority, overdue, _tick, _done):
    """Both queues, the unacknowledged alarms and the workload, in the user's scope."""
    user, lang, tz = context.user(), context.lang(), context.cfg().timezone
    # The filters come from the browser: a value the dropdowns never offer is a 400 naming it, not a 500.
    if priority not in (None, "", 1, 2, 3, "1", "2", "3"):
        flask.abort(400, f"priority filter must be 1, 2 or 3, got {priority!r}")
    if status not in (None, "") and status not in {s.value for s in Status}:
        flask.abort(400, f"status filter {status!r} is not a status")
    if family not in (None, "") and not (isinstance(family, str) and family.isidentifier()):
        flask.abort(400, f"family filter {family!r} is not a family")
    with context.pool().connection() as conn:
        ver = data.queue(conn, user, verification=True, limit=QUEUE_ROWS)
        queue = data.queue(conn, user, verification=False, status=status, family=family, priority=priority,
                           overdue_only="overdue" in (overdue or []), limit=QUEUE_ROWS)
        alarms, alarm_total = wall_repo.alarms(conn, access.scope_filter(user), limit=ALARMS_SHOWN)
        load = data.workload(conn, user, tz)
        media = data.first_media(conn, [r["id"] for r in ver])
    alarm_list = html.Ul([html.Li([html.Span(fmt_time(a["created_at"], tz), className="gw-muted"), " ",
                                   matter_name(a, lang), " ", a["camera_code"] or "", " ",
                                   html.Button(t("action.acknowledge", lang), n_clicks=0, type="button",
                                               id={"type": "console-ack", "index": a["id"]})])
                          for a in alarms]
                         + ([html.Li(f"+{alarm_total - len(alarms)}", className="gw-more")]
                            if alarm_total > len(alarms) else [])
                         or [html.Li(t("console.empty", lang), className="gw-muted")],
                         className="gw-console-alarms")
    workload = make_table(PAGE, "workload", [t("console.worker", lang), t("console.workload_open", lang),
                                             t("console.workload_overdue", lang), t("console.workload_ontime", lang)],
                          [[r["name"], r["open"], r["overdue"], r["on_time_week"]] for r in load if r["open"] or
                           r["on_time_week"]])
    root = context.cfg().media_dir
    seen = alarms[0]["created_at"].isoformat() if alarms else None
    return (desk.verification_table(ver, media, lang, tz, root=root), desk.queue_table(queue, lang, tz), alarm_list,
            workload, t("console.ack_all", lang, n=alarm_total), not alarms, seen)


@dash.callback(
    Output("console-selected", "data"),
    Input({"type": "console-verification-row", "index": ALL}, "n_clicks"),
    Input({"type": "console-queue-row", "index": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
@access.guard(PAGE)
def console_select(_a, _b):
    """Remember the incident whose row was clicked."""
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        raise dash.exceptions.PreventUpdate
    return ctx.triggered_id["index"]


def _scoped_incident(conn, user, incident_id):
    row = data.incident(conn, incident_id) if incident_id else None
    if row is None or not access.in_scope(user, row["street_code"], row["community_code"]):
        return None
    return row


@dash.callback(
    Output("console-detail", "children"), Output("console-worker", "options"), Output("console-incident", "data"),
    Input("console-selected", "data"), Input("console-done", "data"),
)
@access.guard(PAGE)
def console_detail(incident_id, _done):
    """The selected incident: facts, snapshot and clip, history, and workers it can be dispatched to."""
    user, lang, tz = context.user(), context.lang(), context.cfg().timezone
    with context.pool().connection() as conn:
        row = _scoped_incident(conn, user, incident_id)
        if row is None:
            return t("console.select", lang), [], None
        events = data.incident_events(conn, incident_id)
        load = data.workload(conn, user, tz)
    names = {w["code"]: w["name"] for w in load}
    detail = html.Div([
        html.H2([matter_name(row, lang), " ", make_badge("status", row["status"], lang), " ",
                 make_badge("priority", row["priority"], lang), " ", label("level", row["level"], lang)]),
        html.Div(row["description"]),
        html.Div([f"{row['community_code'] or ''} · {row['sub_grid_code'] or ''} · {row['camera_code'] or ''}",
                  *console_live.detail_button(row["camera_code"], user, lang)]),
        html.Div([t("console.worker", lang), ": ",
                  html.Span(desk.holder({**row, "worker": names.get(row["worker_code"])}, lang),
                            id="console-detail-holder")]),
        console_recheck.with_after(make_evidence(PAGE, row["media"], lang, root=context.cfg().media_dir), events,
                                   lang, root=context.cfg().media_dir),
        html.H2(t("console.history", lang)), make_history(events, lang, tz),
    ], id="console-detail-body", **{"data-incident": row["id"]})  # console-keys.js acts only on what is shown
    options = [{"label": f"{w['name']} ({w['open']})", "value": w["code"]} for w in load]
    fc = points([row], context.display(), lambda r: {"id": r["id"]})
    return detail, options, fc


@dash.callback(
    Output("console-msg", "children"), Output("console-done", "data"),
    Input({"type": "console-action", "index": ALL}, "n_clicks"),
    Input({"type": "console-ack", "index": ALL}, "n_clicks"), Input("console-ack-all", "n_clicks"),
    State("console-selected", "data"), State("console-note", "value"), State("console-worker", "value"),
    State("console-done", "data"), State("console-alarm-seen", "data"),
    prevent_initial_call=True,
)
@access.guard(PAGE)
def console_act(_actions, _acks, _ack_all, incident_id, note, worker, done, seen):
    """Run a desk action through the one transition function, or acknowledge one alarm or all of them."""
    from geodata.transitions import IncidentNotFound, apply_transition, publish_result

    if not ctx.triggered or not ctx.triggered[0]["value"]:
        raise dash.exceptions.PreventUpdate
    user, lang = context.user(), context.lang()
    trig = ctx.triggered_id
    if trig == "console-ack-all":
        return acknowledge_all(user, lang, seen), (done or 0) + 1
    with context.pool().connection() as conn:
        if trig["type"] == "console-ack":
            row = _scoped_incident(conn, user, trig["index"])
            if row is None:
                return t("console.out_of_scope", lang), done
            # The wall's own record of acknowledgements: it stops showing and sounding the alarm at its next poll.
            wall_repo.acknowledge_alarms(conn, [trig["index"]], user.username, user.role)
            return t("console.done", lang, action=t("action.acknowledge", lang)), (done or 0) + 1
        action = shown = trig["index"]
        if action == "false_alarm":
            # A cancel whose reason is already known: one key (X) is enough, the note adds detail.
            action = "cancel"
            note = t("console.false_alarm_note", lang) + (f": {note.strip()}" if (note or "").strip() else "")
        elif action not in DESK_ACTIONS:
            raise dash.exceptions.PreventUpdate
        if _scoped_incident(conn, user, incident_id) is None:
            return t("console.select", lang), done
        target = worker if action in ("dispatch", "redispatch", "verify") and worker else None
        try:
            result = apply_transition(conn, incident_id, action, user.username, user.role, note=note or None,
                                      target_worker=target, scope=None if user.district_wide else user.scope_code)
            conn.commit()
        except (Refusal, IncidentNotFound, psycopg.Error) as exc:
            conn.rollback()
            return failure(exc, lang), done
    publish_result(context.redis_client(), result)
    return t("console.done", lang, action=label("action", shown, lang)), (done or 0) + 1


@dash.callback(
    Output("console-subgrids", "data"), Output("console-replace-sub", "options"),
    Output("console-replace-worker", "options"),
    Input("console-done", "data"),
)
@access.guard(PAGE)
def console_map(_done):
    """Sub-grids in scope labelled with their workers' names, and the lists of the replace form."""
    user = context.user()
    disp = context.display()
    with context.pool().connection() as conn:
        rows = data.sub_grids(conn, user)
        counts = data.open_by_sub_grid(conn)
        load = data.workload(conn, user, context.cfg().timezone)
    dense = len(rows) > DENSE_LABELS
    fc = feature_collection(rows, "geojson", disp, lambda r: {
        "code": r["code"], "open": counts.get(r["code"], {}).get("open", 0), "dense": dense,
        "workers": r["workers"] or "—", "tooltip": f"{r['name']}: {r['workers'] or '—'}"})
    subs = [{"label": f"{r['name']} ({r['workers'] or '—'})", "value": r["code"]} for r in rows]
    workers = [{"label": f"{w['name']} ({w['code']})", "value": w["code"]} for w in load]
    return fc, subs, workers


@dash.callback(
    Output("console-base", "data"), Output("console-base-label", "children"),
    Output("console-move-target", "options"), Output("console-basegrids", "data"),
    Input("console-map", "clickData"), Input("console-done", "data"),
    prevent_initial_call=True,
)
@access.guard(PAGE)
def console_pick_base(click, _done):
    """The base grid under a map click (in scope), its community's base grids and sub-grids; redrawn after a move."""
    user, lang = context.user(), context.lang()
    if not click or "latlng" not in click:
        raise dash.exceptions.PreventUpdate
    lat, lon = click["latlng"]["lat"], click["latlng"]["lng"]
    lon, lat = context.display().to_wgs84(lon, lat)
    with context.pool().connection() as conn:
        base = data.base_grid_at(conn, lon, lat)
        if base is None or not access.in_scope(user, base["street_code"], base["community_code"]):
            return None, t("console.out_of_scope", lang), [], None
        subs = data.sub_grids_of_community(conn, base["community_code"])
        bases = data.base_grids_of_community(conn, base["community_code"])
    fc = feature_collection(bases, "geojson", context.display(), lambda r: {
        "code": r["code"], "selected": r["code"] == base["code"], "tooltip": f"{r['name']} · {r['sub_grid_code']}"})
    opts = [{"label": s["name"], "value": s["code"]} for s in subs if s["code"] != base["sub_grid_code"]]
    return base, f"{t('console.base_grid', lang)}: {base['name']} ({base['code']}) · {base['sub_grid_code']}", opts, fc


@dash.callback(
    Output("console-move-msg", "children"), Output("console-done", "data", allow_duplicate=True),
    Input("console-move-preview", "n_clicks"), Input("console-move-confirm", "n_clicks"),
    State("console-base", "data"), State("console-move-target", "value"), State("console-move-reason", "value"),
    State("console-done", "data"),
    prevent_initial_call=True,
)
@access.guard(PAGE)
def console_move(_p, _c, base, target, reason, done):
    """Preview a base grid's move with geodata.operations (incidents that follow, workload), then confirm it."""
    user, lang = context.user(), context.lang()
    if not base or not target:
        return t("console.select", lang), done
    if not access.in_scope(user, base["street_code"], base["community_code"]):
        return t("console.out_of_scope", lang), done
    confirm = ctx.triggered_id == "console-move-confirm"
    if confirm and not (reason or "").strip():
        return t("console.need_reason", lang), done
    with context.pool().connection() as conn:
        try:
            op = operator(conn, user)
            plan = operations.move_base_grid(conn, op, base["code"], target, preview=True).plan
            if not confirm:
                return plan_view(plan, lang), done
            outcome = operations.move_base_grid(conn, op, base["code"], target, reason=reason.strip(),
                                                live=context.redis_client())
        except (Refusal, psycopg.Error) as exc:
            conn.rollback()
            return failure(exc, lang), done
    context.cache().clear()
    return html.Div([t("console.moved", lang, base=base["code"], dst=target),
                     plan_view(outcome.plan, lang)]), (done or 0) + 1


def acknowledge_all(user, lang: str, seen) -> str:
    """Acknowledge every alarm in the user's scope up to the newest one their list showed (`seen`)."""
    try:
        upto = datetime.fromisoformat(seen) if isinstance(seen, str) and len(seen) <= 40 else None
    except ValueError:
        upto = None
    if upto is None or upto.tzinfo is None:
        # The time comes back from the browser: anything but the ISO time the list sent is refused by name.
        flask.abort(400, f"acknowledge all: the newest alarm shown must be an ISO 8601 time with offset, got {seen!r}")
    with context.pool().connection() as conn:
        # The wall's own query, in the user's scope: the scope is applied here, never taken from the browser.
        alarms, _total = wall_repo.alarms(conn, access.scope_filter(user), limit=ACK_ALL_MAX)
        ids = [a["id"] for a in alarms if a["created_at"] <= upto]
        done = wall_repo.acknowledge_alarms(conn, ids, user.username, user.role) if ids else []
    logger.info("alarms acknowledged at once", extra={"actor": user.username, "count": len(done)})
    return t("console.acked_all", lang, n=len(done))


def failure(exc: Exception, lang: str) -> str:
    """What the console says when an action or operation fails: refusals in the user's language, never English."""
    if isinstance(exc, Refusal):
        return refused(exc, lang)
    # A vanished incident or a database failure: the English detail is for the log, not the desk.
    logger.warning("console action failed: %s", exc)
    return t("api.no_incident" if isinstance(exc, LookupError) else "error.generic", lang)


def operator(conn, user):
    """The acting account as geodata.operations sees it, read from app_user (disabled accounts refused)."""
    # Its own transaction, so the operation that follows starts (and commits) one of its own.
    with conn.transaction():
        return operations.load_operator(conn, user.username)


def plan_view(plan, lang):
    """An operation's plan: the open incidents that move (from -> to) and each worker's workload before/after."""
    moves = [html.Li(f"{m.incident_id[:8]} · {label('status', m.status, lang)} · "
                     f"{m.from_worker or '—'} → {m.to_worker or label('queue', m.to_queue, lang)}"
                     + ("" if m.redispatch else f" ({t('console.relabel', lang)})"))
             for m in plan.moves]
    load = [html.Li(f"{w}: {b} → {a}") for w, (b, a) in sorted(plan.workload.items())]
    return html.Div([
        html.Div(t("console.plan_moves", lang, n=len(plan.moves), r=sum(m.redispatch for m in plan.moves))),
        html.Ul(moves, className="gw-plan-moves"),
        html.Div(t("console.plan_workload", lang)), html.Ul(load or [html.Li("—")], className="gw-plan-load"),
    ], className="gw-plan")


@dash.callback(
    Output("console-replace-msg", "children"), Output("console-done", "data", allow_duplicate=True),
    Input("console-replace-preview", "n_clicks"), Input("console-replace-confirm", "n_clicks"),
    State("console-replace-sub", "value"), State("console-replace-role", "value"),
    State("console-replace-worker", "value"), State("console-replace-reason", "value"), State("console-done", "data"),
    prevent_initial_call=True,
)
@access.guard(PAGE)
def console_replace(_p, _c, sub, role, worker, reason, done):
    """Preview, then make a worker the primary or backup of a sub-grid in scope through geodata.operations."""
    user, lang = context.user(), context.lang()
    if not sub or not worker or role not in ("primary", "backup"):
        return t("console.select", lang), done
    if not access.in_scope(user, sub[:9], sub[:12]):
        return t("console.out_of_scope", lang), done
    confirm = ctx.triggered_id == "console-replace-confirm"
    if confirm and not (reason or "").strip():
        return t("console.need_reason", lang), done
    with context.pool().connection() as conn:
        try:
            op = operator(conn, user)
            plan = operations.assign_grid_worker(conn, op, sub, worker, backup=role == "backup", preview=True).plan
            if not confirm:
                return plan_view(plan, lang), done
            outcome = operations.assign_grid_worker(conn, op, sub, worker, backup=role == "backup",
                                               reason=reason.strip(), live=context.redis_client())
        except (Refusal, psycopg.Error) as exc:
            conn.rollback()
            return failure(exc, lang), done
    context.cache().clear()
    return html.Div([t("console.replaced", lang, sub=sub, role=t(f"console.role_{role}", lang), worker=worker),
                     plan_view(outcome.plan, lang)]), (done or 0) + 1
