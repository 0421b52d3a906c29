"""Per-request access to what create_app put on the Flask server: config, pool, Redis, user, language."""

from __future__ import annotations

import functools

import flask
from dash import html

from dashboard import access, auth
from dashboard.i18n import t


def cfg():
    """The DashboardConfig of this app."""
    return flask.current_app.config["GRIDWATCH"]


def pool():
    """The psycopg connection pool (rows are dicts)."""
    return flask.current_app.config["GRIDWATCH_POOL"]


def redis_client():
    """The Redis client of this app."""
    return flask.current_app.config["GRIDWATCH_REDIS"]


def display():
    """The Display turning WGS84 into the basemap's coordinates."""
    return flask.current_app.config["GRIDWATCH_DISPLAY"]


def cache():
    """The app's TTLCache for slow-changing read models."""
    return flask.current_app.config["GRIDWATCH_CACHE"]


def user() -> access.SessionUser:
    """The logged-in user (guards have already refused anonymous requests)."""
    u = access.current_user()
    if u is None:
        flask.abort(401)
    return u


def lang() -> str:
    """The language of this request."""
    return auth.lang()


def page_layout(page: str):
    """Decorate a page's ``build(user, lang, **query)`` into its Dash ``layout``, behind the page's role check.

    Every page opens the same way: the signed-in user, their language, and the forbidden notice for a
    role that may not open the page (the route guard has already refused anonymous requests).
    """
    def wrap(build):
        @functools.wraps(build)
        def layout(**query):
            who, language = user(), lang()
            if not access.may_open(who.role, page):
                return html.Div(t("app.forbidden", language), className="gw-forbidden")
            return build(who, language, **query)
        return layout
    return wrap
