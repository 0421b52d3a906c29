"""Accounts: argon2 password hashes, create, verify and list users of app_user."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from geodata.queries import q

logger = logging.getLogger(__name__)

ROLES = ("dispatcher", "supervisor", "grid_worker", "maintenance", "wall", "admin")
MIN_PASSWORD = 8
_HASHER = PasswordHasher()
# Verifying an unknown name still costs one hash, so timing does not reveal which names exist.
_DUMMY_HASH = _HASHER.hash("gridwatch-no-such-user")


class UserError(ValueError):
    """A refused account operation, with a message for the person at the terminal."""


@dataclass(frozen=True)
class User:
    """A logged-in or listed account, without its hash."""

    id: int
    username: str
    role: str
    scope_code: str | None = None
    worker_code: str | None = None
    disabled: bool = False


def _user(row: dict) -> User:
    return User(row["id"], row["username"], row["role"], row["scope_code"], row["worker_code"], row["disabled"])


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _HASHER.hash(password)


def create_user(conn: psycopg.Connection, username: str, password: str, role: str, *,
                scope_code: str | None = None, worker_code: str | None = None) -> User:
    """Add an account after checking role, scope, worker and password length; commits."""
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise UserError("the user name must be 1-64 characters without spaces")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; roles are: {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    if role == "grid_worker" and not worker_code:
        raise UserError("a grid_worker account needs --worker CODE")
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    if scope_code and not cur.execute(q("scope_exists"), {"code": scope_code}).fetchone()["found"]:
        raise UserError(f"no district, street or community has code {scope_code!r}")
    if worker_code and not cur.execute(q("worker_exists"), {"code": worker_code}).fetchone()["found"]:
        raise UserError(f"no grid worker has code {worker_code!r}")
    try:
        row = cur.execute(q("user_insert"), {
            "username": username, "password_hash": hash_password(password), "role": role,
            "scope_code": scope_code, "worker_code": worker_code,
        }).fetchone()
    except psycopg.errors.UniqueViolation:
        conn.rollback()
        raise UserError(f"user {username!r} exists already") from None
    conn.commit()
    logger.info("created user %s with role %s", username, role)
    return _user(row)


def verify_user(conn: psycopg.Connection, username: str, password: str) -> User | None:
    """The account when name and password match and it is enabled, else None."""
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    row = cur.execute(q("user_by_name"), {"username": username}).fetchone()
    try:
        _HASHER.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None or row["disabled"]:
        return None
    if _HASHER.check_needs_rehash(row["password_hash"]):
        cur.execute(q("user_set_hash"), {"id": row["id"], "password_hash": hash_password(password)})
        conn.commit()
    return _user(row)


def get_user(conn: psycopg.Connection, username: str) -> User | None:
    """One account by name, or None."""
    row = conn.cursor(row_factory=psycopg.rows.dict_row).execute(
        q("user_by_name"), {"username": username}).fetchone()
    return _user(row) if row else None


def user_by_id(conn: psycopg.Connection, user_id: int) -> User | None:
    """One account by id as stored now (enabled or not), or None."""
    row = conn.cursor(row_factory=psycopg.rows.dict_row).execute(q("user_by_id"), {"id": user_id}).fetchone()
    return _user(row) if row else None


def set_disabled(conn: psycopg.Connection, username: str, disabled: bool) -> User:
    """Disable or enable an account; commits. Its sessions and tokens are refused from their next request."""
    row = conn.cursor(row_factory=psycopg.rows.dict_row).execute(
        q("user_set_disabled"), {"username": username, "disabled": disabled}).fetchone()
    if row is None:
        conn.rollback()
        raise UserError(f"no user {username!r}")
    conn.commit()
    logger.info("%s user %s", "disabled" if disabled else "enabled", username)
    return _user(row)


def list_users(conn: psycopg.Connection) -> list[User]:
    """Every account, by role and name."""
    rows = conn.cursor(row_factory=psycopg.rows.dict_row).execute(q("user_list")).fetchall()
    return [_user(r) for r in rows]
