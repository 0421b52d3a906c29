"""Server-side sessions: the cookie holds a random id, the session lives in Redis until idle or logout.

A signed cookie session cannot be ended: a saved copy stays valid whatever /logout does. Here the
record is `gridwatch:session:<sha256 of the id>` (a leaked Redis dump holds no usable id) with a TTL
equal to the idle timeout of the account's role, set back to the full timeout by each request. Logout
deletes the record; so does a login (a new id: no fixation). A request writes the record only when it
changed the session; otherwise it only resets the TTL, so a slow request never puts back an older copy
over a newer one (a language switch, say).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets

from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

logger = logging.getLogger(__name__)

KEY_PREFIX = "gridwatch:session:"


def redis_key(sid: str) -> str:
    """The Redis key of the session whose cookie holds `sid`."""
    return KEY_PREFIX + hashlib.sha256(sid.encode("utf-8")).hexdigest()


class RedisSession(CallbackDict, SessionMixin):
    """A session dict that knows its id, whether it changed, and whether it must end or get a new id."""

    def __init__(self, initial=None, sid: str | None = None, new: bool = False):
        def on_update(self):
            self.modified = True

        super().__init__(initial, on_update)
        self.sid = sid
        self.new = new
        self.modified = False
        self.ended = False
        self.renewed_from: str | None = None

    def renew(self) -> None:
        """Give the session a new id at the end of this request and drop the old record (login)."""
        if self.sid and self.renewed_from is None:
            self.renewed_from = self.sid
        self.sid = None
        self.modified = True

    def end(self) -> None:
        """Delete the record and the cookie at the end of this request (logout, refused account)."""
        self.clear()
        self.ended = True


class RedisSessionInterface(SessionInterface):
    """Flask's session interface over Redis, with the idle timeout chosen per session by `ttl_of`."""

    def __init__(self, redis_client, ttl_of):
        # ttl_of(session) -> seconds: the role's idle timeout (short for anonymous sessions).
        self.redis = redis_client
        self.ttl_of = ttl_of

    def open_session(self, app, request):
        """The session named by the cookie, or a new empty one when it is unknown or expired."""
        sid = request.cookies.get(self.get_cookie_name(app))
        if sid and 20 <= len(sid) <= 100:
            raw = self.redis.get(redis_key(sid))
            if raw is not None:
                try:
                    return RedisSession(json.loads(raw), sid=sid)
                except ValueError:
                    logger.warning("unreadable session record dropped")
        return RedisSession(new=True)

    def save_session(self, app, session, response):
        """Write a changed session, else reset its idle clock; delete it when ended."""
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if session.renewed_from:
            self.redis.delete(redis_key(session.renewed_from))
        if session.ended:
            if session.sid:
                self.redis.delete(redis_key(session.sid))
            response.delete_cookie(name, domain=domain, path=path)
            return
        ttl = self.ttl_of(session)
        if session.modified and (session or session.sid):
            if not session.sid:
                session.sid = secrets.token_urlsafe(32)
            self.redis.set(redis_key(session.sid), json.dumps(dict(session)), ex=ttl)
            # No Expires: a browser-session cookie; the server's record carries the idle timeout.
            response.set_cookie(name, session.sid, domain=domain, path=path, httponly=self.get_cookie_httponly(app),
                                secure=self.get_cookie_secure(app), samesite=self.get_cookie_samesite(app))
            response.vary.add("Cookie")
        elif session.sid:
            self.redis.expire(redis_key(session.sid), ttl)
            response.vary.add("Cookie")
