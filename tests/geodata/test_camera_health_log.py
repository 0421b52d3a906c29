"""camera_health_log: the trigger logs every change of camera.health, and availability per CST day is
the time-weighted share of each day's diagnosed time, computed in SQL from those intervals."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql

from geodata import analysis_repo as repo
from geodata import cameras as camera_repo
from geodata import db, migrate
from geodata.reports_repo import camera_availability
from grid.camera_availability import availability_rates
from grid.period import Period

CST = ZoneInfo("Asia/Shanghai")
CAM = "PS-CAM-0001"  # the small grid's camera, in sub-grid 44031000100102


def cst(day: int, hour: int, minute: int = 0) -> datetime:
    """A time of May 2026, CST."""
    return datetime(2026, 5, day, hour, minute, tzinfo=CST)


def add_camera(conn, code: str, lon: float = 114.305, lat: float = 22.705) -> None:
    conn.execute("INSERT INTO camera (code, name, geom) VALUES (%s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                 (code, code, lon, lat))


def log_rows(conn, code: str) -> list[dict]:
    # In the order written (the tests mix May 2026 with the registration at the real now).
    return conn.execute("SELECT at, health_from, health_to, reason FROM camera_health_log "
                        "WHERE camera_code = %s ORDER BY id", (code,)).fetchall()


def log_of(conn, code: str) -> list[tuple]:
    return [(r["health_from"], r["health_to"], r["reason"]) for r in log_rows(conn, code)]


def day_rates(url: str, first: str, last: str, now: datetime, codes=None):
    with db.connect(url, autocommit=True) as conn:
        cams = camera_availability(conn, Period.from_days(first, last), as_of=now)
    if codes is not None:
        cams = cams[cams["camera_code"].isin(codes)]
    return cams, availability_rates(cams, ["day"]).set_index("day")


def test_the_trigger_logs_inserts_and_changes_but_not_no_op_updates(small_grid_url):
    with db.connect(small_grid_url, autocommit=True) as conn:
        add_camera(conn, "CAM-NEW")
        assert camera_repo.set_health(conn, "CAM-NEW", "online", cst(1, 8))
        assert not camera_repo.set_health(conn, "CAM-NEW", "online", cst(1, 9))  # same health: nothing
        assert camera_repo.set_health(conn, "CAM-NEW", "degraded", cst(1, 10), reason="frozen")
        assert camera_repo.set_health(conn, "CAM-NEW", "offline", cst(1, 11), reason="offline")
        # A hand-made UPDATE that repeats the health, or touches other columns, is no change.
        conn.execute("UPDATE camera SET health = 'offline', name = 'renamed' WHERE code = 'CAM-NEW'")
        before = datetime.now(CST)
        conn.execute("UPDATE camera SET health = 'online' WHERE code = 'CAM-NEW'")  # health_at left as it was
        log = log_of(conn, "CAM-NEW")
        rows = log_rows(conn, "CAM-NEW")
        health = conn.execute("SELECT health FROM camera WHERE code = 'CAM-NEW'").fetchone()["health"]
    assert log == [(None, "unknown", None), ("unknown", "online", None), ("online", "degraded", "frozen"),
                   ("degraded", "offline", "offline"), ("offline", "online", None)]
    assert [r["at"] for r in rows[1:4]] == [cst(1, 8), cst(1, 10), cst(1, 11)]
    # Without a new health_at the log takes the time of the writing transaction.
    assert rows[-1]["at"] >= before - timedelta(seconds=5)
    assert health == log[-1][1]


def test_the_reason_belongs_to_one_change_only(small_grid_url):
    with db.connect(small_grid_url) as conn:
        camera_repo.set_health(conn, CAM, "degraded", cst(1, 10), reason="covered")
        # A later writer in its own transaction that knows no reason logs none.
        conn.execute("UPDATE camera SET health = 'online', health_at = %s WHERE code = %s", (cst(1, 11), CAM))
        conn.commit()
        assert log_of(conn, CAM)[-2:] == [("unknown", "degraded", "covered"), ("degraded", "online", None)]


def test_the_log_is_append_only(small_grid_url):
    with psycopg.connect(small_grid_url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM camera_health_log")
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE camera_health_log SET reason = 'x'")


def test_an_outage_across_midnight_counts_on_both_cst_days(small_grid_url):
    with db.connect(small_grid_url, autocommit=True) as conn:
        camera_repo.set_health(conn, CAM, "online", cst(1, 0))
        camera_repo.set_health(conn, CAM, "offline", cst(1, 22), reason="offline")
        camera_repo.set_health(conn, CAM, "online", cst(2, 2))
    cams, days = day_rates(small_grid_url, "2026-05-01", "2026-05-02", now=cst(20, 0))
    assert days["online_rate"].tolist() == pytest.approx([22 / 24, 22 / 24])
    assert days["offline_hours"].tolist() == pytest.approx([2.0, 2.0])
    assert days["known_share"].tolist() == pytest.approx([1.0, 1.0])
    assert days["cameras"].tolist() == [1, 1]
    # The camera is placed by its position: base grid SE, sub-grid 02 of the one community.
    assert set(cams["sub_grid_code"]) == {"44031000100102"} and set(cams["street_code"]) == {"440310001"}


def test_the_state_before_the_period_comes_from_the_last_row_before_it(small_grid_url):
    with db.connect(small_grid_url, autocommit=True) as conn:
        camera_repo.set_health(conn, CAM, "online", cst(1, 0))
        camera_repo.set_health(conn, CAM, "offline", cst(3, 12), reason="offline")
        camera_repo.set_health(conn, CAM, "degraded", cst(6, 6), reason="blurred")
    _, days = day_rates(small_grid_url, "2026-05-05", "2026-05-06", now=cst(20, 0))
    # Offline all of 5 May (no row that day), then 6 h offline and 18 h degraded on 6 May.
    assert days["online_rate"].tolist() == pytest.approx([0.0, 0.0])
    assert days["available_rate"].tolist() == pytest.approx([0.0, 18 / 24])
    assert days["offline_hours"].tolist() == pytest.approx([24.0, 6.0])


def test_unknown_time_is_left_out_of_the_denominator(small_grid_url):
    with db.connect(small_grid_url, autocommit=True) as conn:
        # CAM: never diagnosed before 06:00; then online, offline 12:00-18:00, online again.
        camera_repo.set_health(conn, CAM, "online", cst(1, 6))
        camera_repo.set_health(conn, CAM, "offline", cst(1, 12), reason="offline")
        camera_repo.set_health(conn, CAM, "online", cst(1, 18))
        # A second camera: online all day, then its worker loses it ('unknown') for 12 hours.
        add_camera(conn, "CAM-B", 114.315, 22.715)
        camera_repo.set_health(conn, "CAM-B", "online", cst(1, 0))
        camera_repo.set_health(conn, "CAM-B", "unknown", cst(2, 6))
        camera_repo.set_health(conn, "CAM-B", "online", cst(2, 18))
    # "Now" is noon of 2 May: the afternoon has not happened and is not counted as down either.
    cams, days = day_rates(small_grid_url, "2026-05-01", "2026-05-02", now=cst(2, 12), codes=[CAM, "CAM-B"])
    per_cam = availability_rates(cams, ["camera_code", "day"]).set_index(["camera_code", "day"])
    d1, d2 = days.index
    assert per_cam.loc[(CAM, d1), "online_rate"] == pytest.approx(12 / 18)
    assert per_cam.loc[(CAM, d1), "known_share"] == pytest.approx(18 / 24)
    assert per_cam.loc[(CAM, d2), "online_rate"] == pytest.approx(1.0)
    assert per_cam.loc[("CAM-B", d2), "online_rate"] == pytest.approx(1.0)
    assert per_cam.loc[("CAM-B", d2), "known_share"] == pytest.approx(6 / 12)
    # The district pools camera-time: day 1 = (12 + 24) online hours of (18 + 24) diagnosed.
    assert days.loc[d1, "online_rate"] == pytest.approx(36 / 42)
    assert days.loc[d2, "online_rate"] == pytest.approx(1.0)
    assert days.loc[d2, "known_share"] == pytest.approx((12 + 6) / 24)


def test_a_new_camera_is_unknown_and_counts_nowhere_until_diagnosed(small_grid_url):
    with db.connect(small_grid_url) as conn:
        rows = conn.execute("SELECT camera_code, health_from, health_to FROM camera_health_log").fetchall()
        created = conn.execute("SELECT created_at FROM camera WHERE code = %s", (CAM,)).fetchone()["created_at"]
        cams = repo.camera_availability(conn, created - timedelta(days=1), created + timedelta(days=1),
                                        created + timedelta(days=1))
    assert [tuple(r.values()) for r in rows] == [(CAM, None, "unknown")]
    # Never diagnosed: no figure rather than 0 %.
    assert len(cams) == 3 and (cams["online_s"] + cams["degraded_s"] + cams["offline_s"]).sum() == 0
    assert availability_rates(cams, ["day"])["online_rate"].isna().all()


def test_the_migration_logs_the_present_health_of_cameras_registered_before_it(admin_url, monkeypatch):
    name = f"gw_t_chl_{uuid.uuid4().hex[:8]}"
    url = psycopg.conninfo.make_conninfo(admin_url, dbname=name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        everything = migrate.available()
        with psycopg.connect(url) as conn:
            monkeypatch.setattr(migrate, "available", lambda: [m for m in everything if m.version < 11])
            migrate.migrate(conn)
            conn.execute("INSERT INTO camera (code, name, geom, health, health_at) VALUES "
                         "('OLD-1', 'a', ST_SetSRID(ST_MakePoint(114.3, 22.7), 4326), 'degraded', %s), "
                         "('OLD-2', 'b', ST_SetSRID(ST_MakePoint(114.3, 22.7), 4326), 'unknown', NULL)",
                         (cst(1, 9),))
            conn.commit()
            monkeypatch.setattr(migrate, "available", lambda: everything)
            migrate.migrate(conn)
            rows = conn.execute("SELECT l.camera_code, l.at = coalesce(c.health_at, c.created_at), l.health_from, "
                                "l.health_to FROM camera_health_log l JOIN camera c ON c.code = l.camera_code "
                                "ORDER BY 1").fetchall()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    assert rows == [("OLD-1", True, None, "degraded"), ("OLD-2", True, None, "unknown")]
