"""A value built by one dashboard process at a time and read by all of them through Redis.

Each gunicorn worker used to build the wall's snapshot for itself: with two workers the storm's most
expensive queries ran twice a second, and every resync that found the snapshot expired waited for
them. Here one process builds (under a short Redis lock) and writes the encoded value with the time
its build began; every process reads that. While a value is asked for (within `keep_warm_s` of the
last request), a thread of each asking process keeps it fresh: when it is `fresh_s` old, whichever
process takes the lock builds the next one, so requests find a value at most one build older than
`fresh_s` and never wait for the queries. A request that finds an older one gets it at once with
the time it was built (get_at), however old up to `stale_s`, while the next is built in the background:
the first request after a quiet spell is answered in milliseconds with a labelled old value, not after
the queries (2.45 s in the storm run); the caller asks again and finds the new one. A request waits for
a build only when there is nothing younger than `stale_s` at all (a new area, or Redis emptied), and
then for one build at most (that of the lock's holder, or its own).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from datetime import date, datetime
from typing import Callable

import flask

logger = logging.getLogger(__name__)

_APPS_MUTEX = threading.Lock()
POLL_S = 0.02  # how often a request with nothing to show looks for the value another process builds
# Deletes the lock only when it is still ours: a build that outlived the lock must not free another's.
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def _default(value):
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    raise TypeError(f"cannot share a {type(value).__name__}")


def _hook(obj: dict):
    if len(obj) == 1 and "$dt" in obj:
        return datetime.fromisoformat(obj["$dt"])
    if len(obj) == 1 and "$d" in obj:
        return date.fromisoformat(obj["$d"])
    return obj


def encode(value) -> bytes:
    """Plain rows (dicts, lists, numbers, strings, dates, datetimes with their offset) as JSON."""
    return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":")).encode()


def decode(raw: bytes):
    """The rows encode() was given (datetimes come back aware, at the same instant)."""
    return json.loads(raw, object_hook=_hook)


class SharedValues:
    """Values shared by every process of one dashboard through Redis (see the module's docstring).

    The Redis hash `key` holds `at` (wall-clock time the build began) and `data` (the encoded value);
    `key:lock` is held by the one builder. Each process keeps the value it decoded last, so a request
    costs one small HGET while nothing changed.
    """

    def __init__(self, redis_client, *, fresh_s: float, stale_s: float, lock_s: float, keep_warm_s: float):
        self.redis = redis_client
        self.fresh_s, self.stale_s, self.lock_s, self.keep_warm_s = fresh_s, stale_s, lock_s, keep_warm_s
        self._mutex = threading.Lock()
        self._local: dict[str, tuple[float, object]] = {}  # key -> (built at, decoded value)
        self._wanted: dict[str, float] = {}  # key -> when a request of this process last asked for it
        self._warming: set[str] = set()  # keys a thread of this process keeps fresh
        self._release = redis_client.register_script(_RELEASE)

    def get(self, key: str, build: Callable[[], object]):
        """The shared value of `key`, built by `build()` (in some process) when missing or too old."""
        return self.get_at(key, build)[0]

    def get_at(self, key: str, build: Callable[[], object]) -> tuple[object, float]:
        """The shared value of `key` and the wall-clock time its build began: the last one at once,
        however old up to `stale_s`, while the next is built; waited for only when there is none."""
        with self._mutex:
            self._wanted[key] = time.time()
            local = self._local.get(key)
        if local and time.time() - local[0] < self.fresh_s:
            self._keep_warm(key, build)
            return local[1], local[0]
        shared = self._read(key)
        self._keep_warm(key, build)
        if shared and time.time() - shared[0] < self.stale_s:
            return shared[1], shared[0]  # the next one is on its way (the warm-keeping thread, here or elsewhere)
        return self._wait(key, build, shared[0] if shared else 0.0)

    def _keep_warm(self, key: str, build: Callable[[], object]) -> None:
        with self._mutex:
            if key in self._warming:
                return
            self._warming.add(key)
        threading.Thread(target=self._refresh, args=(key, build), daemon=True, name=f"keep-warm {key}").start()

    def _refresh(self, key: str, build: Callable[[], object]) -> None:
        """Build the next value whenever the last turns `fresh_s` old, while requests still ask for it."""
        while True:
            with self._mutex:
                if time.time() - self._wanted.get(key, 0.0) > self.keep_warm_s:
                    self._warming.discard(key)  # decided under the mutex: a new request starts a new thread
                    return
            try:
                cur = self._read(key)
                age = time.time() - cur[0] if cur else float("inf")
                if age < self.fresh_s:
                    time.sleep(self.fresh_s - age)
                    continue
                token = self._lock(key)
                if token:
                    self._build(key, build, token)
                else:
                    time.sleep(0.1)  # another process builds this one; its result is read next turn
            except Exception:  # noqa: BLE001 - requests go on with the last value, or build themselves
                logger.exception("keeping the shared value %s fresh failed; trying again", key)
                time.sleep(self.fresh_s)

    def _read(self, key: str) -> tuple[float, object] | None:
        """The newest of Redis' value and this process' copy (decoded again only when it changed)."""
        at = self.redis.hget(key, "at")
        local = self._local.get(key)
        if at is None or (local and local[0] >= float(at)):
            return local
        at, raw = self.redis.hmget(key, "at", "data")
        if raw is None:
            return local
        got = (float(at), decode(raw))
        with self._mutex:
            if key not in self._local or self._local[key][0] < got[0]:
                self._local[key] = got
        return got

    def _lock(self, key: str) -> str | None:
        token = uuid.uuid4().hex
        return token if self.redis.set(f"{key}:lock", token, nx=True, px=int(self.lock_s * 1000)) else None

    def _build(self, key: str, build: Callable[[], object], token: str) -> tuple[object, float]:
        try:
            at = time.time()
            value = build()
            # The encoded form is what every other process reads; this one keeps the value as built.
            self.redis.hset(key, mapping={"at": repr(at), "data": encode(value)})
            # An area nobody watches any more leaves nothing behind once its value is too old to serve.
            self.redis.expire(key, max(60, int(self.stale_s) + 60))
            with self._mutex:
                if key not in self._local or self._local[key][0] < at:
                    self._local[key] = (at, value)
            return value, at
        finally:
            self._release(keys=[f"{key}:lock"], args=[token])

    def _wait(self, key: str, build: Callable[[], object], had: float) -> tuple[object, float]:
        """Nothing recent enough (`had`: when the value at hand was built): build it here, or wait for
        the build under way elsewhere to land (one build at most: on a loaded machine a build may take
        longer than `stale_s`, so any value newer than `had` will do), then build here if that process
        gave up (its lock lapsed after `lock_s`)."""
        deadline = time.monotonic() + self.lock_s

        def landed():
            shared = self._read(key)
            return shared if shared and (shared[0] > had or time.time() - shared[0] < self.stale_s) else None

        while True:
            token = self._lock(key)
            if token:
                # The lock is free when a build has just landed too: take that one rather than build again.
                got = landed()
                if got:
                    self._release(keys=[f"{key}:lock"], args=[token])
                    return got[1], got[0]
                return self._build(key, build, token)
            got = landed()
            if got:
                return got[1], got[0]
            if time.monotonic() >= deadline:
                logger.warning("no shared value %s within %.0f s: built here without the lock", key, self.lock_s)
                at = time.time()
                return build(), at
            time.sleep(POLL_S)


def of_app(name: str, **options) -> SharedValues:
    """The current app's SharedValues called `name` (one per process, made on first use with `options`)."""
    app = flask.current_app
    got = app.extensions.get(name)
    if got is None:
        with _APPS_MUTEX:
            got = app.extensions.setdefault(name, SharedValues(app.config["GRIDWATCH_REDIS"], **options))
    return got


def db_tag(database_url: str) -> str:
    """A short tag of the database for keys: two dashboards of two databases may share one Redis."""
    return hashlib.blake2b(database_url.encode(), digest_size=6).hexdigest()
