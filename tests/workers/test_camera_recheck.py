"""The camera's recheck (复核) of resolved camera cases: the look, ingest applying it, and a camera worker end to end."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from datetime import datetime, timezone

import cv2
import numpy as np
import psycopg
import pytest
import redis as redis_lib
from pydantic import ValidationError

from geodata import db, rechecks
from geodata.bus import DEAD_STREAM, INCIDENT_STREAM, InvalidMessage
from geodata.bus.messages import RecheckMessage, RecheckResult, parse_stream, recheck_message
from geodata.transitions import apply_transition
from grid.camera_matters import RULE_MATTERS
from grid.lifecycle import Role, TransitionError
from tests.video.clips import encode_h264
from tests.workers.test_ingest import camera_msg, msg, push, run_worker
from video.rules import Hit
from video.sources import Sample
from video.synthetic import sprites as sp
from video.synthetic.scenes import H, Actor, build
from workers.camera import CameraRunner, CameraWorker, CameraWorkerConfig
from workers.camera_recheck import CLAIM_KEY, Look, LookDone, RecheckConfig, look_seconds

SETTINGS = RecheckConfig(poll_s=0.3, deadline_s=4.0, min_look_s=3.0, grace_s=4.0, warmup_s=2.0)


def due(camera="SYN-CAM-0001", rule="intrusion", zone="gate", resolution=7) -> rechecks.RecheckDue:
    return rechecks.RecheckDue(uuid.uuid4(), camera, rule, zone, resolution, datetime.now(timezone.utc), 0.0)


# ---- the look, on its own -----------------------------------------------------------------------

HIT = [Hit("intrusion", "gate", (0.7, 0.5, 0.8, 0.9), 0.9, 1)]
OTHER = [Hit("loitering", "gate", (0.7, 0.5, 0.8, 0.9), 0.9, 1), Hit("intrusion", "plaza", None, 0.9, 2)]


@pytest.mark.parametrize("frames, expected, why", [
    # (hits or None for a blind frame, problems), 5 frames a second over 3 s
    ([(HIT, set())] * 16, RecheckResult.PRESENT, None),
    ([([], set())] * 16, RecheckResult.GONE, None),
    ([(OTHER, set())] * 16, RecheckResult.GONE, None),  # another rule, another zone: not this case
    # Hits in the first second only: the object left during the look.
    ([(HIT, set())] * 5 + [([], set())] * 11, RecheckResult.GONE, None),
    # A detector that sees the person in 3 frames of 5 (a standing person is re-checked once a second).
    ([(HIT if i % 5 < 3 else [], set()) for i in range(16)], RecheckResult.PRESENT, None),
    # One blind frame in sixteen is noise; a covered lens is not.
    ([(HIT, set())] * 8 + [(None, set())] + [(HIT, set())] * 7, RecheckResult.PRESENT, None),
    ([(HIT, set())] * 6 + [(None, {"covered"})] * 10, RecheckResult.UNKNOWN, "covered"),
    ([(None, set())] * 16, RecheckResult.UNKNOWN, "offline"),
    ([(HIT, {"moved"})] * 16, RecheckResult.UNKNOWN, "moved"),
])
def test_a_look_decides_present_gone_or_unknown(frames, expected, why):
    look = Look(due(), 3.0, SETTINGS)
    done = [look.feed(1000.0 + i * 0.2, hits, problems, hits is not None) for i, (hits, problems) in enumerate(frames)]
    assert done[-1] and not any(done[:-1])
    result, reason = look.verdict()
    assert result is expected
    assert (reason is None) if why is None else (why in reason)


def test_the_look_lasts_the_rules_seconds_within_bounds():
    scene = build("walk_through", 3, "drawn")
    # plaza: loitering 12 s, object_left 6 s; gate: intrusion (0 s: the floor)
    assert look_seconds(scene.config, "loitering", "plaza", SETTINGS) == 12.0
    assert look_seconds(scene.config, "intrusion", "gate", SETTINGS) == 3.0
    assert look_seconds(scene.config, "loitering", "plaza", RecheckConfig(max_look_s=5.0)) == 5.0
    assert look_seconds(scene.config, "crowd", "gate", SETTINGS) is None  # no such rule there any more


def test_recheck_messages_are_typed_and_refused_with_a_reason():
    at = datetime(2024, 5, 1, tzinfo=timezone.utc)
    good = recheck_message(v=1, event_id=uuid.uuid4(), incident_id=uuid.uuid4(), camera="PS-CAM-0001",
                           rule="intrusion", zone="gate", result=RecheckResult.GONE, observed_at=at,
                           media=["camera/PS-CAM-0001/20240501/recheck-a.jpg"], resolution=3)
    assert parse_stream(good.model_dump_json()) == good
    # A report is still a report; a report that merely mentions "recheck" too.
    report = json.dumps(camera_msg(description='"recheck"'))
    assert parse_stream(report).description == '"recheck"'
    wire = json.loads(good.model_dump_json())
    for change, fragment in [({"result": "unknown"}, "needs a reason"), ({"actor": "disp1"}, "actor: Extra inputs"),
                             ({"media": ["/etc/passwd"]}, "media[0]: media path must be relative"), ({"observed_at": "2024-05-01T00:00:00"}, "timezone"),
                             ({"result": "maybe"}, "result")]:
        with pytest.raises(InvalidMessage) as info:
            parse_stream(json.dumps({**wire, **change}))
        assert fragment in info.value.reason, info.value.reason


# ---- the runner looks again (synthetic scene, no services) --------------------------------------

def pacing_scene(seconds: float, person: bool = True, seed: int = 3):
    """The synthetic street with one person pacing inside the gate zone from the first frame (or nobody)."""
    scene = build("walk_through", seed, "drawn")
    rng = np.random.default_rng(seed)
    y = H * 0.86
    keys = [(float(t), 350.0 if (t // 4) % 2 == 0 else 430.0, y) for t in range(0, int(seconds) + 5, 4)]
    scene.actors = [Actor("person", keys, None, sp.person_colours(rng), 120.0)] if person else []
    scene.effects = {}
    scene.duration = seconds
    return scene


@pytest.mark.parametrize("person, expected", [(True, RecheckResult.PRESENT), (False, RecheckResult.GONE)])
def test_the_runner_looks_at_the_zone_again_and_writes_an_after_snapshot(tmp_path, person, expected):
    scene = pacing_scene(14.0, person)
    outbox: queue.Queue = queue.Queue()
    runner = CameraRunner(scene.config, 1, outbox, tmp_path, CameraWorkerConfig(), dict(RULE_MATTERS))
    asked = due()
    for frame, t in scene.frames():
        if t == 6.0:  # the case was resolved while the camera ran
            runner.looks.ask(Look(asked, 3.0, SETTINGS))
        runner.step(Sample(frame, t, 1000.0 + t))
    done = [i for i in list(outbox.queue) if isinstance(i, LookDone)]
    assert len(done) == 1
    m = done[0].message
    assert (m.result, m.incident_id, m.resolution, m.camera) == (expected, asked.incident_id, 7, "SYN-CAM-0001")
    assert 1009.0 <= m.observed_at.timestamp() <= 1010.0
    (snap,) = m.media
    image = cv2.imread(str(tmp_path / snap))
    assert snap.startswith("camera/SYN-CAM-0001/") and "recheck-" in snap and image is not None


def test_an_offline_camera_cannot_tell(tmp_path):
    scene = pacing_scene(1.0)
    outbox: queue.Queue = queue.Queue()
    runner = CameraRunner(scene.config, 1, outbox, tmp_path, CameraWorkerConfig(), dict(RULE_MATTERS))
    runner.looks.ask(Look(due(), 3.0, SETTINGS))
    for k in range(8):  # a stream that is down yields an empty sample about once a second (2 s warm-up)
        runner.step(Sample(None, float(k), 1000.0 + k))
    (done,) = [i for i in list(outbox.queue) if isinstance(i, LookDone)]
    assert done.message.result is RecheckResult.UNKNOWN and "offline" in done.message.reason
    assert done.message.media == []


# ---- ingest applies it (PostGIS, Redis) ---------------------------------------------------------

@pytest.fixture
def client(redis_url):
    c = redis_lib.Redis.from_url(redis_url)
    yield c
    c.close()


def resolved_case(url, redis_url, client, camera="PS-CAM-0001", source_camera=True) -> tuple[str, int]:
    """A camera intrusion case (or a grid worker's report) made by ingest, then accepted and resolved."""
    report = (camera_msg(camera=camera, attributes={"rule": "intrusion", "zone": "gate"},
                         situation={"id": f"s-{uuid.uuid4().hex[:8]}", "phase": "start"}) if source_camera else msg())
    (case,) = push(client, report)
    run_worker(url, redis_url)
    with db.connect(url, autocommit=True) as conn:
        apply_transition(conn, case, "accept", "admin1", Role.ADMIN)
        res = apply_transition(conn, case, "resolve", "admin1", Role.ADMIN, note="moved on")
    return case, res.event_id


@pytest.fixture
def key(small_grid_url) -> bytes:
    """The camera workers' recheck signing key of the test database (migration 0018)."""
    with db.connect(small_grid_url) as conn:
        return rechecks.signing_key(conn)


def recheck(key, case, result, camera="PS-CAM-0001", zone="gate", **kw) -> dict:
    """A recheck as a camera worker sends it, signed with `key` (unsigned when None)."""
    m = {"v": 1, "type": "recheck", "event_id": str(uuid.uuid4()), "incident_id": case, "camera": camera,
         "rule": "intrusion", "zone": zone, "result": result, "observed_at": datetime.now(timezone.utc).isoformat(),
         **kw}
    try:
        msg = RecheckMessage.model_validate_json(json.dumps(m))
    except ValidationError:
        return m  # refused by its shape, before any signature is looked at
    return json.loads(rechecks.sign(msg, key).model_dump_json()) if key else m


def rows(url, case):
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as conn:
        status = conn.execute("SELECT status FROM incident WHERE id = %s", (case,)).fetchone()["status"]
        events = conn.execute("SELECT id, action, actor, from_status, to_status, note, media, data FROM incident_event "
                              "WHERE incident_id = %s ORDER BY id", (case,)).fetchall()
    return status, events


def dead(client):
    return [(json.loads(f[b"data"]), f[b"reason"].decode()) for _, f in client.xrange(DEAD_STREAM)]


def rechecks_sent(client) -> dict[str, RecheckMessage]:
    """The last recheck message on the incident stream per camera."""
    out = {}
    for _, fields in client.xrange(INCIDENT_STREAM):
        m = parse_stream(fields[b"data"])
        if isinstance(m, RecheckMessage):
            out[m.camera] = m
    return out


def rechecks_of(worker: CameraWorker, client, n: int, timeout_s: float = 60.0) -> dict[str, RecheckMessage]:
    """Run `worker` in a thread until `n` cameras have a recheck message or `timeout_s` passed, stop it;
    the messages by camera."""
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and len(rechecks_sent(client)) < n:
            time.sleep(0.3)
    finally:
        worker.stopping = True
        thread.join(20.0)
    return rechecks_sent(client)


def test_present_reopens_the_case_as_system_camera_once(small_grid_url, redis_url, client, key):
    case, resolution = resolved_case(small_grid_url, redis_url, client)
    with db.connect(small_grid_url) as conn:
        assert [(str(d.incident_id), d.resolution) for d in rechecks.due(conn)] == [(case, resolution)]
    snap = "camera/PS-CAM-0001/20240501/recheck-1.jpg"
    first = recheck(key, case, "present", media=[snap], resolution=resolution)
    push(client, first)
    run_worker(small_grid_url, redis_url)
    status, events = rows(small_grid_url, case)
    last = events[-1]
    assert status == "in_progress"
    assert (last["action"], last["actor"], last["from_status"], last["to_status"]) == (
        "reopen", "system:camera", "resolved", "in_progress")
    assert last["media"] == [snap] and last["data"]["recheck_of"] == resolution
    assert last["data"]["event_id"] == first["event_id"] and "still seen" in last["note"]
    with db.connect(small_grid_url) as conn:
        assert rechecks.due(conn) == []
    # The same message again, and another worker's look at the same resolution: nothing changes.
    push(client, first, recheck(key, case, "gone", resolution=resolution), recheck(key, case, "present"))
    run_worker(small_grid_url, redis_url)
    assert rows(small_grid_url, case) == (status, events)
    assert dead(client) == []


@pytest.mark.parametrize("result, extra, note", [
    ("gone", {"media": ["camera/PS-CAM-0001/20240501/recheck-2.jpg"]}, "no longer seen"),
    ("unknown", {"reason": "camera covered during 9 of 15 frames"}, "could not tell (camera covered during 9 of 15"),
])
def test_gone_and_unknown_add_a_row_and_decide_nothing(small_grid_url, redis_url, client, key, result, extra, note):
    case, resolution = resolved_case(small_grid_url, redis_url, client)
    push(client, recheck(key, case, result, **extra))
    run_worker(small_grid_url, redis_url)
    status, events = rows(small_grid_url, case)
    last = events[-1]
    assert status == "resolved"
    assert (last["action"], last["actor"], last["from_status"], last["to_status"]) == (
        "recheck", "system:camera", "resolved", "resolved")
    assert note in last["note"] and last["media"] == extra.get("media", [])
    assert last["data"]["recheck_of"] == resolution and last["data"]["result"] == result
    push(client, recheck(key, case, "present"))  # late and contradicting: this resolution is rechecked already
    run_worker(small_grid_url, redis_url)
    assert rows(small_grid_url, case) == (status, events)
    # The desk reopens and the worker resolves again: the new resolution gets its own recheck.
    with db.connect(small_grid_url, autocommit=True) as conn:
        apply_transition(conn, case, "reopen", "disp1", Role.DISPATCHER, note="still there on the wall")
        again = apply_transition(conn, case, "resolve", "admin1", Role.ADMIN, note="really gone").event_id
    push(client, recheck(key, case, "present", resolution=resolution),  # for the old resolution: ignored
         recheck(key, case, "present", resolution=again))
    run_worker(small_grid_url, redis_url)
    status, events = rows(small_grid_url, case)
    assert status == "in_progress" and events[-1]["data"]["recheck_of"] == again
    assert [e["action"] for e in events].count("reopen") == 2


def test_rechecks_that_cannot_apply_are_dead_lettered_with_the_reason(small_grid_url, redis_url, client, key):
    case, _ = resolved_case(small_grid_url, redis_url, client)
    report, _ = resolved_case(small_grid_url, redis_url, client, source_camera=False)
    before = [rows(small_grid_url, c) for c in (case, report)]
    bad = [recheck(key, report, "present"), recheck(key, case, "present", zone="plaza"),
           recheck(key, case, "present", camera="PS-CAM-0009"), recheck(key, str(uuid.uuid4()), "gone"),
           recheck(key, case, "unknown"), {**recheck(key, case, "present"), "actor": "disp1"}]
    push(client, *bad)
    run_worker(small_grid_url, redis_url)
    reasons = {d["event_id"]: r for d, r in dead(client)}
    assert len(reasons) == 6, reasons
    said = [reasons[m["event_id"]] for m in bad]
    assert "was not raised by a camera (source grid_worker)" in said[0]
    assert "zone gate; the recheck names camera PS-CAM-0001, rule intrusion, zone plaza" in said[1]
    assert "raised by camera PS-CAM-0001" in said[2] and "no incident" in said[3]
    assert "needs a reason" in said[4] and "actor: Extra inputs are not permitted" in said[5]
    assert [rows(small_grid_url, c) for c in (case, report)] == before


def test_only_the_system_rechecks_and_reopens_by_itself(small_grid_url, redis_url, client):
    case, _ = resolved_case(small_grid_url, redis_url, client)
    with db.connect(small_grid_url, autocommit=True) as conn:
        for role in (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN, Role.GRID_WORKER, Role.WALL):
            with pytest.raises(TransitionError, match=f"role {role.value} may not recheck"):
                apply_transition(conn, case, "recheck", "disp1", role, note="looked myself")
        with pytest.raises(TransitionError, match="may not close"):
            apply_transition(conn, case, "close", "system:camera", Role.SYSTEM)
    assert rows(small_grid_url, case)[0] == "resolved"


# ---- a camera worker end to end -----------------------------------------------------------------

CAMERA_CONFIG = {"fps": 5, "zones": [{"name": "gate", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]],
                                      "rules": [{"kind": "intrusion", "seconds": 4, "dispatch": "auto"}]}]}


def test_a_camera_worker_rechecks_resolved_cases_on_its_cameras(small_grid_url, redis_url, client, tmp_path):
    still = encode_h264((f for f, _ in pacing_scene(60.0).frames()), tmp_path / "still.mp4", 5.0)
    empty = encode_h264((f for f, _ in pacing_scene(20.0, person=False).frames()), tmp_path / "empty.mp4", 5.0)
    cams = {"PS-CAM-0001": str(still), "PS-CAM-0002": str(empty), "PS-CAM-0003": str(tmp_path / "unplugged.mp4"),
            "PS-CAM-0004": str(empty)}
    with psycopg.connect(small_grid_url) as conn:
        conn.execute("UPDATE camera SET url = %s, config = %s WHERE code = 'PS-CAM-0001'",
                     (cams["PS-CAM-0001"], json.dumps(CAMERA_CONFIG)))
        for code in ("PS-CAM-0002", "PS-CAM-0003", "PS-CAM-0004"):
            conn.execute("INSERT INTO camera (code, name, url, geom, config) VALUES (%s, 'x', %s, "
                         "ST_SetSRID(ST_MakePoint(114.315, 22.705), 4326), %s)",
                         (code, cams[code], json.dumps(CAMERA_CONFIG)))
    cases = {code: resolved_case(small_grid_url, redis_url, client, camera=code)[0] for code in cams}
    media = tmp_path / "media"
    # PS-CAM-0004 is run by nobody: it gets `unknown` once the deadline has passed.
    config = CameraWorkerConfig(lease_s=3.0, reload_s=0.5, recheck=SETTINGS,
                                only=frozenset({"PS-CAM-0001", "PS-CAM-0002", "PS-CAM-0003"}))
    worker = CameraWorker(small_grid_url, redis_url, media, config, worker_id="R1")
    got = rechecks_of(worker, client, 4)
    assert set(got) == set(cams), got
    assert got["PS-CAM-0001"].result is RecheckResult.PRESENT, got["PS-CAM-0001"]
    assert got["PS-CAM-0002"].result is RecheckResult.GONE, got["PS-CAM-0002"]
    assert got["PS-CAM-0003"].result is RecheckResult.UNKNOWN and (
        "offline" in got["PS-CAM-0003"].reason or "no picture" in got["PS-CAM-0003"].reason)
    assert got["PS-CAM-0004"].result is RecheckResult.UNKNOWN and "not leased" in got["PS-CAM-0004"].reason
    for code in ("PS-CAM-0001", "PS-CAM-0002"):
        (snap,) = got[code].media
        assert cv2.imread(str(media / snap)) is not None, snap
    # Each case and resolution is claimed once: the worker says "sent" and does not look again.
    assert all(client.get(CLAIM_KEY.format(key=f"{m.incident_id}:{m.resolution}")) == b"sent" for m in got.values())
    run_worker(small_grid_url, redis_url)
    status = {code: rows(small_grid_url, case) for code, case in cases.items()}
    # (The camera also reports the person it sees: those reports may join the reopened case.)
    (reopened,) = [e for e in status["PS-CAM-0001"][1] if e["action"] == "reopen"]
    assert status["PS-CAM-0001"][0] == "in_progress" and reopened["actor"] == "system:camera"
    assert reopened["media"] == got["PS-CAM-0001"].media
    assert [s for s, _ in status.values()][1:] == ["resolved"] * 3
    assert [ev[-1]["action"] for _, ev in status.values()][1:] == ["recheck"] * 3
    assert [d for d, _ in dead(client) if d.get("type") == "recheck"] == []
