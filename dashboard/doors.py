"""What the machine doors answer before and beside their routes, each in its own error format.

Under `/open311/` errors are the GeoReport v2 list of {"code", "description"} (XML for a `.xml`
path); under `/api/` and `/field/api/` they are {"ok": false, "error", "code"}. Three things live here:
NUL bytes are refused in every field of those doors (PostgreSQL text cannot hold them, so they used
to fail later: a 500, or an Open311 id that never came to exist); a path no route has is a 404 (not
the Dash page shell) and a known path with the wrong method a 405; and any other HTTP error raised
there (413 for a body over MAX_CONTENT_LENGTH, say) keeps the door's format.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

import flask
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from dashboard import context
from dashboard.i18n import t

OPEN311 = "/open311/"
TABLET = ("/api/", "/field/api/")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
bp = flask.Blueprint("doors", __name__)


def _door(path: str) -> str | None:
    if path.startswith(OPEN311) or path == OPEN311.rstrip("/"):
        return "open311"
    if path.startswith(TABLET) or path == "/api":
        return "tablet"
    return None


def open311_error(status: int, description: str, *, xml: bool = False) -> flask.Response:
    """The GeoReport v2 error list, JSON or (for a .xml path) XML."""
    if xml:
        body = (f'<?xml version="1.0" encoding="utf-8"?><errors><error><code>{status}</code>'
                f"<description>{escape(description)}</description></error></errors>")
        return flask.Response(body, status=status, mimetype="text/xml")
    return flask.Response(json.dumps([{"code": status, "description": description}], ensure_ascii=False),
                          status=status, mimetype="application/json")


def tablet_error(http_status: int, key: str, **params) -> flask.Response:
    """The tablet API's error body: the sentence in the client's language and its stable code."""
    resp = flask.jsonify({"ok": False, "error": t(key, context.lang(), **params), "code": key})
    resp.status_code = http_status
    return resp


def _answer(http_status: int, open311_text: str, key: str, **params) -> flask.Response:
    path = flask.request.path
    if _door(path) == "open311":
        return open311_error(http_status, open311_text, xml=path.endswith(".xml"))
    return tablet_error(http_status, key, **params)


def refuse_nul() -> flask.Response | None:
    """Before any route of a machine door: a NUL byte in a query or form field is refused, naming it."""
    if _door(flask.request.path) is None:
        return None
    req = flask.request
    fields = [*req.args.items(multi=True), *req.form.items(multi=True)]
    for name, value in fields:
        if "\x00" in name or "\x00" in value:
            shown = name.replace("\x00", "\\x00")
            return _answer(400, f"{shown} must not contain NUL bytes", "api.nul", field=shown)
    return None


def _allowed(path: str) -> list[str]:
    """Methods some real route (not the catch-alls, not Dash's page shell) answers at this path."""
    adapter = flask.current_app.url_map.bind_to_environ(flask.request.environ)
    found = []
    for method in _METHODS:
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except HTTPException:
            continue
        if not rule.endpoint.startswith("doors.") and "<path:" not in rule.rule:
            found.append(method)
    return found


def not_here(**_rest):
    """Paths of the machine doors that no route serves: 404, or 405 when another method would do."""
    path = flask.request.path
    allowed = _allowed(path)
    if allowed:
        resp = _answer(405, f"{flask.request.method} is not allowed on {path}; use {', '.join(allowed)}",
                       "api.method", method=flask.request.method, path=path, allowed=", ".join(allowed))
        resp.headers["Allow"] = ", ".join(allowed)
        return resp
    return _answer(404, f"no such resource: {path}", "api.not_found", path=path)


# One endpoint per rule: rules sharing an endpoint with defaults make Werkzeug redirect to the first one.
for _i, _rule in enumerate(("/open311", "/open311/", "/open311/<path:rest>", "/api", "/api/", "/api/<path:rest>")):
    bp.add_url_rule(_rule, f"not_here_{_i}", not_here, methods=_METHODS, strict_slashes=False)


def http_error(exc: HTTPException):
    """Any HTTP error on a machine door in the door's format; elsewhere Flask's own page."""
    path = flask.request.path
    if _door(path) is None or exc.code is None:
        return exc
    if isinstance(exc, NotFound):
        return _answer(404, f"no such resource: {path}", "api.not_found", path=path)
    if isinstance(exc, MethodNotAllowed):
        allowed = ", ".join(m for m in (exc.valid_methods or []) if m not in ("HEAD", "OPTIONS"))
        resp = _answer(405, f"{flask.request.method} is not allowed on {path}; use {allowed}", "api.method",
                       method=flask.request.method, path=path, allowed=allowed)
        resp.headers["Allow"] = allowed
        return resp
    if exc.code == 413:
        return _answer(413, "the request body is too large", "api.too_large")
    return _answer(exc.code, exc.description or exc.name, "api.http_error", status=exc.code, name=exc.name)


def install(server: flask.Flask) -> None:
    """Register the machine doors' catch-alls, the NUL check and the error handler."""
    server.register_blueprint(bp)
    server.before_request(refuse_nul)
    server.register_error_handler(HTTPException, http_error)
