"""Real PostGIS and Redis for every test: one database per test, cloned from a template built once.

The servers come from GRIDWATCH_TEST_DATABASE_URL / GRIDWATCH_TEST_REDIS_URL, else from the private
services of `gridwatch services up` (recorded in .gridwatch/services.json). A missing server fails the
run: these tests never skip for want of a service.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest
import redis as redis_lib
from psycopg import sql

from geodata import migrate
from workers.settings import Settings

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def _server_urls() -> tuple[str, str]:
    db = os.environ.get("GRIDWATCH_TEST_DATABASE_URL")
    rd = os.environ.get("GRIDWATCH_TEST_REDIS_URL")
    if not (db and rd):
        resolved = Settings().resolved()
        db = db or resolved.database_url
        rd = rd or resolved.redis_url
    if not db or not rd:
        pytest.fail(
            "tests need PostGIS and Redis: run `gridwatch services up` (make test does) or set "
            "GRIDWATCH_TEST_DATABASE_URL and GRIDWATCH_TEST_REDIS_URL",
            pytrace=False,
        )
    return db, rd


def _with_dbname(url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo(**info)


@pytest.fixture(scope="session")
def server_urls() -> tuple[str, str]:
    return _server_urls()


@pytest.fixture(scope="session")
def admin_url(server_urls) -> str:
    return _with_dbname(server_urls[0], "postgres")


def _create_db(admin_url: str, name: str, template: str | None = None) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            stmt = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        conn.execute(stmt)


def _drop_db(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def template_db(admin_url) -> str:
    """An empty migrated database, the template of every test's own."""
    name = f"gw_tpl_{uuid.uuid4().hex[:8]}"
    try:
        _create_db(admin_url, name)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostGIS is not reachable: {exc}", pytrace=False)
    url = _with_dbname(admin_url, name)
    with psycopg.connect(url) as conn:
        migrate.migrate(conn)
    yield name
    _drop_db(admin_url, name)


@pytest.fixture
def db_url(admin_url, template_db) -> str:
    """A fresh migrated database for this test alone."""
    name = f"gw_t_{uuid.uuid4().hex[:10]}"
    _create_db(admin_url, name, template_db)
    yield _with_dbname(admin_url, name)
    _drop_db(admin_url, name)


@pytest.fixture
def make_db(admin_url, template_db):
    """Factory for extra databases cloned from any template (the empty one by default)."""
    made = []

    def make(template: str | None = None) -> str:
        name = f"gw_t_{uuid.uuid4().hex[:10]}"
        _create_db(admin_url, name, template or template_db)
        made.append(name)
        return _with_dbname(admin_url, name)

    yield make
    for name in made:
        _drop_db(admin_url, name)


@pytest.fixture
def redis_url(server_urls) -> str:
    """A real Redis database, flushed before and after the test."""
    url = server_urls[1]
    # Tests use database 15 so a developer's demo data in database 0 survives `make test`.
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    test_url = f"{base}/15"
    client = redis_lib.Redis.from_url(test_url)
    try:
        client.flushdb()
    except redis_lib.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable: {exc}", pytrace=False)
    yield test_url
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout; in CI it must be there."""
    if not SHARED.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED} is missing in CI", pytrace=False)
        pytest.skip("../shared is not present outside CI")
    return SHARED
