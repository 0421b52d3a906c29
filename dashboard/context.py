"""Per-request access to what create_app put on the Flask server: config, pool, Redis, user, language."""

from __future__ import annotations

import flask

from dashboard import access, auth


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
