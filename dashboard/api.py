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

from dashboard import access, login_limit, routes
from geodata import users

logger = logging.getLogger(__name__)

bp = flask.Blueprint("api", __name__, url_prefix="/api/v1")
TOKEN_TTL_S = 12 * 3600
_KEY = "gridwatch:api:token:"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _refuse(status: int, message: str, code: str):
    # The tablet door's error body: a sentence and a stable code (dashboard/doors.py).
    resp = flask.jsonify({"ok": False, "error": message, "code": code})
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="gridwatch"'
    return resp


def bearer_user() -> access.SessionUser | None:
    """The account behind this request's bearer token as app_user holds it now, or None.

    A token of an account that is disabled or gone is deleted on the spot: re-enabling the account
    does not bring it back.
    """
    header = flask.request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token = header[len("Bearer "):].strip()
    if not token or len(token) > 200:
        return None
    r = flask.current_app.config["GRIDWATCH_REDIS"]
    raw = r.get(_KEY + _hash(token))
    if not raw:
        return None
    record = json.loads(raw)
    user = access.account(record["user_id"]) if record.get("user_id") is not None else None
    if user is None:
        r.delete(_KEY + _hash(token))
        logger.warning("bearer token of %s refused and deleted: the account is disabled or gone",
                       record.get("username"))
    return user


@bp.before_request
def _authenticate():
    """Every route but /token needs a valid bearer token."""
    if flask.request.endpoint == "api.token":
        return None
    user = bearer_user()
    if user is None:
        return _refuse(401, "a valid bearer token is required: POST /api/v1/token first", "api.token_required")
    flask.g.api_user = user
    return None


@bp.route("/token", methods=["POST"])
def token():
    """Exchange a username and password for a bearer token (rate-limited like the login page)."""
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        # A JSON list or string (or no JSON at all) is not a credentials object: read the form instead.
        body = flask.request.form
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username.strip() or not password:
        return _refuse(400, "username and password are required, as strings", "api.credentials_required")
    username = username.strip()
    if "\x00" in username or "\x00" in password:
        return _refuse(400, "username and password must not contain NUL bytes", "api.nul")
    r = flask.current_app.config["GRIDWATCH_REDIS"]
    address = flask.request.remote_addr or "?"
    # Counted before verifying, in one step: parallel guesses cannot slip past the limit.
    if not login_limit.take_attempt(r, username, address):
        logger.warning("API token for %s from %s refused: rate limited", username, address)
        return _refuse(429, "too many failed attempts; wait and try again", "api.rate_limited")
    with flask.current_app.config["GRIDWATCH_POOL"].connection() as conn:
        user = users.verify_user(conn, username, password)
    if user is None:
        logger.info("failed API token request for %s from %s", username, address)
        return _refuse(401, "wrong username or password", "api.wrong_password")
    login_limit.give_back(r, username, address)
    plain = secrets.token_urlsafe(32)
    # Only who: role, scope and the enabled flag are read from app_user on every request.
    r.set(_KEY + _hash(plain), json.dumps({"user_id": user.id, "username": user.username}), ex=TOKEN_TTL_S)
    logger.info("API token issued to %s (%s)", user.username, user.role)
    return flask.jsonify({"ok": True, "token": plain, "token_type": "Bearer", "expires_in": TOKEN_TTL_S,
                          "role": user.role})


@bp.route("/token", methods=["DELETE"])
def revoke():
    """Revoke the token this request carries."""
    header = flask.request.headers.get("Authorization", "")
    flask.current_app.config["GRIDWATCH_REDIS"].delete(_KEY + _hash(header[len("Bearer "):].strip()))
    logger.info("API token of %s revoked", flask.g.api_user.username)
    return flask.jsonify({"ok": True})


# The tablet's operations, same views and role checks as the page's routes.
bp.add_url_rule("/tasks", "tasks", routes.field_tasks, methods=["GET"])
bp.add_url_rule("/tasks/<incident_id>", "task", routes.field_task, methods=["GET"])
bp.add_url_rule("/reports", "report", routes.field_report, methods=["POST"])
bp.add_url_rule("/actions", "action", routes.field_action, methods=["POST"])
bp.add_url_rule("/duty", "duty", routes.field_duty, methods=["POST"])
bp.add_url_rule("/nearby", "nearby", routes.field_tablet.nearby_view, methods=["GET"])
