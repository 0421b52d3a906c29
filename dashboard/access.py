"""Who may see what: the role table of pages, callbacks and routes, and supervisors' scopes.

Every page layout, Dash callback and Flask route asks this module, on the server. Tests read the
same tables and call everything as every role to check the answers.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import flask

from geodata import users

logger = logging.getLogger(__name__)

ROLES = ("dispatcher", "supervisor", "grid_worker", "maintenance", "wall", "admin")

# Pages (and hence their callbacks, whose component ids start with the page name).
PAGE_ROLES: dict[str, frozenset[str]] = {
    "home": frozenset(ROLES),
    "wall": frozenset({"wall", "dispatcher", "supervisor", "admin"}),
    "console": frozenset({"dispatcher", "supervisor", "admin"}),
    "field": frozenset({"grid_worker"}),
    "cameras": frozenset({"maintenance", "dispatcher", "admin"}),
    "reports": frozenset({"dispatcher", "supervisor", "admin"}),
}
PAGE_PATHS: dict[str, str] = {"home": "/", "wall": "/wall", "console": "/console", "field": "/field",
                              "cameras": "/cameras", "reports": "/reports"}
# Where each role lands after logging in.
LANDING: dict[str, str] = {"wall": "/wall", "dispatcher": "/console", "supervisor": "/console",
                           "grid_worker": "/field", "maintenance": "/cameras", "admin": "/wall"}

PUBLIC = None  # a route anyone may call, logged in or not
ANY_USER = frozenset(ROLES)
# A camera's live view (dashboard/camera_live.py): people who verify and repair, supervisors only for
# cameras of their area (camera_visible); not the wall, whose screen anyone in the room reads, nor grid workers.
LIVE_VIEW_ROLES = frozenset({"dispatcher", "supervisor", "maintenance", "admin"})
# Flask routes of the dashboard (not Dash's own): rule -> roles (PUBLIC: no login needed).
ROUTE_ROLES: dict[str, frozenset[str] | None] = {
    "/login": PUBLIC,
    "/healthz": PUBLIC,
    "/field-sw.js": PUBLIC,
    "/logout": ANY_USER,
    "/lang/<lang_code>": ANY_USER,
    "/live": frozenset({"wall", "dispatcher", "supervisor", "admin", "grid_worker", "maintenance"}),
    "/media/<path:name>": frozenset({"dispatcher", "supervisor", "maintenance", "admin", "grid_worker"}),
    "/cameras/<code>/live": LIVE_VIEW_ROLES,
    "/cameras/<code>/live/status": LIVE_VIEW_ROLES,
    "/field/api/tasks": PAGE_ROLES["field"],
    "/field/api/task/<incident_id>": PAGE_ROLES["field"],
    "/field/api/report": PAGE_ROLES["field"],
    "/field/api/action": PAGE_ROLES["field"],
    "/field/api/duty": PAGE_ROLES["field"],
    "/field/api/nearby": PAGE_ROLES["field"],
    "/reports/csv": PAGE_ROLES["reports"],
    "/reports/print": PAGE_ROLES["reports"],
}
# Machine APIs on the same server (Open311 with api_key, the tablet API with a bearer token): their
# blueprints authenticate each request themselves and never read the browser session, so neither the
# login redirect nor the session CSRF check applies to them.
API_PREFIXES = ("/open311/", "/api/")
# Dash's own routes: the layout, dependencies and callbacks need a login; static bundles do not.
DASH_LOGIN_PREFIXES = ("/_dash-layout", "/_dash-dependencies", "/_dash-update-component")
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico", "/_reload-hash")


@dataclass(frozen=True)
class SessionUser:
    """The logged-in account as app_user holds it now (read on every request)."""

    username: str
    role: str
    scope_code: str | None = None
    worker_code: str | None = None
    id: int | None = None

    @property
    def district_wide(self) -> bool:
        """True when the account sees the whole district (no street or community scope)."""
        return self.role != "supervisor" or not self.scope_code or len(self.scope_code) <= 6


def account(user_id) -> SessionUser | None:
    """The enabled account with this id as stored now (role and scope included), or None."""
    # One primary-key query a request: a disabled account, a new role or scope counts at once.
    with flask.current_app.config["GRIDWATCH_POOL"].connection() as conn:
        u = users.user_by_id(conn, int(user_id))
    if u is None or u.disabled:
        return None
    return SessionUser(u.username, u.role, u.scope_code, u.worker_code, u.id)


def current_user() -> SessionUser | None:
    """The account of this request: its bearer token (API clients) or its session, or None.

    Read once a request. A session whose account is gone or disabled is ended on the spot.
    """
    if "gw_user" in flask.g:
        return flask.g.gw_user
    # Set by dashboard/api.py for /api/v1 requests; those never read the browser session.
    user = flask.g.get("api_user")
    if user is None and flask.session.get("user_id") is not None:
        user = account(flask.session["user_id"])
        if user is None:
            logger.warning("session of %s ended: the account is disabled or gone", flask.session.get("username"))
            flask.session.end()
    flask.g.gw_user = user
    return user


def may_open(role: str | None, page: str) -> bool:
    """True when `role` may see `page` (and call its callbacks)."""
    return role is not None and role in PAGE_ROLES.get(page, frozenset())


def page_of_path(path: str) -> str | None:
    """The page whose URL is `path`, or None."""
    path = path.rstrip("/") or "/"
    for page, p in PAGE_PATHS.items():
        if p == path:
            return page
    return None


def scope_filter(user: SessionUser) -> dict[str, str | None]:
    """SQL parameters limiting rows to the user's area: street and community (None: no limit)."""
    if user.district_wide:
        return {"scope_street": None, "scope_community": None}
    code = user.scope_code
    if len(code) == 9:
        return {"scope_street": code, "scope_community": None}
    return {"scope_street": code[:9], "scope_community": code}


def in_scope(user: SessionUser, street_code: str | None, community_code: str | None) -> bool:
    """True when a row of this street and community lies in the user's area."""
    f = scope_filter(user)
    if f["scope_street"] and street_code != f["scope_street"]:
        return False
    if f["scope_community"] and community_code != f["scope_community"]:
        return False
    return True


def camera_visible(user: SessionUser, street_code: str | None, community_code: str | None) -> bool:
    """True when the user may watch a camera standing in this street and community (supervisors: their area)."""
    return user.role in LIVE_VIEW_ROLES and in_scope(user, street_code, community_code)


def live_visible(user: SessionUser, msg: dict) -> bool:
    """Whether a live-feed message may go to this user (scope for supervisors, own tasks for workers)."""
    if user.role in ("wall", "dispatcher", "admin"):
        return True
    kind = msg.get("type")
    if user.role == "maintenance":
        return kind == "camera" or msg.get("family") == "maintenance"
    if user.role == "grid_worker":
        return kind in ("incident", "warning") and msg.get("worker_code") == user.worker_code
    if kind in ("incident", "warning", "early_warning", "worker"):
        # A worker's position carries its community, added by the relay (dashboard/live.py); a worker
        # the relay does not know yet has none and is shown to district-wide users only.
        return in_scope(user, msg.get("street_code"), msg.get("community_code"))
    # `analysis` only says that new results exist; each user then reads its own area's.
    return kind in ("camera", "analysis")



def guard(page: str):
    """Decorate a Dash callback of `page`: 401 without login, 403 for a role the table refuses."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            user = current_user()
            if user is None:
                flask.abort(401)
            if not may_open(user.role, page):
                logger.warning("refused callback %s of %s to %s (%s)", fn.__name__, page, user.username, user.role)
                flask.abort(403)
            return fn(*args, **kwargs)

        inner.gridwatch_page = page
        return inner

    return wrap


def route_guard(rule: str):
    """Decorate a Flask view with the roles of ROUTE_ROLES[rule]."""
    roles = ROUTE_ROLES[rule]

    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            if roles is not PUBLIC:
                user = current_user()
                if user is None:
                    flask.abort(401)
                if user.role not in roles:
                    logger.warning("refused route %s to %s (%s)", rule, user.username, user.role)
                    flask.abort(403)
            return fn(*args, **kwargs)

        return inner

    return wrap
