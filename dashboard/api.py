"""The tablet API for API clients: a bearer token instead of a browser session.

`POST /api/v1/token` (username, password) gives a token valid for 12 hours; every other route takes
`Authorization: Bearer TOKEN` and serves the same operations as the tablet page's own routes
(dashboard/routes.py), with the same role checks. Tokens live in Redis under their SHA-256, so a
leaked Redis dump does not leak usable tokens. No cookies are involved, so no CSRF check applies.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets

import flask

from dashboard import auth, routes
from geodata import users

logger = logging.getLogger(__name__)

bp = flask.Blueprint("api", __name__, url_prefix="/api/v1")
TOKEN_TTL_S = 12 * 3600
_KEY = "gridwatch:api:token:"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _refuse(status: int, message: str):
    resp = flask.jsonify({"ok": False, "error": message})
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="gridwatch"'
    return resp


def bearer_user() -> dict | None:
    """The account behind this request's bearer token, or None."""
    header = flask.request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = header[len("Bearer "):].strip()
    if not token or len(token) > 200:
        return None
    raw = flask.current_app.config["GRIDWATCH_REDIS"].get(_KEY + _hash(token))
    return json.loads(raw) if raw else None


@bp.before_request
def _authenticate():
    """Every route but /token needs a valid bearer token."""
    if flask.request.endpoint == "api.token":
        return None
    user = bearer_user()
    if user is None:
        return _refuse(401, "a valid bearer token is required: POST /api/v1/token first")
    flask.g.api_user = user
    return None


@bp.route("/token", methods=["POST"])
def token():
    """Exchange a username and password for a bearer token (rate-limited like the login page)."""
    body = flask.request.get_json(silent=True) or flask.request.form
    username = (body.get("username") or "").strip()
    password = body.get("password") or ""
    if not username or not password:
        return _refuse(400, "username and password are required")
    r = flask.current_app.config["GRIDWATCH_REDIS"]
    if auth.rate_limited(r, username):
        return _refuse(429, "too many failed attempts; wait and try again")
    with flask.current_app.config["GRIDWATCH_POOL"].connection() as conn:
        user = users.verify_user(conn, username, password)
    if user is None:
        auth.note_failure(r, username)
        return _refuse(401, "wrong username or password")
    auth.clear_failures(r, username)
    plain = secrets.token_urlsafe(32)
    session = {"username": user.username, "role": user.role, "scope": user.scope_code, "worker": user.worker_code}
    r.set(_KEY + _hash(plain), json.dumps(session), ex=TOKEN_TTL_S)
    logger.info("API token issued to %s (%s)", user.username, user.role)
    return flask.jsonify({"ok": True, "token": plain, "token_type": "Bearer", "expires_in": TOKEN_TTL_S,
                          "role": user.role})


@bp.route("/token", methods=["DELETE"])
def revoke():
    """Revoke the token this request carries."""
    header = flask.request.headers.get("Authorization", "")
    flask.current_app.config["GRIDWATCH_REDIS"].delete(_KEY + _hash(header[len("Bearer "):].strip()))
    return flask.jsonify({"ok": True})


# The tablet's operations, same views and role checks as the page's routes.
bp.add_url_rule("/tasks", "tasks", routes.field_tasks, methods=["GET"])
bp.add_url_rule("/tasks/<incident_id>", "task", routes.field_task, methods=["GET"])
bp.add_url_rule("/reports", "report", routes.field_report, methods=["POST"])
bp.add_url_rule("/actions", "action", routes.field_action, methods=["POST"])
bp.add_url_rule("/duty", "duty", routes.field_duty, methods=["POST"])
