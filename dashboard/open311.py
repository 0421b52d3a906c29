"""Open311 GeoReport v2 on the dashboard's server: the matters list as services, requests in and out.

New requests go through the bus like every other source (source `open311`); the answer carries the
event id as `service_request_id`, and the request is readable as soon as ingest has taken it.
Clients authenticate with an API key (`gridwatch apikey create NAME`), not a browser session.
Errors follow the spec: a list of {"code", "description"} with the HTTP status.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit

import flask
from flask_limiter import Limiter
from psycopg.rows import dict_row

from dashboard import context, numbers
from dashboard.i18n import label
from geodata import api_keys
from geodata.queries import q
from geodata.bus import InvalidMessage, incident_message, publish_incident
from grid.routing import Source

logger = logging.getLogger(__name__)

bp = flask.Blueprint("open311", __name__, url_prefix="/open311/v2")
PREFIX = "/open311/"
MAX_LIST = 1000
MAX_URL = 2048
MAX_TEXT = 4000  # the bus's limit on a description (geodata/bus/messages.py)


def _address() -> str:
    # The peer address, never X-Forwarded-For: a client could name itself anyone with that header.
    return "addr:" + (flask.request.remote_addr or "?")


def _key_bucket() -> str:
    # The key as presented, hashed: a wrong key still spends its own bucket and the address's.
    key = flask.request.form.get("api_key") or ""
    return "key:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _no_key() -> bool:
    return flask.request.method != "POST" or not flask.request.form.get("api_key")


def _too_many() -> str:
    # Called by Flask-Limiter when a window is used up: the one place that knows it happened.
    logger.warning("open311 rate limit reached by %s (%s %s)", flask.request.remote_addr, flask.request.method,
                   flask.request.path)
    return "too many requests from this client; retry after the time in the Retry-After header"


def install(server: flask.Flask, cfg) -> Limiter:
    """Register the blueprint with its rate limits: a fixed window per client address, and per API key on POST.

    Flask-Limiter counts in Redis (atomic INCR with the window as TTL), so every gunicorn worker shares
    the count; a refusal is a 429 in the spec's error list (dashboard/doors.py) with Retry-After.
    """
    limiter = Limiter(key_func=_address, app=server, storage_uri=cfg.redis_url, strategy="fixed-window",
                      headers_enabled=True, key_prefix="gridwatch:open311:limit")
    # Shared: one window over all of Open311's routes, not one per route.
    limiter.shared_limit(cfg.open311_rate_per_address, scope="open311-address", key_func=_address,
                         error_message=_too_many)(bp)
    limiter.shared_limit(cfg.open311_rate_per_key, scope="open311-key", key_func=_key_bucket, exempt_when=_no_key,
                         error_message=_too_many)(bp)
    server.register_blueprint(bp)
    return limiter


def _error(status: int, description: str):
    return flask.Response(json.dumps([{"code": status, "description": description}], ensure_ascii=False),
                          status=status, mimetype="application/json")


def _json(payload, status: int = 200):
    return flask.Response(json.dumps(payload, ensure_ascii=False, default=str), status=status,
                          mimetype="application/json")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _format_ok(fmt: str):
    # The spec allows XML too; this server speaks JSON and says so rather than guessing.
    return None if fmt == "json" else _error(400, f"format {fmt!r} is not supported; use .json")


@bp.route("/services/<code>.<fmt>", methods=["GET"])
def service_definition(code: str, fmt: str):
    """A service's definition (GeoReport v2 `GET services/{code}`): our matters take no extra attributes."""
    if (bad := _format_ok(fmt)) is not None:
        return bad
    with context.pool().connection() as conn:
        if conn.execute(q("open311_service_exists"), {"code": code}).fetchone() is None:
            return _error(404, f"service_code {code!r} is not a service of this jurisdiction")
    return _json({"service_code": code, "attributes": []})


@bp.route("/services.<fmt>", methods=["GET"])
def services(fmt: str):
    """The matters list as Open311 services."""
    if (bad := _format_ok(fmt)) is not None:
        return bad
    with context.pool().connection() as conn:
        rows = conn.execute(q("open311_services")).fetchall()
    return _json([{
        "service_code": r["code"], "service_name": r["name"], "description": r["name_en"],
        "metadata": False, "type": "realtime", "keywords": r["family"], "group": r["family"],
    } for r in rows])


def _number(form, name: str, low: float, high: float) -> float:
    raw = form.get(name)
    if raw is None or raw == "":
        raise ValueError(f"{name} is required")
    try:
        # ASCII digits only: float() would read "２２.６" too (dashboard/numbers.py).
        value = numbers.decimal(raw, name)
    except numbers.BadNumber as exc:
        raise ValueError(str(exc)) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {raw}")
    return value


@bp.route("/requests.<fmt>", methods=["POST"])
def create_request(fmt: str):
    """Accept a service request (form-encoded, as the spec says) and put it on the bus."""
    if (bad := _format_ok(fmt)) is not None:
        return bad
    form = flask.request.form
    with context.pool().connection() as conn:
        key = api_keys.verify_key(conn, form.get("api_key"))
        if key is None:
            return _error(403, "api_key is missing, unknown or revoked")
        code = form.get("service_code", "")
        if not code:
            return _error(400, "service_code is required")
        if conn.execute(q("open311_service_exists"), {"code": code}).fetchone() is None:
            return _error(404, f"service_code {code!r} is not a service of this jurisdiction")
    try:
        lat = _number(form, "lat", -90, 90)
        lon = _number(form, "long", -180, 180)
    except ValueError as exc:
        return _error(400, str(exc))
    media = []
    media_url = form.get("media_url")
    if media_url:
        problem = _url_problem(media_url)
        if problem:
            return _error(400, f"media_url {problem}")
        # Stored as a link and never fetched by the server; staff pages show it as a link, never an image.
        media.append(media_url)
    description = form.get("description") or ""
    if len(description) > MAX_TEXT:
        return _error(400, f"description is longer than {MAX_TEXT} characters")  # refused, never cut unseen
    event_id = uuid.uuid4()
    try:
        # Refused here, in the spec's error format, whatever ingest would otherwise dead-letter.
        message = incident_message(
            v=1, event_id=event_id, source=Source.OPEN311, matter=code, lon=lon, lat=lat,
            observed_at=datetime.now(timezone.utc), description=description,
            reporter=f"apikey:{key.id}", media=media,
            attributes={k: form[k] for k in ("address_string", "email", "first_name", "last_name", "phone",
                                             "device_id", "account_id") if form.get(k)} | {"client": key.name})
        publish_incident(context.redis_client(), message)
    except InvalidMessage as exc:
        return _error(400, exc.reason)
    logger.info("open311 request %s from %s", event_id, key.name)
    return _json([{"service_request_id": str(event_id), "service_notice": "", "account_id": None}], 201)


def _url_problem(url: str) -> str | None:
    """Why `url` is not an acceptable media_url (None when it is): http(s), a host, bounded length."""
    if len(url) > MAX_URL:
        return f"is longer than {MAX_URL} characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        return f"is not a valid URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return "must be an http(s) URL"
    if not host:
        return "must name a host"
    return None


def _status(row) -> str:
    return "closed" if row["status"] in ("closed", "cancelled") else "open"


def _request(row) -> dict:
    agency = " / ".join(x for x in (row["sub_grid_name"], row["worker_name"]) if x) or (
        "district command center" if row["outside"] else None)
    media = [m for m in (row["media"] or []) if "://" in m]
    return {
        "service_request_id": str(row["id"]), "status": _status(row),
        "status_notes": row["public_note"] or label("status", row["status"], context.cfg().default_lang), "service_name": row["matter_name"], "service_code": row["matter_code"],
        "description": row["description"], "agency_responsible": agency, "service_notice": None,
        "requested_datetime": _iso(row["created_at"]), "updated_datetime": _iso(row["updated_at"]),
        "expected_datetime": _iso(row["due_at"]), "address": (row["attributes"] or {}).get("address_string"),
        "address_id": None, "zipcode": None, "lat": row["lat"], "long": row["lon"],
        "media_url": media[0] if media else None,
    }


def _date(name: str) -> datetime | None:
    raw = flask.request.args.get(name)
    if not raw:
        return None
    value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{name} must carry a time zone (W3C format), got {raw!r}")
    return value


def _query(ids: list[str] | None):
    args = flask.request.args
    try:
        uuids = [numbers.uuid_text(i, "service_request_id") for i in ids] if ids else None
        start, end = _date("start_date"), _date("end_date")
    except ValueError as exc:
        return _error(400, str(exc) if "zone" in str(exc) else f"bad request id or date: {exc}")
    status = args.get("status")
    if status not in (None, "", "open", "closed"):
        return _error(400, "status must be open or closed")
    with context.pool().connection() as conn:
        rows = conn.cursor(row_factory=dict_row).execute(q("open311_requests"), {
            "ids": uuids, "service_code": args.get("service_code") or None,
            "closed": None if not status else status == "closed", "start": start, "end": end,
            "limit": MAX_LIST,
        }).fetchall()
    return rows


@bp.route("/requests.<fmt>", methods=["GET"])
def list_requests(fmt: str):
    """Requests, filtered by id list, service code, status and date range."""
    if (bad := _format_ok(fmt)) is not None:
        return bad
    raw_ids = flask.request.args.get("service_request_id")
    rows = _query([i.strip() for i in raw_ids.split(",") if i.strip()] if raw_ids else None)
    if isinstance(rows, flask.Response):
        return rows
    return _json([_request(r) for r in rows])


@bp.route("/requests/<request_id>.<fmt>", methods=["GET"])
def one_request(request_id: str, fmt: str):
    """One request; 404 until ingest has taken it."""
    if (bad := _format_ok(fmt)) is not None:
        return bad
    rows = _query([request_id])
    if isinstance(rows, flask.Response):
        return rows
    if not rows:
        return _error(404, f"no service request {request_id}")
    return _json([_request(rows[0])])
