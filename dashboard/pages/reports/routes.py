"""Routes of /reports: the CSV download and the printable period report (HTML for A4)."""

from __future__ import annotations

import logging

import flask

from dashboard import access, auth
from dashboard.pages.reports import data as reports_data
from dashboard.pages.reports import printed

logger = logging.getLogger(__name__)
bp = flask.Blueprint("reports", __name__)


def _args():
    # The page passes what it shows; a bad period is a client error, not a server one.
    args = flask.request.args
    level = args.get("level") or "street"
    if level not in reports_data.LEVELS:
        flask.abort(400, f"level must be one of {reports_data.LEVELS}")
    try:
        return reports_data.period(args.get("from"), args.get("to")), level
    except ValueError as exc:
        flask.abort(400, str(exc))


@bp.route("/reports/csv")
@access.route_guard("/reports/csv")
def reports_csv():
    """Indicators and red/black lists of a period and level as CSV, inside the user's area."""
    p, level = _args()
    user = access.current_user()
    with flask.current_app.config["GRIDWATCH_POOL"].connection() as conn:
        table = reports_data.indicators(conn, user, p, level)
    body = reports_data.csv_bytes(table, reports_data.ranking(table, level), auth.lang())
    name = f"gridwatch-{level}-{p.label().replace(' – ', '_')}.csv"
    logger.info("%s downloaded %s", user.username, name)
    return flask.Response(body, mimetype="text/csv; charset=utf-8",
                          headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/reports/print")
@access.route_guard("/reports/print")
def reports_print():
    """The printable period report (the district's, or the supervisor's own area)."""
    p, _level = _args()
    user = access.current_user()
    with flask.current_app.config["GRIDWATCH_POOL"].connection() as conn:
        page = printed.print_html(conn, user, p)
    return flask.Response(page, mimetype="text/html; charset=utf-8")
