"""Camera leases in Redis: one worker analyses a camera at a time, and a dead worker's cameras move.

A lease is `SET gridwatch:camera:lease:<CODE> <owner> NX PX <ms>`, renewed by its owner every third
of the period. A worker that dies stops renewing; its leases expire and another worker's next
acquisition round takes them, well within two lease periods. Workers also keep a heartbeat in a
sorted set so each can take only its fair share of the cameras and hand surplus back.
"""

from __future__ import annotations

import logging
import math
import time

import redis

logger = logging.getLogger(__name__)

LEASE_PREFIX = "gridwatch:camera:lease:"
"""Key prefix of camera leases; the value is the owning worker's id."""
WORKERS_KEY = "gridwatch:camera:workers"
"""Sorted set of live camera workers, scored by their last heartbeat (epoch ms)."""

# Renew or release only a lease we still own: another worker may hold it since ours expired.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


class Leases:
    """The leases of one worker (`owner`) with period `lease_ms`."""

    def __init__(self, client: redis.Redis, owner: str, lease_ms: int) -> None:
        self.client = client
        self.owner = owner
        self.lease_ms = lease_ms
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self, code: str) -> bool:
        """Take a free camera; False when another worker holds it."""
        return bool(self.client.set(LEASE_PREFIX + code, self.owner, nx=True, px=self.lease_ms))

    def renew(self, codes: list[str]) -> set[str]:
        """Extend our leases; returns the codes still ours (the others were lost)."""
        if not codes:
            return set()
        with self.client.pipeline(transaction=False) as pipe:
            for code in codes:
                self._renew(keys=[LEASE_PREFIX + code], args=[self.owner, self.lease_ms], client=pipe)
            results = pipe.execute()
        return {code for code, ok in zip(codes, results) if ok}

    def release(self, code: str) -> None:
        """Give a camera back (shutdown, config change, surplus)."""
        self._release(keys=[LEASE_PREFIX + code], args=[self.owner])

    def holder(self, code: str) -> str | None:
        """The worker holding a camera, if any."""
        value = self.client.get(LEASE_PREFIX + code)
        return value.decode() if isinstance(value, bytes) else value

    def heartbeat(self) -> int:
        """Mark this worker alive and drop silent ones; returns how many camera workers are alive."""
        now_ms = int(time.time() * 1000)
        with self.client.pipeline(transaction=False) as pipe:
            pipe.zadd(WORKERS_KEY, {self.owner: now_ms})
            pipe.zremrangebyscore(WORKERS_KEY, "-inf", now_ms - self.lease_ms)
            pipe.zcard(WORKERS_KEY)
            return max(1, int(pipe.execute()[-1]))

    def leave(self) -> None:
        """Remove this worker's heartbeat (clean shutdown)."""
        self.client.zrem(WORKERS_KEY, self.owner)


def fair_share(cameras: int, workers: int, max_cameras: int | None) -> int:
    """How many cameras one of `workers` live workers should hold, capped by max_cameras."""
    share = math.ceil(cameras / max(1, workers))
    return share if max_cameras is None else min(share, max_cameras)
