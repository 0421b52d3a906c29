"""Demo accounts: one per role, argon2-hashed, with passwords anyone running the demo may read."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher

ROLES = ("dispatcher", "supervisor", "grid_worker", "maintenance", "wall", "admin")


@dataclass(frozen=True)
class Account:
    """A demo login; the password is printed by `gridwatch seed demo`, never stored in clear."""

    username: str
    role: str
    password: str
    scope: str | None = None
    worker: str | None = None


def demo_password(role: str) -> str:
    """The published password of a demo account."""
    return f"{role}-demo"


def demo_accounts(street_code: str, worker_code: str) -> list[Account]:
    """One account per role: the supervisor watches `street_code`, the grid worker is `worker_code`."""
    out = []
    for role in ROLES:
        out.append(Account(
            username=role, role=role, password=demo_password(role),
            scope=street_code if role == "supervisor" else None,
            worker=worker_code if role == "grid_worker" else None,
        ))
    return out


def account_rows(accounts: list[Account]) -> list[tuple]:
    """Rows of app_user with argon2 hashes."""
    hasher = PasswordHasher()
    return [(a.username, hasher.hash(a.password), a.role, a.scope, a.worker) for a in accounts]
