"""API keys of Open311 clients: create (shown once), verify, revoke, list. Only hashes are stored.

A key is 32 random bytes, so a plain SHA-256 of it cannot be brute-forced and can be looked up by
its hash directly (a salted slow hash would force trying every row on each request).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from geodata.queries import q

logger = logging.getLogger(__name__)

PREFIX = "gw_"


class ApiKeyError(ValueError):
    """A refused key operation, with a message for the person at the terminal."""


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without the key itself."""

    id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None = None


def _key(row: dict) -> ApiKey:
    return ApiKey(row["id"], row["name"], row["created_at"], row["revoked_at"])


def key_hash(key: str) -> str:
    """The stored form of a key: SHA-256, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(conn: psycopg.Connection, name: str) -> tuple[ApiKey, str]:
    """Store a new key for client `name`; return it with the plain key, which is never stored (commits)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ApiKeyError("the key name must be 1-100 characters")
    plain = PREFIX + secrets.token_urlsafe(32)
    cur = conn.cursor(row_factory=dict_row)
    try:
        with conn.transaction():
            row = cur.execute(q("api_key_insert"), {"name": name, "key_hash": key_hash(plain)}).fetchone()
    except psycopg.errors.UniqueViolation:
        raise ApiKeyError(f"client {name!r} has a live key already; revoke it first") from None
    logger.info("created API key %s for %s", row["id"], name)
    return _key(row), plain


def verify_key(conn: psycopg.Connection, key: str | None) -> ApiKey | None:
    """The live key matching `key`, or None (unknown, revoked or malformed)."""
    if not key or not key.startswith(PREFIX) or len(key) > 200:
        return None
    wanted = key_hash(key)
    with conn.transaction():
        row = conn.cursor(row_factory=dict_row).execute(q("api_key_by_hash"), {"key_hash": wanted}).fetchone()
    if row is None or row["revoked_at"] is not None:
        return None
    return _key(row)


def revoke_key(conn: psycopg.Connection, name: str) -> ApiKey:
    """Revoke the live key of client `name` (commits)."""
    with conn.transaction():
        row = conn.cursor(row_factory=dict_row).execute(q("api_key_revoke"), {"name": name}).fetchone()
    if row is None:
        raise ApiKeyError(f"client {name!r} has no live key")
    logger.info("revoked API key %s of %s", row["id"], name)
    return _key(row)


def list_keys(conn: psycopg.Connection) -> list[ApiKey]:
    """Every key, live and revoked, by name."""
    with conn.transaction():
        rows = conn.cursor(row_factory=dict_row).execute(q("api_key_list")).fetchall()
    return [_key(r) for r in rows]
