"""Flask routes beside Dash: media with an access log, and the tablet's JSON API for /field."""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone

import flask
from werkzeug.security import safe_join

from dashboard import access, camera_live, context, data, numbers, photos
from dashboard.components import fmt_time, matter_name
from dashboard.i18n import label, refused, t
from dashboard.pages.field import tablet as field_tablet
from geodata.bus import InvalidMessage, LiveGridWorker, parse_incident, publish_incident, publish_live

logger = logging.getLogger(__name__)

bp = flask.Blueprint("routes", __name__)

MAX_PHOTO = photos.MAX_BYTES
FIELD_ACTIONS = ("accept", "start", "resolve", "return")
SENT_TTL_S = 7 * 24 * 3600
MAX_TEXT = 4000  # characters of a description or note, as docs/openapi.yaml says


def _error_body(key: str, **params) -> dict:
    return {"ok": False, "error": t(key, context.lang(), **params), "code": key}


def _refusal_body(exc) -> dict:
    """A refusal (grid.refusals.Refusal) for the tablet: text in the request's language, code and params for apps."""
    return {"ok": False, "error": refused(exc, context.lang()), **exc.as_dict()}


def _error(status: int, key: str, **params):
    return flask.jsonify(_error_body(key, **params)), status


@bp.route("/media/<path:name>")
@access.route_guard("/media/<path:name>")
def media(name: str):
    """Serve a snapshot, clip or photo and write who viewed it to audit_log."""
    user = context.user()
    root = context.cfg().media_dir
    # A NUL byte or a path leaving the media directory names no file: 404, not a 500 from the OS or
    # the audit insert. Every other request is logged, a miss included (someone looked for it).
    if "\x00" in name or safe_join(str(root), name) is None:
        return flask.jsonify(_error_body("api.not_found", path=flask.request.path)), 404
    with context.pool().connection() as conn:
        data.audit(conn, user.username, "media_view", name, data={"role": user.role})
    if not os.path.isfile(safe_join(str(root), name)):
        # A short JSON 404 naming the file, not Flask's HTML page: pages show a placeholder instead.
        return flask.jsonify(_error_body("media.not_found", name=name)), 404
    return flask.send_from_directory(root, name, max_age=0)


def _event_id(raw) -> str | None:
    # ASCII only: uuid.UUID() reads full-width digits too (dashboard/numbers.py).
    try:
        return numbers.uuid_text(raw, "id")
    except numbers.BadNumber:
        return None


def _checked_photos() -> list[photos.Photo]:
    """The request's photos, checked (header, pixel limit, decoding) but not yet stored: refusals abort."""
    out = []
    for file in flask.request.files.getlist("photo"):
        if not file or not file.filename:
            continue
        try:
            out.append(photos.check(file.read(MAX_PHOTO + 1)))
        except photos.PhotoRefused as exc:
            flask.abort(flask.make_response(*_error(exc.status, exc.code, **exc.params)))
    return out


def _floats(form, *names):
    """The named fields as floats, None when absent; BadNumber names one that is not an ASCII number."""
    return tuple(numbers.decimal(form.get(n), n) if form.get(n) not in (None, "") else None for n in names)


@bp.route("/field-sw.js")
@access.route_guard("/field-sw.js")
def field_service_worker():
    """The tablet's service worker, served from the root so its scope covers the page and Dash's routes."""
    resp = flask.send_from_directory(flask.current_app.config["GRIDWATCH_ASSETS"], "field-sw.js",
                                     mimetype="text/javascript", max_age=0)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


def _display_pos(row) -> list[float] | None:
    """[lon, lat] of a row for the tablet's map (shifted when the tiles are GCJ-02), None when unknown."""
    if not row or row.get("lon") is None or row.get("lat") is None:
        return None
    return list(context.display().point(row["lon"], row["lat"]))


@bp.route("/field/api/tasks")
@access.route_guard("/field/api/tasks")
def field_tasks():
    """The worker's open tasks, by deadline, with their map positions and the worker's last known one."""
    user = context.user()
    with context.pool().connection() as conn:
        rows = data.field_tasks(conn, user.worker_code)
        me = data.grid_worker_get(conn, user.worker_code) if user.worker_code else None
    lang, tz = context.lang(), context.cfg().timezone
    # Positions come with the list so the task map still works offline from the tablet's cached copy.
    return flask.jsonify({"ok": True, "me": _display_pos(me), "tasks": [
        {"id": r["id"], "matter": matter_name(r, lang), "status": r["status"], "priority": r["priority"],
         "status_label": label("status", r["status"], lang), "due": fmt_time(r["due_at"], tz, True),
         "due_at": r["due_at"].isoformat() if r["due_at"] else None, "description": r["description"],
         "pos": _display_pos(r), "place": field_tablet.place(r, lang), "report_count": r["report_count"]}
        for r in rows]})


@bp.route("/field/api/task/<incident_id>")
@access.route_guard("/field/api/task/<incident_id>")
def field_task(incident_id: str):
    """One of my tasks with its history; another worker's task is not found."""
    user = context.user()
    lang = context.lang()
    tz = context.cfg().timezone
    with context.pool().connection() as conn:
        row = data.incident(conn, incident_id) if _event_id(incident_id) else None
        if row is None or row["worker_code"] != user.worker_code:
            return flask.jsonify(_error_body("api.no_task")), 404
        events = data.incident_events(conn, incident_id)
        photos_of_case = field_tablet.stored_photos(data.field_task_media(conn, incident_id))
    return flask.jsonify({"ok": True, "photos": photos_of_case, "task": {
        "id": row["id"], "matter": matter_name(row, lang), "status": row["status"],
        "status_label": label("status", row["status"], lang), "description": row["description"],
        "due": fmt_time(row["due_at"], tz, True), "lon": row["lon"], "lat": row["lat"], "pos": _display_pos(row),
        "media": [m for m in (row["media"] or []) if isinstance(m, str)]},
        "history": [{"at": fmt_time(e["at"], tz, True), "action": label("action", e["action"], lang),
                     "actor": e["actor"], "note": e["note"] or ""} for e in events]})


@bp.route("/field/api/report", methods=["POST"])
@access.route_guard("/field/api/report")
def field_report():
    """A worker's report: checked here, then put on the bus like every other source (idempotent)."""
    user = context.user()
    form = flask.request.form
    event_id = _event_id(form.get("event_id"))
    if event_id is None:
        return flask.jsonify(_error_body("api.bad_event_id")), 400
    r = context.redis_client()
    sent_key = f"gridwatch:field:sent:{event_id}"
    if r.exists(sent_key):
        return flask.jsonify({"ok": True, "event_id": event_id, "duplicate": True})
    try:
        lon, lat = _floats(form, "lon", "lat")
    except numbers.BadNumber as exc:
        return _error(400, exc.key, **exc.params)
    if lon is None or lat is None:
        return _error(400, "field.need_position")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return _error(400, "field.need_position")
    if form.get("crs") == "display":
        lon, lat = context.display().to_wgs84(lon, lat)  # a map tap on GCJ-02 tiles
    matter = form.get("matter") or ""
    with context.pool().connection() as conn:
        codes = {m["code"] for m in data.matters(conn)}
        inside = data.inside_district(conn, lon, lat)
    if matter not in codes:
        return _error(400, "field.need_matter")
    different = field_tablet.not_duplicate_of(form.get("not_duplicate_of"))
    if different is None:
        return _error(400, "api.bad_not_duplicate_of")
    if len(form.get("description") or "") > MAX_TEXT:
        return _error(400, "api.too_long", field="description", max=MAX_TEXT)  # refused, never cut unseen
    checked = _checked_photos()
    media = [p.name for p in checked]
    raw = {"v": 1, "event_id": event_id, "source": "grid_worker", "matter": matter, "lon": lon, "lat": lat,
           "observed_at": form.get("observed_at") or datetime.now(timezone.utc).isoformat(),
           "description": form.get("description") or "", "reporter": user.worker_code,
           "media": media, "attributes": {"via": "field", "user": user.username,
                                          **({"not_duplicate_of": different} if different else {})}}
    try:
        # The bus's own validation, so what goes on the stream is what ingest accepts.
        msg = parse_incident(json.dumps(raw, ensure_ascii=False))
    except InvalidMessage as exc:
        return _error(400, "api.invalid_report", reason=exc.reason)
    # SET NX first: two retries racing each other still put one entry on the stream.
    if not r.set(sent_key, "1", nx=True, ex=SENT_TTL_S):
        return flask.jsonify({"ok": True, "event_id": event_id, "duplicate": True})
    # Photos go to disk only now that everything else was accepted, and go again if the bus refuses.
    written = photos.store(context.cfg().media_dir, checked)
    try:
        publish_incident(r, msg)
    except Exception:
        photos.discard(written)
        r.delete(sent_key)
        raise
    logger.info("field report %s by %s", event_id, user.username, extra={"incident_id": event_id})
    return flask.jsonify({"ok": True, "event_id": event_id, "outside": not inside,
                          "warning": None if inside else t("field.outside", context.lang())})


# The nearby-case prompt: the open cases a report here would merge into (dashboard/pages/field/tablet.py).
bp.add_url_rule("/field/api/nearby", "field_nearby", field_tablet.nearby_view)
# A camera's live view: frames the camera worker publishes while someone watches (dashboard/camera_live.py).
bp.add_url_rule("/cameras/<code>/live", "camera_live", camera_live.stream_view)
bp.add_url_rule("/cameras/<code>/live/status", "camera_live_status", camera_live.status_view)


@bp.route("/field/api/action", methods=["POST"])
@access.route_guard("/field/api/action")
def field_action():
    """accept / start / resolve / return one of my tasks through the transition function (idempotent)."""
    from geodata.transitions import IncidentNotFound, apply_transition, publish_result
    from grid.refusals import Refusal

    user = context.user()
    form = flask.request.form
    event_id = _event_id(form.get("event_id"))
    action = form.get("action")
    incident_id = _event_id(form.get("incident_id"))
    if event_id is None or incident_id is None or action not in FIELD_ACTIONS:
        return flask.jsonify(_error_body("api.bad_action")), 400
    note = (form.get("note") or "").strip() or None
    if note and len(note) > MAX_TEXT:
        return _error(400, "api.too_long", field="note", max=MAX_TEXT)
    with context.pool().connection() as conn:
        if data.client_event_seen(conn, event_id):
            return flask.jsonify({"ok": True, "duplicate": True})
        row = data.incident(conn, incident_id)
        # Before any status check: a refusal would tell the status of a task that is not the caller's.
        if row is None or row["worker_code"] != user.worker_code:
            return flask.jsonify(_error_body("api.no_task")), 404
        checked = _checked_photos()
        written = []
        try:
            result = apply_transition(conn, incident_id, action, user.username, "grid_worker", note=note,
                                      media=[p.name for p in checked], actor_worker=user.worker_code,
                                      data={"client_event_id": event_id, "via": "field"})
            # Stored before the commit, so a committed history row never names a missing file; a
            # failed commit takes them away again.
            written = photos.store(context.cfg().media_dir, checked)
            conn.commit()
        except IncidentNotFound:
            conn.rollback()
            return flask.jsonify(_error_body("api.no_incident")), 404
        except Refusal as exc:
            conn.rollback()
            logger.info("field action %s by %s refused: %s", action, user.username, exc,
                        extra={"incident_id": incident_id})
            return flask.jsonify(_refusal_body(exc)), 409
        except Exception:
            conn.rollback()
            photos.discard(written)
            raise
    publish_result(context.redis_client(), result)
    return flask.jsonify({"ok": True, "status": result.to_status.value})


@bp.route("/field/api/duty", methods=["POST"])
@access.route_guard("/field/api/duty")
def field_duty():
    """Go on or off duty and report the position; shown on the wall."""
    user = context.user()
    form = flask.request.form
    on_duty = form.get("on_duty") in ("1", "true", "on")
    try:
        lon, lat = _floats(form, "lon", "lat")
    except numbers.BadNumber as exc:
        return _error(400, exc.key, **exc.params)
    if lon is not None and not (-180 <= lon <= 180 and -90 <= (lat or 0) <= 90):
        lon = lat = None
    with context.pool().connection() as conn:
        row = data.set_duty(conn, user.worker_code, on_duty, lon, lat)
    if row is None:
        return flask.jsonify(_error_body("api.no_worker")), 404
    publish_live(context.redis_client(), [LiveGridWorker(at=datetime.now(timezone.utc), code=row["code"],
                                                     on_duty=row["on_duty"], lon=row["lon"], lat=row["lat"])])
    return flask.jsonify({"ok": True, "on_duty": row["on_duty"]})

