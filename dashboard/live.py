"""The live feed: one shared Redis pub/sub subscription per process, fanned out to SSE clients.

Only what `parse_live` reads is relayed: a payload that is not a live message we know is logged with
the reason and dropped, so a buggy or newer producer can neither reach a browser nor stop the feed.
A client too slow for the feed is not cut off: its queued messages are dropped and it gets a `resync`
event, on which the page reloads its state from the server and goes on listening.

Messages already waiting in a client's queue go out together as one `batch` event (a JSON list, in
order); a message alone goes out as a plain message event, as it always did. Nothing waits to fill a
batch: at a few messages a second each is sent at once, at 1,000 a second a browser gets some tens of
events a second instead of 1,000 (an EventSource dispatch and a JSON parse each, issue 12).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time

import flask
import redis

from dashboard import access, data, sessions
from geodata.bus import LIVE_CHANNEL, InvalidMessage, parse_live
from geodata.queries import q

logger = logging.getLogger(__name__)

BEAT_S = 1.0  # the wall shows "n s old" counted from the last beat or message
RECHECK_S = 2.0  # how often an open stream asks whether its session and account still hold
# How long one account check serves every stream of that account in this process. Just under the
# recheck period, so a lone stream still asks afresh at each of its rechecks.
ACCOUNT_TTL_S = 0.9 * RECHECK_S
CLIENT_QUEUE = 2000
SUBSCRIBE_WAIT_S = 2.0  # how long a new stream waits for the reader's subscription (Redis down: no longer)
# One batch event at most: a page parses it in one go, and a slow link still gets beats between them.
BATCH_MAX = 500
BATCH_BYTES = 256 * 1024
bp = flask.Blueprint("live", __name__)


class LiveHub:
    """Reads `gridwatch:live` in one thread and copies each message to every subscriber's queue."""

    def __init__(self, redis_url: str, channel: str = LIVE_CHANNEL):
        self.redis_url = redis_url
        self.channel = channel
        self.connected = False
        self._subs: set[queue.Queue] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._subscribed = threading.Event()  # Redis has confirmed the reader's SUBSCRIBE

    def subscribe(self) -> queue.Queue:
        """A new queue receiving ("msg", dict) and ("beat", ts) items; starts the reader lazily."""
        q: queue.Queue = queue.Queue(maxsize=CLIENT_QUEUE)
        with self._lock:
            self._subs.add(q)
            # Started on first use, so a pre-forking server does not fork a live thread.
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="gridwatch-live", daemon=True)
                self._thread.start()
        # The first stream after a start waits (briefly) for Redis to confirm the subscription: a page
        # shown "live" must not miss what is published a moment later, and pub/sub keeps nothing.
        self._subscribed.wait(SUBSCRIBE_WAIT_S)
        return q

    def unsubscribe(self, q: queue.Queue) -> None:
        """Stop sending to this queue."""
        with self._lock:
            self._subs.discard(q)

    def stop(self) -> None:
        """Ask the reader thread to end."""
        self._stop.set()

    def _broadcast(self, item) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            try:
                sub.put_nowait(item)
            except queue.Full:
                self._resync(sub, item)

    @staticmethod
    def _resync(q: queue.Queue, item) -> None:
        # A client that fell 2,000 messages behind (a slow link, a storm): what it has not read is
        # stale by now. Dropping it and asking the page to reload its state costs one reload, where
        # cutting the stream cost a reconnect and a reload, and then the same again at the next storm.
        # The notice counts the messages dropped (beats aside, earlier notices included), so nothing
        # goes missing unannounced.
        dropped = int(item[0] == "msg")
        try:
            while True:
                kind, queued = q.get_nowait()
                dropped += 1 if kind == "msg" else queued if kind == "resync" else 0
        except queue.Empty:
            pass
        # This thread is the only producer, so the emptied queue has room for the notice.
        q.put_nowait(("resync", dropped))

    def _relay(self, raw) -> None:
        try:
            msg = parse_live(raw)
        except InvalidMessage as exc:
            logger.warning("dropped a live message on %s: %s", self.channel, exc.reason)
            return
        # Subscribers get the message as its type defines it (defaults filled, unknown fields gone).
        self._broadcast(("msg", msg.model_dump(mode="json")))

    def _run(self) -> None:
        while not self._stop.is_set():
            client = None
            try:
                client = redis.Redis.from_url(self.redis_url, socket_timeout=5, socket_connect_timeout=3)
                ps = client.pubsub()
                ps.subscribe(self.channel)
                last_beat = 0.0
                while not self._stop.is_set():
                    m = ps.get_message(timeout=BEAT_S / 2)
                    if m and m.get("type") == "message":
                        self._relay(m["data"])
                    elif m and m.get("type") == "subscribe":
                        self.connected = True
                        self._subscribed.set()
                        logger.info("live feed subscribed to %s", self.channel)
                    now = time.time()
                    if now - last_beat >= BEAT_S:
                        # Beats come from this loop only, so a dead Redis stops them and the wall notices.
                        self._broadcast(("beat", now))
                        last_beat = now
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                if self.connected:
                    logger.warning("live feed lost: %s", exc)
                self.connected = False
                self._subscribed.clear()
                self._stop.wait(1.0)
            finally:
                if client is not None:
                    client.close()
        self.connected = False
        self._subscribed.clear()


def _matter_info(app) -> dict[str, dict]:
    """Family and names of every matter, so the wall can colour a live marker without a query."""
    def make():
        with app.config["GRIDWATCH_POOL"].connection() as conn:
            rows = conn.execute(q("dash_matters")).fetchall()
        return {r["code"]: r for r in rows}
    return app.config["GRIDWATCH_CACHE"].get("matter_info", make)


def _worker_communities(app) -> dict[str, str | None]:
    """Each grid worker's community, so a position goes only to the supervisors of its area."""
    def make():
        with app.config["GRIDWATCH_POOL"].connection() as conn:
            return data.grid_worker_communities(conn)
    return app.config["GRIDWATCH_CACHE"].get("worker_communities", make)


def enrich(msg: dict, names: dict[str, dict], workers: dict[str, str | None]) -> dict:
    """Add what the scope check and the wall need: a matter's family and names, a worker's area."""
    if msg.get("type") == "worker":
        community = workers.get(msg.get("code"))
        return {**msg, "community_code": community, "street_code": community[:9] if community else None}
    m = names.get(msg.get("matter_code"))
    if not m or "family" in msg:
        return msg
    return {**msg, "family": m["family"], "matter_name": m["name"], "matter_name_en": m["name_en"]}


class AccountChecks:
    """Whether accounts are still enabled, asked of PostGIS at most once per account every `ttl_s`.

    Every open stream rechecks its account every RECHECK_S: a wall of 3 screens, or a dispatcher with
    several tabs, would ask the same question once per stream. One answer serves all streams of the
    account in this process; a per-account lock makes the streams that ask together wait for one query.
    """

    def __init__(self, load, ttl_s: float = ACCOUNT_TTL_S):
        self._load = load  # account id -> bool (enabled), the one database query
        self.ttl_s = ttl_s
        self._answers: dict[int, tuple[float, bool]] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()

    def enabled(self, account_id: int) -> bool:
        """True when the account is enabled, as read at most `ttl_s` ago."""
        with self._lock:
            lock = self._locks.setdefault(account_id, threading.Lock())
        with lock:
            got = self._answers.get(account_id)
            if got is not None and time.monotonic() - got[0] < self.ttl_s:
                return got[1]
            alive = bool(self._load(account_id))
            self._answers[account_id] = (time.monotonic(), alive)
            return alive


def account_checks(app) -> AccountChecks:
    """The process's shared account checks of the live streams."""
    checks = app.extensions.get("gridwatch_live_accounts")
    if checks is None:
        def load(account_id: int) -> bool:
            with app.app_context():
                return access.account(account_id) is not None
        checks = app.extensions.setdefault("gridwatch_live_accounts", AccountChecks(load))
    return checks


def session_gone(app, sid: str | None, user: access.SessionUser) -> str | None:
    """Why an open stream must end (its session logged out or expired, its account disabled), or None."""
    # A stream lives for hours after the request that opened it: logout and `user disable` must reach it.
    if sid is None or not app.config["GRIDWATCH_REDIS"].exists(sessions.redis_key(sid)):
        return "session ended"
    if not account_checks(app).enabled(user.id):
        return "account disabled or gone"
    return None


def _json(data) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(',', ':'))


def _sse(event: str | None, data) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {_json(data)}\n\n"


def take_batch(q: queue.Queue, first: dict, shown) -> tuple[str | None, tuple | None]:
    """The SSE text of `first` and of the messages queued behind it, and the non-message item that ended it.

    Only what is already queued is taken (get_nowait): a batch never waits for more. `shown` turns a
    queued message into the JSON this client gets, or None when it may not see it. A beat or resync
    notice ends the batch and is handed back, to go out after it, so the order of events holds.
    """
    parts: list[str] = []
    size = 0
    item, held = first, None
    while True:
        text = shown(item)
        if text is not None:
            parts.append(text)
            size += len(text)
        if len(parts) >= BATCH_MAX or size >= BATCH_BYTES:
            break
        try:
            kind, item = q.get_nowait()
        except queue.Empty:
            break
        if kind != "msg":
            held = (kind, item)
            break
    if not parts:
        return None, held
    if len(parts) == 1:
        return f"data: {parts[0]}\n\n", held
    return f"event: batch\ndata: [{','.join(parts)}]\n\n", held


@bp.route("/live")
@access.route_guard("/live")
def live():
    """Server-sent events: beats every second and each live message this user may see, queued ones batched."""
    # The app itself, not the proxy: the stream below runs after the request context is gone.
    app = flask.current_app._get_current_object()
    hub: LiveHub = app.config["GRIDWATCH_HUB"]
    display = app.config["GRIDWATCH_DISPLAY"]
    user = access.current_user()
    sid = getattr(flask.session, "sid", None)
    names = _matter_info(app)
    q = hub.subscribe()

    def shown(item: dict) -> str | None:
        # Enriched first: the scope check reads the family and the worker's area it adds.
        msg = enrich(item, names, _worker_communities(app))
        return _json(display.message(msg)) if access.live_visible(user, msg) else None

    def stream():
        checked = time.monotonic()
        held = None  # a beat or notice that ended a batch, sent next
        try:
            yield "retry: 1000\n\n"
            yield _sse("hello", {"at": time.time(), "feed": hub.connected})
            while True:
                if time.monotonic() - checked >= RECHECK_S:
                    checked = time.monotonic()
                    why = session_gone(app, sid, user)
                    if why:
                        # The browser's EventSource reconnects and gets a 401, which stops it for good.
                        logger.warning("live stream of %s cut: %s", user.username, why)
                        yield _sse("ended", {"reason": why})
                        return
                if held is not None:
                    (kind, item), held = held, None
                else:
                    try:
                        kind, item = q.get(timeout=RECHECK_S)
                    except queue.Empty:
                        yield ": idle\n\n"  # lets the server notice a gone client
                        continue
                if kind == "beat":
                    yield _sse("beat", {"at": item})
                elif kind == "resync":
                    logger.info("live stream of %s fell behind: %s messages dropped, resync", user.username, item)
                    yield _sse("resync", {"at": time.time(), "dropped": item})
                else:
                    text, held = take_batch(q, item, shown)
                    if text is not None:
                        yield text
        finally:
            hub.unsubscribe(q)

    resp = flask.Response(stream(), mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Accel-Buffering"] = "no"
    return resp
