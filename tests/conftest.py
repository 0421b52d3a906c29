"""Real PostGIS and Redis for every test: one database per test, cloned from a template built once.

The servers come from GRIDWATCH_TEST_DATABASE_URL / GRIDWATCH_TEST_REDIS_URL, else from the private
services of `gridwatch services up` (recorded in .gridwatch/services.json). A missing server fails the
run: these tests never skip for want of a service.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis as redis_lib
from psycopg import sql

from geodata import migrate
from geodata.settings import Settings
from tests.rig import own_redis

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
def server_urls(tmp_path_factory) -> Iterator[tuple[str, str]]:
    db, rd = _server_urls()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or worker == "gw0":
        yield db, rd
        return
    # Tests of a package share fixed Redis database numbers (15, 11, 12...): with tests run in
    # parallel (pytest -n), every other worker gets a Redis server of its own. PostgreSQL needs no such
    # thing: every test database has a random name.
    with own_redis(tmp_path_factory.mktemp(f"redis-{worker}")) as url:
        yield db, url


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


SMALL_GRID_SQL = """
INSERT INTO district (code, name, geom) VALUES
  ('440310', '坪山区', ST_Multi(ST_MakeEnvelope(114.28, 22.68, 114.34, 22.74, 4326)));
INSERT INTO street (code, district_code, name, geom) VALUES
  ('440310001', '440310', '坪山街道', ST_Multi(ST_MakeEnvelope(114.30, 22.70, 114.32, 22.72, 4326)));
INSERT INTO community (code, street_code, name, geom) VALUES
  ('440310001001', '440310001', '坪山社区', ST_Multi(ST_MakeEnvelope(114.30, 22.70, 114.32, 22.72, 4326)));
INSERT INTO sub_grid (code, community_code, name) VALUES
  ('44031000100101', '440310001001', '坪山社区第1综治网格'),
  ('44031000100102', '440310001001', '坪山社区第2综治网格');
INSERT INTO base_grid (code, community_code, sub_grid_code, name, geom) VALUES
  ('440310001001001', '440310001001', '44031000100101', 'SW', ST_Multi(ST_MakeEnvelope(114.30, 22.70, 114.31, 22.71, 4326))),
  ('440310001001002', '440310001001', '44031000100101', 'NW', ST_Multi(ST_MakeEnvelope(114.30, 22.71, 114.31, 22.72, 4326))),
  ('440310001001003', '440310001001', '44031000100102', 'SE', ST_Multi(ST_MakeEnvelope(114.31, 22.70, 114.32, 22.71, 4326))),
  ('440310001001004', '440310001001', '44031000100102', 'NE', ST_Multi(ST_MakeEnvelope(114.31, 22.71, 114.32, 22.72, 4326)));
INSERT INTO grid_worker (code, name, community_code) VALUES
  ('W001', '张伟', '440310001001'), ('W002', '李娜', '440310001001'), ('W003', '王芳', '440310001001');
INSERT INTO sub_grid_assignment (sub_grid_code, worker_code, role) VALUES
  ('44031000100101', 'W001', 'primary'), ('44031000100101', 'W003', 'backup'),
  ('44031000100102', 'W002', 'primary');
INSERT INTO matter (code, name, name_en, family, priority, deadline_hours, escalation) VALUES
  ('DSP-NEIGHBOR', '邻里纠纷', 'Neighbour dispute', 'dispute', 2, 48, '{community,street}'),
  ('HAZ-FIRE', '消防隐患', 'Fire hazard', 'hazard', 1, 4, '{community,street,district}'),
  ('CRM-INTRUSION', '区域入侵', 'Intrusion', 'crime', 1, 1, '{community,street,district}'),
  ('CRM-LOITER', '可疑徘徊', 'Loitering', 'crime', 2, 2, '{community,street}'),
  ('MNT-CAMERA', '摄像头故障', 'Camera fault', 'maintenance', 2, 24, '{community}');
INSERT INTO camera (code, name, url, geom, config) VALUES
  ('PS-CAM-0001', '坪山社区东门', 'rtsp://127.0.0.1:8554/cam1', ST_SetSRID(ST_MakePoint(114.315, 22.705), 4326),
   '{"calibration": [{"px": [0, 1], "lonlat": [114.3140, 22.7040]}, {"px": [1, 1], "lonlat": [114.3160, 22.7040]},
                     {"px": [1, 0], "lonlat": [114.3160, 22.7060]}, {"px": [0, 0], "lonlat": [114.3140, 22.7060]}],
     "zones": [{"name": "gate", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]],
                "rules": [{"kind": "intrusion", "dispatch": "auto"}, {"kind": "loitering", "seconds": 30}]}]}');
"""


@pytest.fixture(scope="session")
def small_grid_sql() -> str:
    """SQL that loads the small grid into a migrated database."""
    return SMALL_GRID_SQL


@pytest.fixture(scope="session")
def small_grid_template(admin_url, template_db) -> str:
    """A template with one community of four base grids in two sub-grids, workers, matters, a camera."""
    name = f"gw_small_{uuid.uuid4().hex[:8]}"
    _create_db(admin_url, name, template_db)
    with psycopg.connect(_with_dbname(admin_url, name)) as conn:
        conn.execute(SMALL_GRID_SQL)
    yield name
    _drop_db(admin_url, name)


@pytest.fixture
def small_grid_url(make_db, small_grid_template) -> str:
    """A fresh database holding the small grid."""
    return make_db(small_grid_template)


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright (never a downloaded browser), one for the whole run.

    It lives here, not in a package's conftest, because Playwright's sync API allows one instance per
    process: a second session fixture (the dashboard's and the system tests' rigs) fails to start.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def pytest_collection_modifyitems(items) -> None:
    _unique_ids(items)


def _unique_ids(items) -> None:
    """Give each item a node id of its own. schemathesis's operations of one test share their function's
    id; pytest-xdist hands out tests by id, and ran one operation of each such test in parallel runs."""
    seen: dict[str, int] = {}
    for item in items:
        seen[item.nodeid] = seen.get(item.nodeid, 0) + 1
    for item in items:
        if seen[item.nodeid] > 1 and item.name.endswith("]") and "[" not in item.nodeid:
            params = item.name.split("[", 1)[1][:-1]
            if hasattr(item, "_id"):  # pytest 9 keeps the id structured
                item._id = item._id.with_params(params)
            else:
                item._nodeid = f"{item._nodeid}[{params}]"
