"""The references of incidents, reports and history, checked per statement (migration 0013) instead of
by foreign keys: the same rule both ways, the same constraint names, and the same locking."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest

from geodata.db import connect

COMMUNITY = "440310001001"
SUB_GRID = COMMUNITY + "01"
BASE_GRID = COMMUNITY + "001"
BOX = "ST_Multi(ST_MakeEnvelope(114.3, 22.65, 114.4, 22.75, 4326))"
POINT = "ST_SetSRID(ST_MakePoint(114.35, 22.70), 4326)"


@pytest.fixture
def conn(db_url):
    with connect(db_url) as c:
        with c.transaction():
            c.execute(f"INSERT INTO district (code, name, geom) VALUES ('440310', 'Pingshan', {BOX})")
            c.execute(f"INSERT INTO street (code, district_code, name, geom) VALUES ('440310001', '440310', 'S', {BOX})")
            c.execute(f"INSERT INTO community (code, street_code, name, geom) VALUES (%s, '440310001', 'C', {BOX})",
                      (COMMUNITY,))
            c.execute("INSERT INTO sub_grid (code, community_code, name) VALUES (%s, %s, 'SG')", (SUB_GRID, COMMUNITY))
            c.execute(f"INSERT INTO base_grid (code, community_code, sub_grid_code, name, geom) "
                      f"VALUES (%s, %s, %s, 'B', {BOX})", (BASE_GRID, COMMUNITY, SUB_GRID))
            c.execute("INSERT INTO matter (code, name, name_en, family, priority, deadline_hours) VALUES "
                      "('HZ01', '井盖破损', 'broken cover', 'hazard', 2, 4), ('HZ02', '占道', 'blocked', 'hazard', 2, 4)")
            c.execute("INSERT INTO grid_worker (code, name, community_code) VALUES ('W1', 'A', %(c)s), ('W2', 'B', %(c)s)",
                      {"c": COMMUNITY})
            c.execute(f"INSERT INTO camera (code, name, geom) VALUES ('CAM1', 'cam', {POINT}), ('CAM2', 'cam', {POINT})")
        yield c


def _insert_incident(c, iid, *, matter="HZ01", worker=None, camera=None):
    c.execute(f"INSERT INTO incident (id, matter_code, source, status, priority, queue, geom, base_grid_code, "
              f"sub_grid_code, community_code, street_code, worker_code, camera_code, observed_at) VALUES "
              f"(%s, %s, 'camera', 'reported', 2, 'verification', {POINT}, %s, %s, %s, '440310001', %s, %s, now())",
              (iid, matter, BASE_GRID, SUB_GRID, COMMUNITY, worker, camera))


def _insert_report(c, event_id, incident_id, matter="HZ01"):
    c.execute(f"INSERT INTO incident_report (event_id, incident_id, source, matter_code, observed_at, geom) "
              f"VALUES (%s, %s, 'camera', %s, now(), {POINT})", (event_id, incident_id, matter))


def _insert_event(c, incident_id):
    c.execute("INSERT INTO incident_event (incident_id, actor, action, to_status) VALUES (%s, 'x', 'report', 'reported')",
              (incident_id,))


def _refused(c, constraint, fn, *args, **kw):
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as info:
        with c.transaction():
            fn(*args, **kw)
    assert info.value.diag.constraint_name in ({constraint} if isinstance(constraint, str) else constraint)
    return info.value


def _case(c, **kw) -> uuid.UUID:
    iid = uuid.uuid4()
    with c.transaction():
        _insert_incident(c, iid, **kw)
        _insert_report(c, iid, iid)
        _insert_event(c, iid)
    return iid


def test_a_case_with_stored_references_is_written(conn):
    iid = _case(conn, worker="W1", camera="CAM1")
    assert conn.execute("SELECT count(*) AS n FROM incident_event WHERE incident_id = %s", (iid,)).fetchone()["n"] == 1


@pytest.mark.parametrize("field, value, constraint", [
    ("matter", "NOPE", "incident_matter_code_fkey"),
    ("worker", "W9", "incident_worker_code_fkey"),
    ("camera", "CAM9", "incident_camera_code_fkey"),
])
def test_an_incident_must_name_stored_rows(conn, field, value, constraint):
    exc = _refused(conn, constraint, _insert_incident, conn, uuid.uuid4(), **{field: value})
    assert value in exc.diag.message_detail
    assert conn.execute("SELECT count(*) AS n FROM incident").fetchone()["n"] == 0


def test_one_bad_row_refuses_the_whole_statement(conn):
    good, bad = uuid.uuid4(), uuid.uuid4()
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        with conn.transaction():
            conn.execute(
                f"INSERT INTO incident (id, matter_code, source, status, priority, geom, observed_at) "
                f"VALUES (%s, 'HZ01', 'camera', 'reported', 2, {POINT}, now()), "
                f"(%s, 'HZ01', 'camera', 'reported', 2, {POINT}, now()), "
                f"(gen_random_uuid(), 'HZ01', 'camera', 'reported', 2, {POINT}, now())", (good, bad))
            conn.execute("UPDATE incident SET worker_code = CASE WHEN id = %s THEN 'W9' ELSE 'W1' END", (bad,))
    assert conn.execute("SELECT count(*) AS n FROM incident").fetchone()["n"] == 0


def test_changing_a_reference_is_checked_and_old_rows_are_not_judged(conn):
    iid = _case(conn, worker="W1")
    _refused(conn, "incident_worker_code_fkey",
             conn.execute, "UPDATE incident SET worker_code = 'W9' WHERE id = %s", (iid,))
    with conn.transaction():
        conn.execute("UPDATE incident SET worker_code = 'W2', status = 'dispatched' WHERE id = %s", (iid,))
    assert conn.execute("SELECT worker_code FROM incident WHERE id = %s", (iid,)).fetchone()["worker_code"] == "W2"


def test_reports_and_history_must_name_a_stored_incident_and_matter(conn):
    iid = _case(conn)
    _refused(conn, "incident_report_incident_id_fkey", _insert_report, conn, uuid.uuid4(), uuid.uuid4())
    _refused(conn, "incident_report_matter_code_fkey", _insert_report, conn, uuid.uuid4(), iid, "NOPE")
    _refused(conn, "incident_event_incident_id_fkey", _insert_event, conn, uuid.uuid4())
    _refused(conn, "incident_report_incident_id_fkey",
             conn.execute, "UPDATE incident_report SET incident_id = %s WHERE event_id = %s", (uuid.uuid4(), iid))


@pytest.mark.parametrize("statement, constraint", [
    ("DELETE FROM matter WHERE code = 'HZ01'", "incident_matter_code_fkey"),
    ("UPDATE matter SET code = 'HZ09' WHERE code = 'HZ01'", "incident_matter_code_fkey"),
    ("DELETE FROM grid_worker WHERE code = 'W1'", "incident_worker_code_fkey"),
    ("UPDATE grid_worker SET code = 'W9' WHERE code = 'W1'", "incident_worker_code_fkey"),
    ("DELETE FROM camera WHERE code = 'CAM1'", "incident_camera_code_fkey"),
    ("UPDATE camera SET code = 'CAM9' WHERE code = 'CAM1'", "incident_camera_code_fkey"),
])
def test_a_referenced_row_cannot_go_or_change_its_key(conn, statement, constraint):
    _case(conn, worker="W1", camera="CAM1")
    exc = _refused(conn, constraint, conn.execute, statement)
    assert "still referenced" in exc.diag.message_detail


def test_a_report_alone_keeps_its_matter(conn):
    iid = _case(conn)
    with conn.transaction():
        _insert_report(conn, uuid.uuid4(), iid, "HZ02")
    _refused(conn, "incident_report_matter_code_fkey", conn.execute, "DELETE FROM matter WHERE code = 'HZ02'")


def test_an_incident_with_reports_or_history_cannot_be_deleted(conn):
    iid = _case(conn)
    _refused(conn, {"incident_report_incident_id_fkey", "incident_event_incident_id_fkey"},
             conn.execute, "DELETE FROM incident WHERE id = %s", (iid,))


def test_unreferenced_rows_can_go_and_other_updates_pass(conn):
    _case(conn, worker="W1", camera="CAM1")
    with conn.transaction():
        conn.execute("UPDATE camera SET health = 'online' WHERE code = 'CAM1'")
        conn.execute("UPDATE matter SET name = '井盖' WHERE code = 'HZ01'")
        conn.execute("DELETE FROM camera WHERE code = 'CAM2'")
        conn.execute("DELETE FROM grid_worker WHERE code = 'W2'")
        conn.execute("DELETE FROM matter WHERE code = 'HZ02'")
    assert conn.execute("SELECT count(*) AS n FROM camera").fetchone()["n"] == 1


def test_a_delete_waits_for_a_writer_that_refers_to_the_row_then_fails(db_url, conn):
    """The checked row is locked FOR KEY SHARE, as a foreign key locks it: a concurrent delete
    cannot slip between the check and the commit."""
    writer = connect(db_url)
    writer.autocommit = False
    iid = uuid.uuid4()
    _insert_incident(writer, iid, worker="W2")  # holds the lock on W2 until it commits
    outcome: dict = {}

    def delete_w2():
        with connect(db_url) as other:
            try:
                with other.transaction():
                    other.execute("SET LOCAL lock_timeout = '20s'")
                    other.execute("DELETE FROM grid_worker WHERE code = 'W2'")
                outcome["deleted"] = True
            except psycopg.Error as exc:
                outcome["error"] = exc

    t = threading.Thread(target=delete_w2)
    t.start()
    t.join(1.0)
    assert t.is_alive(), "the delete did not wait for the writer's lock"
    writer.commit()
    writer.close()
    t.join(30)
    assert isinstance(outcome.get("error"), psycopg.errors.ForeignKeyViolation)
    assert conn.execute("SELECT count(*) AS n FROM grid_worker WHERE code = 'W2'").fetchone()["n"] == 1
