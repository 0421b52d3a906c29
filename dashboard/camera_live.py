"""A camera's live view: `/cameras/<code>/live` as MJPEG, and `/cameras/<code>/live/status` beside it.

The dashboard never opens a camera stream and never knows its URL or credentials: opening the view
sets the camera's watch key in Redis, the camera worker holding the camera answers with a frame
about once a second, and this module relays those frames (geodata/camera_frames.py). The status
route is the view's side channel: the frame's age and whether it is live, stale (older than STALE_S)
or missing because no worker answers, which the page shows in the user's language.

Who: access.LIVE_VIEW_ROLES, supervisors only for cameras of their area (404 otherwise, as for a
camera that does not exist). Every opening is written to audit_log (`camera_live`). An open stream
rechecks its session and account every RECHECK_S, as /live does, and ends when either is gone.
"""

from __future__ import annotations

import logging
import time
import uuid

import flask

from dashboard import access, context, data
from dashboard.live import RECHECK_S, session_gone
from geodata import camera_frames
from geodata.queries import q

logger = logging.getLogger(__name__)

STALE_S = 2.0
"""A frame older than this is shown as stale (the issue's goal for frame age)."""
NO_WORKER_S = 4.0
"""A watch this old without any frame: no worker answers (a worker polls watches every 0.25 s)."""
POLL_S = 0.1
"""How often an open stream looks for a new frame (one HMGET of two small fields)."""
RESEND_S = 2.0
"""Without a new frame the last one is sent again this often: a write is how a gone browser is noticed."""
GIVE_UP_S = 30.0
"""A stream that got no new frame for this long ends; the page says no worker answers and offers a retry."""
MAX_OPEN_S = 30 * 60.0
"""An open view ends after this long; the page reopens it if it is still on show."""
MAX_VIEWS_PER_USER = 4
"""Open live views per account (each holds a server thread)."""
BOUNDARY = "gridwatchframe"
VIEWERS_KEY = "gridwatch:camera:viewers:{user_id}"


def _refuse(status: int, key: str):
    from dashboard.i18n import t

    flask.abort(flask.make_response(flask.jsonify({"ok": False, "error": t(key, context.lang()), "code": key}),
                                    status))


def _camera_for(user: access.SessionUser, code: str) -> dict:
    """The camera `code` if this user may watch it; aborts 404 otherwise (unknown and out of area alike)."""
    if not camera_frames.valid_code(code):
        _refuse(404, "live.not_found")
    with context.pool().connection() as conn:
        cam = conn.execute(q("camera_live_place"), {"code": code}).fetchone()
    if cam is None or not access.camera_visible(user, cam["street_code"], cam["community_code"]):
        if cam is not None:
            logger.warning("refused live view of %s to %s (%s): out of area", code, user.username, user.role)
        _refuse(404, "live.not_found")
    return cam


def cameras_in_scope(conn, user: access.SessionUser) -> list[dict]:
    """Cameras this user may watch, with positions (no URL): the console map's markers."""
    if user.role not in access.LIVE_VIEW_ROLES:
        return []
    return conn.execute(q("camera_live_in_scope"), access.scope_filter(user)).fetchall()


def state_of(head: tuple[int, float] | None, started: float | None, now: float) -> tuple[str, float | None]:
    """The view's state from the latest frame's (seq, captured_at) and when the watch began."""
    just_opened = started is not None and now - started < NO_WORKER_S
    if head is not None and not (just_opened and head[1] < started):
        age = max(0.0, now - head[1])
        return ("live" if age <= STALE_S else "stale"), round(age, 2)
    if just_opened:
        return "waiting", None
    return "no_worker", None


@access.route_guard("/cameras/<code>/live/status")
def status_view(code: str):
    """The side channel: {"state": live|stale|waiting|no_worker, "age_s"} of camera `code`'s frames."""
    user = context.user()
    _camera_for(user, code)
    r = context.redis_client()
    state, age = state_of(camera_frames.frame_head(r, code), camera_frames.watch_started(r, code), time.time())
    resp = flask.jsonify({"ok": True, "state": state, "age_s": age, "stale_after_s": STALE_S})
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _part(jpeg: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode()
            + jpeg + b"\r\n")


def _take_slot(r, user: access.SessionUser, view_id: str, now: float,
               ttl_s: int = camera_frames.WATCH_TTL_S) -> bool:
    """Count this view against the account's limit (views that stopped refreshing for 3 watch TTLs,
    `ttl_s` each, fall out)."""
    key = VIEWERS_KEY.format(user_id=user.id)
    # Add first and count in one MULTI, then take it back when over: a separate check and add let
    # parallel opens all pass the check (the login limit's old race). Two opens racing for the last
    # slot may both be refused, never both let in.
    with r.pipeline(transaction=True) as pipe:
        pipe.zremrangebyscore(key, "-inf", now - 3 * ttl_s)
        pipe.zadd(key, {view_id: now})
        pipe.expire(key, 6 * ttl_s)
        pipe.zcard(key)
        open_views = pipe.execute()[-1]
    if open_views > MAX_VIEWS_PER_USER:
        r.zrem(key, view_id)
        return False
    return True


@access.route_guard("/cameras/<code>/live")
def stream_view(code: str):
    """MJPEG of camera `code`'s published frames while the view is open; the opening goes to audit_log."""
    user = context.user()
    cam = _camera_for(user, code)
    app = flask.current_app._get_current_object()
    r = context.redis_client()
    view_id = uuid.uuid4().hex
    # Read here, in the request: the generator below runs after the request context is gone.
    ttl_s = context.cfg().live_watch_ttl_s
    if not _take_slot(r, user, view_id, time.time(), ttl_s):
        logger.warning("live view of %s refused to %s: %s views open", code, user.username, MAX_VIEWS_PER_USER)
        _refuse(429, "live.too_many")
    with context.pool().connection() as conn:
        data.audit(conn, user.username, "camera_live", code,
                   data={"role": user.role, "community": cam["community_code"]})
    camera_frames.watch(r, code, ttl_s=ttl_s)
    sid = getattr(flask.session, "sid", None)
    logger.info("live view of %s opened by %s", code, user.username, extra={"camera": code})

    def frames():
        opened = checked = refreshed = sent_at = new_at = time.monotonic()
        head = last = held = None
        try:
            while True:
                now = time.monotonic()
                if now - checked >= RECHECK_S:
                    checked = now
                    why = session_gone(app, sid, user)
                    if why:
                        logger.warning("live view of %s by %s cut: %s", code, user.username, why)
                        return
                if now - refreshed >= ttl_s / 3:
                    refreshed = now
                    camera_frames.watch(r, code, ttl_s=ttl_s)
                    r.zadd(VIEWERS_KEY.format(user_id=user.id), {view_id: time.time()})
                if now - opened >= MAX_OPEN_S or now - new_at >= GIVE_UP_S:
                    return
                current = camera_frames.frame_head(r, code)
                if current is not None and current != head:
                    try:
                        frame = camera_frames.latest_frame(r, code)
                    except camera_frames.BadFrame as exc:
                        logger.warning("live view of %s: %s", code, exc)
                        frame = None
                    head = current
                    if frame is not None:
                        held, new_at = frame, now
                        # A picture left from an earlier watch is not "now": give the worker a moment to
                        # answer with a fresh one, and show the old one (as stale) only if it does not.
                        if last is not None or frame.age_s() <= STALE_S:
                            last, sent_at = frame.jpeg, now
                            yield _part(frame.jpeg)
                            continue
                if last is None and held is not None and now - opened >= NO_WORKER_S:
                    last, sent_at = held.jpeg, now
                    yield _part(last)
                elif last is not None and now - sent_at >= RESEND_S:
                    sent_at = now
                    yield _part(last)
                time.sleep(POLL_S)
        finally:
            r.zrem(VIEWERS_KEY.format(user_id=user.id), view_id)

    resp = flask.Response(frames(), mimetype=f"multipart/x-mixed-replace; boundary={BOUNDARY}")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Accel-Buffering"] = "no"
    return resp
