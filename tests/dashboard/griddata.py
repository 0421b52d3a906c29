"""A small Pingshan-like grid for dashboard tests: 2 streets, 3 communities, 12 base grids, accounts."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime, timedelta, timezone

import psycopg
from psycopg.types.json import Jsonb

from geodata import users
from geodata.queries import q
from video.media import media_names

PASSWORD = "gridwatch-test"
ACCOUNTS = {  # role -> (username, scope, worker)
    "wall": ("wall1", None, None),
    "dispatcher": ("disp1", None, None),
    "supervisor": ("sup1", "440310001", None),
    "grid_worker": ("worker1", None, "W001"),
    "maintenance": ("maint1", None, None),
    "admin": ("admin1", None, None),
}
# The camera event waiting for verification carries a snapshot and a clip, named as the camera worker
# names them (video.media.media_names); tests that look at them write the files into the media dir.
VERIFICATION_MEDIA = media_names("CAM000", "seed-verification", datetime(2025, 1, 1, tzinfo=timezone.utc))
# A supervisor of the other street, to check scopes.
OTHER_SUPERVISOR = ("sup2", "440310002", None)

COMMUNITIES = [  # code, street, name, (lon0, lat0, lon1, lat1)
    ("440310001001", "440310001", "六和社区", (114.30, 22.65, 114.35, 22.70)),
    ("440310001002", "440310001", "和平社区", (114.30, 22.70, 114.35, 22.75)),
    ("440310002001", "440310002", "坑梓社区", (114.35, 22.65, 114.40, 22.75)),
]
MATTERS = [  # code, name, name_en, family, priority, deadline hours
    ("crime_intrusion", "闯入禁区", "Intrusion into a restricted zone", "crime", 1, 2),
    ("crime_crowd", "人员异常聚集", "Crowd gathering", "crime", 1, 1),
    ("dispute_neighbour", "邻里纠纷", "Neighbour dispute", "dispute", 3, 72),
    ("hazard_fire_exit", "消防通道堵塞", "Blocked fire exit", "hazard", 2, 24),
    ("maint_camera_offline", "摄像机离线", "Camera offline", "maintenance", 2, 24),
]


def _box(x0, y0, x1, y1) -> str:
    return f"MULTIPOLYGON((({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0})))"


def seed(url: str, *, incidents: int = 40) -> dict:
    """Fill a migrated database; returns handy ids (verification incident, worker task, ...)."""
    now = datetime.now(timezone.utc)
    out: dict = {}
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO district VALUES ('440310', '坪山区', 'Pingshan', ST_GeomFromText(%s, 4326))",
                     (_box(114.30, 22.65, 114.40, 22.75),))
        conn.execute("INSERT INTO street VALUES ('440310001', '440310', '坪山街道', 'Pingshan Street', "
                     "ST_GeomFromText(%s, 4326))", (_box(114.30, 22.65, 114.35, 22.75),))
        conn.execute("INSERT INTO street VALUES ('440310002', '440310', '坑梓街道', 'Kengzi Street', "
                     "ST_GeomFromText(%s, 4326))", (_box(114.35, 22.65, 114.40, 22.75),))
        workers = []
        for ci, (code, street, name, (x0, y0, x1, y1)) in enumerate(COMMUNITIES):
            conn.execute("INSERT INTO community VALUES (%s, %s, %s, %s, ST_GeomFromText(%s, 4326))",
                         (code, street, name, name, _box(x0, y0, x1, y1)))
            xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
            boxes = [(x0, y0, xm, ym), (xm, y0, x1, ym), (x0, ym, xm, y1), (xm, ym, x1, y1)]
            for s in (1, 2):
                conn.execute("INSERT INTO sub_grid (code, community_code, name) VALUES (%s, %s, %s)",
                             (f"{code}{s:02d}", code, f"{name}第{s}网格"))
            for b, bx in enumerate(boxes, start=1):
                sub = f"{code}{1 if b <= 2 else 2:02d}"
                conn.execute("INSERT INTO base_grid VALUES (%s, %s, %s, %s, ST_GeomFromText(%s, 4326))",
                             (f"{code}{b:03d}", code, sub, f"{name}{b}号", _box(*bx)))
            for s in (1, 2):
                w = f"W{ci * 2 + s:03d}"
                workers.append((w, f"{code}{s:02d}"))
                conn.execute("INSERT INTO grid_worker (code, name, community_code, last_geom, last_seen_at) "
                             "VALUES (%s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), now())",
                             (w, f"网格员{ci * 2 + s}", code, xm - 0.01 + 0.02 * (s - 1), ym))
                conn.execute("INSERT INTO sub_grid_assignment (sub_grid_code, worker_code, role) "
                             "VALUES (%s, %s, 'primary')", (f"{code}{s:02d}", w))
        for m in MATTERS:
            conn.execute("INSERT INTO matter (code, name, name_en, family, priority, deadline_hours) "
                         "VALUES (%s, %s, %s, %s, %s, %s)", m)
        for i, health in enumerate(["online", "online", "degraded", "offline"]):
            conn.execute("INSERT INTO camera (code, name, geom, health, health_at, config) VALUES "
                         "(%s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, now(), %s)",
                         (f"CAM{i:03d}", f"摄像机{i}", 114.31 + 0.02 * i, 22.68 + 0.01 * i, health,
                          Jsonb({"zones": [{"name": "gate", "rules": [{"kind": "intrusion"}],
                                            "polygon": [[0.1, 0.5], [0.5, 0.5], [0.5, 0.9], [0.1, 0.9]]}]})))
        statuses = ["dispatched", "accepted", "in_progress", "resolved", "closed", "closed", "returned"]
        for k in range(incidents):
            ci = k % 3
            code, street, _, (x0, y0, x1, y1) = COMMUNITIES[ci]
            lon, lat = x0 + 0.004 + (k * 0.0013) % (x1 - x0 - 0.008), y0 + 0.004 + (k * 0.0021) % (y1 - y0 - 0.008)
            base = conn.execute("SELECT code, sub_grid_code FROM base_grid WHERE ST_Intersects(geom, "
                                "ST_SetSRID(ST_MakePoint(%s, %s), 4326))", (lon, lat)).fetchone()
            m = MATTERS[2 + k % 3]
            status = statuses[k % len(statuses)]
            worker = next(w for w, s in workers if s == base[1])
            created = now - timedelta(hours=k * 3)
            _incident(conn, uuid.uuid4(), m, status, lon, lat, base, code, street, worker, created,
                      queue="worker", source="grid_worker")
        # One camera event waiting for verification, one high-priority alarm, one task for worker1 (W001).
        out["verification"] = _incident(conn, uuid.uuid4(), MATTERS[1], "reported", 114.312, 22.665,
                                         ("440310001001001", "44031000100101"), "440310001001", "440310001",
                                         None, now - timedelta(minutes=5), queue="verification", source="camera",
                                         camera="CAM000", media=list(VERIFICATION_MEDIA))
        out["alarm"] = _incident(conn, uuid.uuid4(), MATTERS[0], "dispatched", 114.313, 22.666,
                                 ("440310001001001", "44031000100101"), "440310001001", "440310001", "W001",
                                 now - timedelta(minutes=3), queue="worker", source="camera", camera="CAM000")
        out["task"] = _incident(conn, uuid.uuid4(), MATTERS[3], "dispatched", 114.314, 22.667,
                                ("440310001001001", "44031000100101"), "440310001001", "440310001", "W001",
                                now - timedelta(minutes=30), queue="worker", source="grid_worker")
        conn.commit()
        # The accounts go in through the product's own insert, with one argon2 hash of PASSWORD per process:
        # hashing it again for each of 7 accounts in every seeded database cost seconds a seed on a busy
        # machine. create_user's checks have their own tests (tests/geodata, tests/dashboard/test_users.py).
        for role, (name, scope, worker) in [*ACCOUNTS.items(), ("supervisor", OTHER_SUPERVISOR)]:
            conn.execute(q("user_insert"), {"username": name, "password_hash": password_hash(), "role": role,
                                            "scope_code": scope, "worker_code": worker})
        conn.commit()
    return {k: str(v) for k, v in out.items()}


@functools.cache
def password_hash() -> str:
    """An argon2 hash of PASSWORD, made once per process (each hash carries its own salt and parameters)."""
    return users.hash_password(PASSWORD)


def _incident(conn, iid, m, status, lon, lat, base, community, street, worker, created, *, queue, source,
              camera=None, media=()):
    dispatched = created if status != "reported" else None
    due = created + timedelta(hours=m[5]) if dispatched else None
    closed = created + timedelta(hours=1) if status == "closed" else None
    conn.execute(
        "INSERT INTO incident (id, matter_code, source, status, priority, queue, geom, base_grid_code, sub_grid_code, "
        "community_code, street_code, worker_code, camera_code, observed_at, created_at, dispatched_at, due_at, "
        "closed_at, on_time, description) VALUES (%s, %s, %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), "
        "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (iid, m[0], source, status, m[4], queue, lon, lat, base[0], base[1], community, street, worker, camera,
         created, created, dispatched, due, closed, True if closed else None, f"测试事件 {m[1]}"))
    conn.execute("INSERT INTO incident_report (event_id, incident_id, source, matter_code, observed_at, geom, media) "
                 "VALUES (%s, %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s)",
                 (iid, iid, source, m[0], created, lon, lat, Jsonb(list(media))))
    conn.execute("INSERT INTO incident_event (incident_id, at, actor, action, to_status) VALUES (%s, %s, 'ingest', "
                 "'create', %s)", (iid, created, status))
    return iid
