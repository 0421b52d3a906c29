"""The console's analysis panel (分析研判): hot-spot and emerging layers per family, warnings, red/black lists.

Part of the `/console` page (ids start with `console-`, so access.py's page table covers them); kept
apart from pages/console.py only to keep that file small. A warning becomes a case through
`geodata.warning_cases.make_case` (the incident stream, like every new case), as the logged-in user.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import dash
import dash_leaflet as dl
import flask
import psycopg
import redis
from dash import ALL, Input, Output, State, ctx, dcc, html

from dashboard import access, analysis_view, context, data, numbers
from dashboard.components import matter_name
from dashboard.i18n import label, refused, t
from dashboard.maps import fn
from geodata import analysis_repo
from geodata.bus import publish_live
from geodata.warning_cases import CaseError, make_case, warning_message

logger = logging.getLogger(__name__)
PAGE = "console"


def make_layers() -> list:
    """The two analysis layers of the console map (under the base grids, so clicks still pick those)."""
    # Between the sub-grid shading (overlay pane, 400) and the base grids the user clicks (a higher pane).
    return [dl.Pane([dl.GeoJSON(id="console-hotspots", data=None, style=fn("hotspotStyle"), interactive=False),
                     dl.GeoJSON(id="console-emerging", data=None, style=fn("emergingStyle"), interactive=False)],
                    name="console-analysis-pane", style={"zIndex": 450})]


def make_panel(lang: str) -> html.Div:
    """Family and lattice switches, legend, open warnings with their actions, red/black lists."""
    def matters():
        with context.pool().connection() as conn:
            return data.matters(conn)
    opts = [{"label": matter_name({"matter": m["name"], "matter_en": m["name_en"]}, lang), "value": m["code"]}
            for m in context.cache().get("matters", matters)]
    return html.Div([
        html.H2(t("analysis.title", lang)),
        dcc.Store(id="console-analysis-done", data=0),
        html.Div([
            dcc.Dropdown(id="console-analysis-family", value="crime", clearable=False,
                         options=[{"label": label("family", f, lang), "value": f} for f in analysis_view.FAMILIES]),
            dcc.Dropdown(id="console-analysis-lattice", value="square200", clearable=False,
                         options=[{"label": t(f"analysis.lattice.{v}", lang), "value": v}
                                  for v in analysis_view.LATTICES]),
            html.Span(id="console-analysis-at", className="gw-muted"),
        ], className="gw-filters"),
        html.Div(id="console-legend"),
        html.H2(t("analysis.warnings", lang)),
        dcc.Dropdown(id="console-warning-matter", options=opts, placeholder=t("analysis.case_matter", lang)),
        html.Div(id="console-warnings", className="gw-scroll"),
        html.Div(id="console-warning-msg", className="gw-msg"),
        html.H2(t("analysis.redblack", lang)),
        html.Div(id="console-redblack"),
    ], className="gw-panel", id="console-analysis")


@dash.callback(
    Output("console-hotspots", "data"), Output("console-emerging", "data"), Output("console-legend", "children"),
    Output("console-analysis-at", "children"), Output("console-warnings", "children"),
    Output("console-redblack", "children"),
    Input("console-analysis-family", "value"), Input("console-analysis-lattice", "value"),
    Input("console-analysis-done", "data"), Input("console-interval", "n_intervals"),
)
@access.guard(PAGE)
def console_analysis(family, lattice, _done, _tick):
    """The analysis layers of one family and lattice, the open warnings and the ranking, in scope."""
    user, lang = context.user(), context.lang()
    tz, disp = context.cfg().timezone, context.display()
    family = family if family in analysis_view.FAMILIES else "crime"
    lattice = lattice if lattice in analysis_view.LATTICES else "square200"
    with context.pool().connection() as conn:
        hot, classes = analysis_view.hotspot_layer(conn, user, disp, family, lattice)
        emerging, patterns = analysis_view.emerging_layer(conn, user, disp, family, lattice)
        warnings = analysis_view.open_warnings(conn, user)
        ranks = {lvl: analysis_view.red_black(conn, user, lvl, n=5) for lvl in ("street", "community")}
        when = analysis_view.computed_label(conn, lang, tz)
    return (hot, emerging, analysis_view.make_legend(PAGE, classes, patterns, lang), when,
            analysis_view.make_warning_list(PAGE, warnings, lang, tz, actions=True),
            analysis_view.make_red_black(PAGE, ranks, lang))


def _scoped_warning(conn, user, warning_id) -> dict | None:
    return next((w for w in analysis_view.open_warnings(conn, user, limit=500) if w["id"] == warning_id), None)


@dash.callback(
    Output("console-warning-msg", "children"), Output("console-analysis-done", "data"),
    Input({"type": "console-warning-case", "index": ALL}, "n_clicks"),
    Input({"type": "console-warning-dismiss", "index": ALL}, "n_clicks"),
    State("console-warning-matter", "value"), State("console-analysis-done", "data"),
    prevent_initial_call=True,
)
@access.guard(PAGE)
def console_warning_act(_cases, _dismisses, matter, done):
    """Turn an open warning of the user's area into a case (the incident stream), or dismiss it."""
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        raise dash.exceptions.PreventUpdate
    user, lang = context.user(), context.lang()
    trig = ctx.triggered_id
    try:
        # The pattern id comes from the browser: ASCII digits only, and a 400 naming it, not a 500.
        wid = numbers.integer(trig["index"], "warning id")
    except numbers.BadNumber as exc:
        flask.abort(400, str(exc))
    rds = context.redis_client()
    with context.pool().connection() as conn:
        w = _scoped_warning(conn, user, wid)
        conn.rollback()  # the read above opened a transaction; make_case needs an idle connection
        if w is None:
            return t("console.out_of_scope", lang), done
        if trig["type"] == "console-warning-dismiss":
            with conn.transaction():
                ok = analysis_repo.dismiss_warning(conn, wid, user.username, datetime.now(UTC))
            if not ok:
                return t("analysis.case_error", lang, why=wid), (done or 0) + 1
            _publish(rds, [warning_message({**w, "status": "dismissed"})])
            logger.info("warning %s dismissed by %s", wid, user.username)
            return t("analysis.dismissed", lang, id=wid), (done or 0) + 1
        # make_case commits its own transaction (the XADD happens inside it): autocommit for its duration.
        conn.autocommit = True
        try:
            msg = make_case(conn, rds, wid, user.username, matter=None if w["matter_code"] else matter)
        except CaseError as exc:
            return refused(exc, lang), (done or 0) + 1
        except (psycopg.Error, redis.RedisError) as exc:
            # The server's own trouble: the log gets the detail, the desk a sentence it can read.
            logger.warning("warning %s: making a case failed: %s", wid, exc)
            return t("analysis.case_error", lang, why=t("error.generic", lang)), (done or 0) + 1
        finally:
            conn.autocommit = False
    return t("analysis.case_made", lang, id=wid, event=str(msg.event_id)[:8]), (done or 0) + 1


def _publish(rds, messages) -> None:
    # The status change is committed; a Redis failure only delays the walls until their next refresh.
    try:
        publish_live(rds, messages)
    except redis.RedisError as exc:
        logger.warning("live publish of a warning change failed: %s", exc)
