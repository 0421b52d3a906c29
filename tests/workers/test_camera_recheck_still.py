"""The recheck of a left object after the camera's lease moved: not `gone` while the object still stands there.

A runner that starts with the object already in view learns it as background, so the `object_left` rule
stays silent; before the fix the look said `gone` and the case stayed resolved. Now the case's own
snapshot decides (video/evidence.py), and without one the runner says `unknown` and why.
Real PostGIS, real Redis, a real CameraWorker taking over a lease from a worker that stopped.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import psycopg
import pytest
import redis as redis_lib

from geodata import db
from geodata.bus.messages import RecheckResult
from geodata.transitions import apply_transition
from grid.lifecycle import Role
from tests.video.clips import encode_h264
from tests.workers.test_camera_recheck import SETTINGS, dead, rechecks_of, rows
from tests.workers.test_ingest import camera_msg, push, run_worker
from video.config import parse_config
from video.media import snapshot_jpeg
from video.synthetic import sprites as sp
from video.synthetic.scenes import CONFIG, Actor, build
from workers.camera import CameraWorker, CameraWorkerConfig
from workers.camera_leases import LEASE_PREFIX
from workers.camera_recheck import Look, SceneMemory

PLAZA = CONFIG["zones"][1]["polygon"]
STILL_CONFIG = {"fps": 5, "zones": [{"name": "plaza", "polygon": PLAZA, "rules": [
    {"kind": "object_left", "seconds": 6, "matter": "HAZ-FIRE", "dispatch": "auto"}]}]}


def bag_scene(seconds: float, bag: bool, seed: int = 4):
    """The synthetic street with a bag standing in the plaza from the first frame to the last (or none)."""
    scene = build("bag_left", seed, "drawn")
    (old,) = [a for a in scene.actors if a.kind == "bag"]
    x, y = old.keys[-1][1], old.keys[-1][2]
    scene.actors = [Actor("bag", [(0.0, x, y), (seconds + 5, x, y)], sp.bag(40, (40, 60, 140)), size=30.0)] if bag else []
    scene.effects = {}
    scene.duration = seconds
    return scene


def blob_box(scene) -> tuple[float, float, float, float]:
    """The bag's box grown by a quarter, as the still blob's box around it is drawn in the case's snapshot."""
    x1, y1, x2, y2 = scene.box(scene.actors[0], 1.0)
    dx, dy = (x2 - x1) / 8, (y2 - y1) / 8
    return x1 - dx, y1 - dy, x2 + dx, y2 + dy


@pytest.fixture
def client(redis_url):
    c = redis_lib.Redis.from_url(redis_url)
    yield c
    c.close()


def left_object_case(url, redis_url, client, camera, box, media) -> str:
    """An object_left case raised two minutes ago by the camera's previous worker, then resolved."""
    raised = datetime.now(timezone.utc) - timedelta(minutes=2)
    report = camera_msg(camera=camera, matter="HAZ-FIRE", observed_at=raised.isoformat(), media=media,
                        attributes={"rule": "object_left", "zone": "plaza", "box": [round(v, 4) for v in box],
                                    "dispatch": "auto"},
                        situation={"id": f"s-{uuid.uuid4().hex[:8]}", "phase": "start"})
    (case,) = push(client, report)
    run_worker(url, redis_url)
    with db.connect(url, autocommit=True) as conn:
        status = conn.execute("SELECT status FROM incident WHERE id = %s", (case,)).fetchone()["status"]
        if status == "dispatched":
            apply_transition(conn, case, "accept", "admin1", Role.ADMIN)
        apply_transition(conn, case, "resolve", "admin1", Role.ADMIN, note="bag taken away")
    return case


def test_a_lease_move_with_the_object_still_in_view_does_not_say_gone(small_grid_url, redis_url, client, tmp_path):
    still = bag_scene(40.0, bag=True)
    empty = bag_scene(40.0, bag=False)
    box = blob_box(still)
    still_clip = encode_h264((f for f, _ in still.frames()), tmp_path / "still.mp4", 5.0)
    empty_clip = encode_h264((f for f, _ in empty.frames()), tmp_path / "empty.mp4", 5.0)
    media = tmp_path / "media"
    # The case's evidence, as the previous worker's recorder wrote it: the frame with the bag, the zone,
    # the box and the label drawn on it.
    frame = next(f for f, t in still.frames() if t >= 3.0)
    snap = "camera/{code}/20240501/s-left.jpg"
    cams = {"PS-CAM-0001": (still_clip, True), "PS-CAM-0002": (empty_clip, True), "PS-CAM-0003": (still_clip, False)}
    with psycopg.connect(small_grid_url) as conn:
        conn.execute("UPDATE camera SET url = %s, config = %s WHERE code = 'PS-CAM-0001'",
                     (str(still_clip), json.dumps(STILL_CONFIG)))
        for code in ("PS-CAM-0002", "PS-CAM-0003"):
            conn.execute("INSERT INTO camera (code, name, url, geom, config) VALUES (%s, 'x', %s, "
                         "ST_SetSRID(ST_MakePoint(114.315, 22.705), 4326), %s)",
                         (code, str(cams[code][0]), json.dumps(STILL_CONFIG)))
    cases = {}
    for code, (_, evidence) in cams.items():
        rel = snap.format(code=code)
        if evidence:
            (media / rel).parent.mkdir(parents=True, exist_ok=True)
            (media / rel).write_bytes(snapshot_jpeg(frame, box, PLAZA, f"{code} object_left @ plaza"))
        cases[code] = left_object_case(small_grid_url, redis_url, client, code, box, [rel] if evidence else [])
    # The previous worker held the cameras and stopped: its leases run out, and a new worker takes over.
    for code in cams:
        client.set(LEASE_PREFIX + code, "W-gone", px=1500)
    # A deadline well past the lease's expiry: the look must come from the new holder, not the fallback.
    config = CameraWorkerConfig(lease_s=3.0, reload_s=0.5, recheck=replace(SETTINGS, deadline_s=60.0),
                                only=frozenset(cams))
    worker = CameraWorker(small_grid_url, redis_url, media, config, worker_id="W-new")
    got = rechecks_of(worker, client, len(cams))
    assert set(got) == set(cams), got
    # The bag still stands there: the snapshot says so although the new runner's model learnt it as scene.
    bag = got["PS-CAM-0001"]
    assert bag.result is RecheckResult.PRESENT, bag
    assert "still matches the case's snapshot" in bag.reason, bag.reason
    (after,) = bag.media
    assert cv2.imread(str(media / after)) is not None
    # Taken away: the region shows the pavement, not the bag.
    assert got["PS-CAM-0002"].result is RecheckResult.GONE, got["PS-CAM-0002"]
    assert "no longer matches the case's snapshot" in got["PS-CAM-0002"].reason
    # No snapshot to compare and a runner that started after the case: it cannot tell, and says why.
    blind = got["PS-CAM-0003"]
    assert blind.result is RecheckResult.UNKNOWN, blind
    assert "started after the case was raised" in blind.reason and "no snapshot" in blind.reason, blind.reason

    run_worker(small_grid_url, redis_url)
    status = {code: rows(small_grid_url, case) for code, case in cases.items()}
    (reopened,) = [e for e in status["PS-CAM-0001"][1] if e["action"] == "reopen"]
    assert status["PS-CAM-0001"][0] == "in_progress" and reopened["actor"] == "system:camera"
    assert "still matches the case's snapshot" in reopened["data"]["reason"]
    for code, result in (("PS-CAM-0002", "gone"), ("PS-CAM-0003", "unknown")):
        state, events = status[code]
        assert state == "resolved" and events[-1]["action"] == "recheck" and events[-1]["data"]["result"] == result
    assert [d for d, _ in dead(client) if d.get("type") == "recheck"] == []


# ---- the verdict of a still rule's silence, without services ----------------------------------------

def still_due(raised_at, box=None, evidence=None):
    from geodata.rechecks import RecheckDue
    return RecheckDue(uuid.uuid4(), "PS-CAM-0001", "object_left", "plaza", 7, datetime.now(timezone.utc), 0.0,
                      raised_at, box, evidence)


NOW = datetime(2026, 12, 6, 8, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("known_from_s, raised_ago_s, expected, why", [
    # The runner knew the scene before the object arrived, and it is still new to its model: believed.
    (-3600, 60, RecheckResult.GONE, None),
    # Started after the case was raised (the lease moved): its model learnt the object as scene.
    (-30, 60, RecheckResult.UNKNOWN, "started after the case was raised"),
    # Knew the scene before, but the object is older than the model's absorb time (15 min).
    (-7200, 3600, RecheckResult.UNKNOWN, "over 15 min ago"),
])
def test_a_silent_still_rule_without_a_snapshot(known_from_s, raised_ago_s, expected, why):
    look = Look(still_due(NOW - timedelta(seconds=raised_ago_s)), 3.0, SETTINGS, rule_s=6.0)
    look.use_evidence(None, None)
    for i in range(16):
        look.feed(i * 0.2, [], set(), True, None)
    memory = SceneMemory(NOW.timestamp() + known_from_s, 900.0)
    result, reason = look.verdict(memory, NOW.timestamp())
    assert result is expected, reason
    assert (reason is None) if why is None else (why in reason and "no snapshot" in reason)


def test_the_snapshot_decides_over_a_silent_rule(tmp_path):
    scene = bag_scene(6.0, bag=True)
    box = blob_box(scene)
    frames = [f for f, _ in scene.frames()]
    empty = [f for f, _ in bag_scene(6.0, bag=False).frames()]
    cfg = parse_config({**CONFIG, "zones": STILL_CONFIG["zones"]}, "test")
    (tmp_path / "e.jpg").write_bytes(snapshot_jpeg(frames[0], box, cfg.zones[0].polygon, "evidence"))
    for shown, expected in ((frames, RecheckResult.PRESENT), (empty, RecheckResult.GONE)):
        look = Look(still_due(NOW, box, "e.jpg"), 3.0, SETTINGS, rule_s=6.0)
        look.use_evidence(tmp_path, cfg.zones[0].polygon)
        assert look.evidence is not None
        for i, f in enumerate(shown[:16]):
            look.feed(i * 0.2, [], set(), True, f)
        # A runner that started after the case: its silence says nothing, the snapshot everything.
        result, reason = look.verdict(SceneMemory(NOW.timestamp() + 10, 900.0), NOW.timestamp() + 60)
        assert result is expected, reason
        assert len(look.scores) == 4 and "snapshot" in reason
    # Half the region hidden by someone standing in front in every frame: no clear answer either way.
    hidden = []
    for f in frames[:16]:
        f = f.copy()
        h, w = f.shape[:2]
        x1, y1, x2, y2 = box
        f[int(y1 * h):int((y1 + y2) / 2 * h), int(x1 * w):int(x2 * w)] = np.uint8(200)
        hidden.append(f)
    look = Look(still_due(NOW, box, "e.jpg"), 3.0, SETTINGS, rule_s=6.0)
    look.use_evidence(tmp_path, cfg.zones[0].polygon)
    for i, f in enumerate(hidden):
        look.feed(i * 0.2, [], set(), True, f)
    result, reason = look.verdict(SceneMemory(NOW.timestamp() + 10, 900.0), NOW.timestamp() + 60)
    assert result is not RecheckResult.PRESENT, reason
