"""Helpers more than one test package uses: a database of its own cloned from a template, a flushed Redis
database, waiting until something holds. Plain functions, so fixtures of any scope can use them."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import psycopg
import redis as redis_lib
from psycopg import sql

from geodata.db import connect
from workers.services import _redis_ready as redis_ready
from workers.services import free_port

T = TypeVar("T")


@contextmanager
def cloned_db(admin_url: str, template: str, prefix: str, setup_sql: str | None = None) -> Iterator[str]:
    """The URL of a new database `prefix_<random>` cloned from `template` (then `setup_sql` run and
    committed in it), dropped on exit even if clients are still connected."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    url = psycopg.conninfo.make_conninfo(admin_url, dbname=name)
    try:
        if setup_sql:
            with psycopg.connect(url) as conn:
                conn.execute(setup_sql)
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def connected(url: str, setup_sql: str | None = None) -> Iterator[psycopg.Connection]:
    """A connection to `url` (geodata's), after `setup_sql` has run in a transaction of its own."""
    with connect(url) as conn:
        if setup_sql:
            with conn.transaction():
                conn.execute(setup_sql)
        yield conn


def flushed_redis_db(url: str, db: int) -> Iterator[str]:
    """Yield the URL of database `db` on the Redis server of `url`, flushed before and after (for fixtures)."""
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    test_url = f"{base}/{db}"
    client = redis_lib.Redis.from_url(test_url)
    client.flushdb()
    yield test_url
    client.flushdb()
    client.close()


def wait_for(fn: Callable[[], T], timeout: float, step: float = 0.1) -> T:
    """fn()'s first truthy value within `timeout` seconds, polled every `step`; else its value at the end."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = fn()
        if value:
            return value
        time.sleep(step)
    return fn()


@contextmanager
def own_redis(workdir: Path) -> Iterator[str]:
    """The URL of a throw-away redis-server (no persistence) run in `workdir`, stopped on exit."""
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
                             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_for(lambda: redis_ready(port), 20, 0.05):
            raise RuntimeError(f"redis-server on port {port} did not answer")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
