"""The camera worker end to end: RTSP on loopback -> worker -> bus -> ingest -> PostGIS; leases; CLI."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import psycopg
import pytest
import redis as redis_lib

from grid.camera_matters import RULE_MATTERS, resolve_matters
from tests.rig import flushed_redis_db, wait_for
from tests.video import clips
from tests.video.test_sources import free_port, start_rtsp, stop_rtsp
from video.config import parse_config
from video.situations import Situation
from video.sources import Sample
from video.synthetic import build
from geodata.bus import (DEAD_STREAM, INCIDENT_STREAM, LIVE_CHANNEL, InvalidMessage, LiveCamera, parse_incident,
                         parse_live)
from workers.camera import HEALTH_KEY, CameraRunner, CameraWorker, CameraWorkerConfig
from workers.camera_events import HealthReport, Publish, health_of, situation_message
from workers.camera_leases import LEASE_PREFIX, Leases, fair_share
from workers.ingest import IngestConfig, IngestWorker

ROOT = Path(__file__).resolve().parents[2]
CONFIG = parse_config({"code": "PS-CAM-0001", "url": "rtsp://u:pw@h/s", "lon": 114.3, "lat": 22.7, "zones": [
    {"name": "gate", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]],
     "rules": [{"kind": "intrusion", "dispatch": "auto"}, {"kind": "loitering", "matter": "CRM-LOITER"}]}]})


@pytest.fixture
def redis_url(redis_url):
    """The shared test Redis, database 11: suites running alongside flush 15 (per test) and 13 (dashboard)."""
    yield from flushed_redis_db(redis_url, 11)


def situation(rule, zone, phase="start", box=(0.2, 0.3, 0.4, 0.9)):
    return Situation("abc123", "PS-CAM-0001", rule, zone, phase, 5.0, 5.0, None, box, 0.8, 3)


def test_situation_messages_carry_matter_foot_media_and_dispatch():
    at = datetime(2024, 5, 1, tzinfo=timezone.utc)
    msg = situation_message(CONFIG, situation("intrusion", "gate"), at, RULE_MATTERS, ["camera/x/1/a.jpg"])
    again = parse_incident(msg.model_dump_json())
    assert again.matter == "crime_intrusion" and again.camera == "PS-CAM-0001"
    assert again.foot == (pytest.approx(0.3), pytest.approx(0.9))
    assert again.attributes["dispatch"] == "auto" and again.attributes["rule"] == "intrusion"
    assert again.situation.phase.value == "start" and again.media == ["camera/x/1/a.jpg"]
    own = situation_message(CONFIG, situation("loitering", "gate", "update"), at, RULE_MATTERS)
    assert own.matter == "CRM-LOITER" and "dispatch" not in own.attributes
    fault = situation_message(CONFIG, situation("covered", None, box=None), at, {"covered": "MNT-CAMERA"})
    assert fault.matter == "MNT-CAMERA" and fault.foot is None and "covered" in fault.description


def test_walkers_through_a_gate_one_after_another_are_one_situation_on_the_bus(tmp_path):
    # Three walkers 5-7 s apart: three visits for the offline analysis, one start and one end on the bus.
    scene = build("walk_through", 101, "drawn")
    visits = [g for g in scene.truth if g["rule"] == "intrusion"]
    assert len(visits) == 3
    outbox: queue.Queue = queue.Queue()
    runner = CameraRunner(scene.config, 1, outbox, tmp_path, CameraWorkerConfig(join_visits_s=20.0), dict(RULE_MATTERS))
    frame = None
    for frame, t in scene.frames():
        runner.step(Sample(frame, t, 1000.0 + t))
    # The empty street after the last walker, until the join window has passed.
    for k in range(1, 130):
        runner.step(Sample(frame, scene.duration + k * 0.2, 1000.0 + scene.duration + k * 0.2))
    sent = []
    while not outbox.empty():
        item = outbox.get_nowait()
        if isinstance(item, Publish) and item.message.attributes["rule"] == "intrusion":
            sent.append(item.message)
    assert [m.situation.phase.value for m in sent] == ["start", "update", "update", "end"]
    assert len({m.situation.id for m in sent}) == 1
    # Each walker's own pictures come with the message of its visit, each at the time it was seen.
    assert all(len(m.media) == 2 for m in sent[:3]) and len({m.media[0] for m in sent[:3]}) == 3
    for m, v in zip(sent[:3], visits):
        assert abs(m.observed_at.timestamp() - 1000.0 - v["start_s"]) < 1.5
    assert sent[3].observed_at.timestamp() - 1000.0 > visits[2]["end_s"]


def test_messages_and_health_go_in_one_pipeline_and_a_refused_message_is_dropped(redis_url, tmp_path, caplog):
    worker = CameraWorker("postgresql://unused", redis_url, tmp_path, worker_id="T1")
    at = datetime(2024, 5, 1, tzinfo=timezone.utc)
    good = situation_message(CONFIG, situation("intrusion", "gate"), at, RULE_MATTERS)
    # model_copy skips the model's checks: a camera message with a point too, which ingest would dead-letter.
    bad = good.model_copy(update={"lon": 114.3, "lat": 22.7})
    worker._published["PS-CAM-0001"] = "online/None"  # health unchanged: nothing for PostGIS this time

    def no_direct_xadd(*args, **kwargs):
        raise AssertionError("the incident message must go in the pipeline, with the health hash")

    worker.redis.xadd = no_direct_xadd
    worker._write([Publish(0, bad), Publish(0, good),
                   HealthReport(0, "PS-CAM-0001", "online", None, 5.0, at, 114.3, 22.7)])
    client = redis_lib.Redis.from_url(redis_url)
    assert [parse_incident(fields[b"data"]) for _, fields in client.xrange(INCIDENT_STREAM)] == [good]
    assert client.hget(HEALTH_KEY.format(code="PS-CAM-0001"), "worker") == b"T1"
    assert "refused by the bus" in caplog.text and "exactly one" in caplog.text
    client.close()


@pytest.mark.parametrize("problems, age, expected", [
    (set(), 0.5, ("online", None)),
    ({"blurred", "covered"}, 0.5, ("degraded", "covered")),
    (set(), 12.0, ("offline", "offline")),
    ({"offline"}, None, ("offline", "offline")),
    (set(), None, ("unknown", None)),
])
def test_health_of(problems, age, expected):
    assert health_of(problems, age, 10.0) == expected


def test_matters_fall_back_to_a_maintenance_matter_for_camera_faults():
    known = {"CRM-INTRUSION": "crime", "MNT-CAMERA": "maintenance", "crime_crowd": "crime"}
    got = resolve_matters(RULE_MATTERS, known)
    assert got["covered"] == got["offline"] == "MNT-CAMERA"
    assert got["crowd"] == "crime_crowd" and got["intrusion"] == "crime_intrusion"  # kept: ingest dead-letters


def test_leases_are_exclusive_renewable_and_released(redis_url):
    client = redis_lib.Redis.from_url(redis_url)
    a, b = Leases(client, "A", 1000), Leases(client, "B", 1000)
    assert a.acquire("C1") and not b.acquire("C1")
    assert a.renew(["C1", "C2"]) == {"C1"} and b.renew(["C1"]) == set()
    b.release("C1")
    assert a.holder("C1") == "A"
    a.release("C1")
    assert b.acquire("C1")
    assert a.heartbeat() == 1 and b.heartbeat() == 2
    assert fair_share(3, 2, None) == 2 and fair_share(3, 1, 2) == 2


# ---- processes --------------------------------------------------------------------------------

def worker_proc(db_url, redis_url, media_dir, worker_id, lease_s=3.0, log=None) -> subprocess.Popen:
    env = dict(os.environ, GRIDWATCH_DATABASE_URL=db_url, GRIDWATCH_REDIS_URL=redis_url,
               GRIDWATCH_MEDIA_DIR=str(media_dir), PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "workers.cli", "worker", "camera", "--lease-seconds", str(lease_s),
                             "--worker-id", worker_id], cwd=ROOT, env=env,
                            stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT)


def camera_messages(client):
    out = []
    for _, fields in client.xrange(INCIDENT_STREAM):
        try:
            out.append(parse_incident(fields[b"data"]))
        except (KeyError, InvalidMessage):
            continue  # not ours: only the worker's messages matter here
    return [m for m in out if m.camera is not None]


def hget(client, code, field):
    value = client.hget(HEALTH_KEY.format(code=code), field)
    return value.decode() if value else None


@pytest.fixture
def scene_and_covered(tmp_path_factory):
    d = tmp_path_factory.mktemp("worker_clips")
    # The covered clip need not outlast the wait: a client reaching its end reconnects and sees it from the
    # start, still covered. Half the length is half the noise to draw and encode.
    return clips.scene_clip(d / "scene.mp4", 30.0), clips.covered_clip(d / "covered.mp4", 15.0)


def test_rtsp_camera_covered_opens_a_maintenance_case_and_a_broken_camera_stops_nothing(
        small_grid_url, redis_url, tmp_path, scene_and_covered):
    scene, covered = scene_and_covered
    port = free_port()
    with psycopg.connect(small_grid_url) as conn:
        # Covered after 2 s of a dark lens instead of the default 5: the same path to a maintenance case,
        # three seconds less waiting for it.
        conn.execute("""UPDATE camera SET url = %s, config = config || '{"health": {"covered": 2}}'
                        WHERE code = 'PS-CAM-0001'""", (f"rtsp://viewer:pw@127.0.0.1:{port}/cam1",))
        # A camera nobody serves and one whose "stream" is not a video at all.
        junk = tmp_path / "junk.mp4"
        junk.write_bytes(b"not a video" * 100)
        conn.execute("""INSERT INTO camera (code, name, url, geom) VALUES
            ('PS-CAM-0002', 'dead', %s, ST_SetSRID(ST_MakePoint(114.305, 22.705), 4326)),
            ('PS-CAM-0003', 'junk', %s, ST_SetSRID(ST_MakePoint(114.306, 22.706), 4326))""",
                     (f"rtsp://127.0.0.1:{free_port()}/none", str(junk)))
    client = redis_lib.Redis.from_url(redis_url)
    live = client.pubsub(ignore_subscribe_messages=True)
    live.subscribe(LIVE_CHANNEL)
    server = start_rtsp(port, scene)
    log = (tmp_path / "worker.log").open("w")
    worker = worker_proc(small_grid_url, redis_url, tmp_path / "media", "W1", log=log)
    try:
        # 60 s: under a load of 30 on two cores the worker process had not even logged its start after 25.
        assert wait_for(lambda: hget(client, "PS-CAM-0001", "health") == "online", 60), "camera never online"
        # The camera page's latest snapshot is kept up to date (a real JPEG, replaced atomically).
        latest = tmp_path / "media" / "snapshots" / "PS-CAM-0001" / "latest.jpg"
        assert wait_for(lambda: latest.exists(), 10), "no latest snapshot"
        assert cv2.imdecode(np.frombuffer(latest.read_bytes(), np.uint8), cv2.IMREAD_COLOR) is not None
        # Only a camera that is running can be restarted: wait until the junk camera's runner reports.
        assert wait_for(lambda: hget(client, "PS-CAM-0003", "health") is not None, 15), "junk camera never ran"
        with psycopg.connect(small_grid_url) as conn:
            # A config change bumps grid_revision: the worker reloads and restarts that camera.
            conn.execute("""UPDATE camera SET config = config || '{"fps": 4}' WHERE code = 'PS-CAM-0003'""")
        # Cover the lens: the server restarts (the worker reconnects) and now shows a covered picture.
        stop_rtsp(server)
        server = start_rtsp(port, covered)
        covered_at = time.monotonic()

        def maintenance():
            return [m for m in camera_messages(client)
                    if m.attributes.get("rule") == "covered" and m.situation.phase.value == "start"]
        found = wait_for(maintenance, 30)
        took = time.monotonic() - covered_at
        assert found, "no maintenance message within 30 s"
        assert found[0].matter == "MNT-CAMERA" and found[0].camera == "PS-CAM-0001"
        assert wait_for(lambda: hget(client, "PS-CAM-0001", "health") == "degraded", 5)
        assert hget(client, "PS-CAM-0001", "problem") == "covered"
        assert wait_for(lambda: hget(client, "PS-CAM-0002", "health") == "offline", 15)
        assert hget(client, "PS-CAM-0003", "health") in ("offline", "unknown")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=15)
        stop_rtsp(server)
        log.close()
    print(f"\ncovered -> maintenance message in {took:.1f} s")
    text = (tmp_path / "worker.log").read_text()
    assert "pw@" not in text and "viewer:" not in text, "credentials leaked into the log"
    assert worker.returncode == 0
    assert "camera PS-CAM-0003 removed or changed; restarting it" in text
    health_news = []
    wanted = {("online", None), ("degraded", "covered")}
    end = time.monotonic() + 2.0
    # Published long before: they wait in the subscription, so stop as soon as both are read.
    while time.monotonic() < end and not wanted <= set(health_news):
        # None also stands for the (ignored) subscribe confirmation: keep reading.
        m = live.get_message(timeout=0.1)
        if m is None:
            continue
        news = parse_live(m["data"])
        if isinstance(news, LiveCamera) and news.code == "PS-CAM-0001":
            health_news.append((news.health, news.problem))
    live.close()
    assert ("online", None) in health_news and ("degraded", "covered") in health_news, health_news
    # The ingest worker turns it into a maintenance case in PostGIS; the camera row shows it degraded.
    ingest = IngestWorker(small_grid_url, redis_url, IngestConfig(block_ms=50), consumer="t")

    def case():
        ingest.run(max_idle_s=0.5)
        with psycopg.connect(small_grid_url) as conn:
            return conn.execute("""SELECT i.matter_code, i.camera_code, m.family FROM incident i
                                   JOIN matter m ON m.code = i.matter_code WHERE i.situation_id = %s""",
                                (found[0].situation.id,)).fetchall()
    rows = wait_for(case, 10)
    with psycopg.connect(small_grid_url) as conn:
        health = dict(conn.execute("SELECT code, health FROM camera").fetchall())
    dead = [f[b"reason"].decode() for _, f in client.xrange(DEAD_STREAM)]
    assert rows == [("MNT-CAMERA", "PS-CAM-0001", "maintenance")], (dead, ingest.totals, client.xlen(INCIDENT_STREAM),
                                                                   client.xinfo_groups(INCIDENT_STREAM))
    assert health["PS-CAM-0001"] == "degraded" and health["PS-CAM-0002"] == "offline"


def test_leases_move_to_a_second_worker_when_the_first_is_killed(small_grid_url, redis_url, tmp_path):
    clip = clips.scene_clip(tmp_path / "loop.mp4", 8.0)
    with psycopg.connect(small_grid_url) as conn:
        conn.execute("UPDATE camera SET url = %s", (str(clip),))
        for i in (2, 3):
            conn.execute("INSERT INTO camera (code, name, url, geom) VALUES (%s, 'x', %s, "
                         "ST_SetSRID(ST_MakePoint(114.305, 22.705), 4326))", (f"PS-CAM-000{i}", str(clip)))
    client = redis_lib.Redis.from_url(redis_url)
    codes = ["PS-CAM-0001", "PS-CAM-0002", "PS-CAM-0003"]

    def holders():
        return [(client.get(LEASE_PREFIX + c) or b"").decode() for c in codes]

    lease_s = 2.0
    a = worker_proc(small_grid_url, redis_url, tmp_path / "m", "A", lease_s)
    b = None
    try:
        assert wait_for(lambda: holders() == ["A"] * 3, 20), holders()
        b = worker_proc(small_grid_url, redis_url, tmp_path / "m", "B", lease_s)
        # Two live workers: A hands surplus back until each holds its fair share.
        assert wait_for(lambda: sorted(holders()).count("B") >= 1, 20), holders()
        a.kill()
        a.wait()
        killed = time.monotonic()
        # Within a few leases, not at once (A never handed them back); how fast exactly under load is
        # not this test's business.
        assert wait_for(lambda: holders() == ["B"] * 3, 2 * lease_s + 10.0, step=0.05), holders()
        took = time.monotonic() - killed
        assert wait_for(lambda: all(hget(client, c, "worker") == "B" for c in codes), 10)
    finally:
        for p in (a, b):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=15)
    print(f"\nleases taken over {took:.1f} s after the kill (lease {lease_s} s)")
    assert b.returncode == 0
    assert holders() == ["", "", ""], "a clean stop releases the leases"


# ---- camera CLI -------------------------------------------------------------------------------

@pytest.fixture
def cli(db_url, monkeypatch, capsys):
    """Run `gridwatch camera ...` in this process; returns (exit code, stdout, stderr)."""
    from workers.cli import main

    monkeypatch.setenv("GRIDWATCH_DATABASE_URL", db_url)
    monkeypatch.setenv("GRIDWATCH_REDIS_URL", "redis://127.0.0.1:1/0")

    def run(*args):
        code = main(["camera", *args])
        out = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out.out, out.err)
    return run


def test_camera_add_import_list(db_url, cli, tmp_path):
    one = {"code": "PS-CAM-0100", "name": "gate", "url": "rtsp://admin:hunter2@10.0.0.9/s", "lon": 114.31,
           "lat": 22.70, "zones": [{"name": "g", "polygon": [[0, 0], [1, 0], [1, 1]], "rules": [{"kind": "crowd"}]}]}
    (tmp_path / "one.json").write_text(json.dumps(one))
    r = cli("add", str(tmp_path / "one.json"))
    assert r.returncode == 0, r.stderr
    assert "hunter2" not in r.stdout and "rtsp://***@10.0.0.9/s" in r.stdout
    bad = [dict(one, code="PS-CAM-0101"), dict(one, code="PS-CAM-0102", zones=[{"name": "g", "polygon": [[0, 0], [2, 0], [1, 1]]}])]
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    r = cli("import", str(tmp_path / "bad.json"))
    assert r.returncode == 2 and "zones.0.polygon.1.0" in r.stderr and "nothing was written" in r.stderr
    csv = ("code,name,url,lon,lat,heading,zones\n"
           "PS-CAM-0101,a,rtsp://10.0.0.1/s,114.30,22.71,90,\n"
           'PS-CAM-0102,b,http://10.0.0.2/v.mjpg?password=x,114.30,22.72,,"[{""name"": ""z"", ""polygon"": '
           '[[0, 0], [1, 0], [1, 1]], ""rules"": [{""kind"": ""intrusion""}]}]"\n')
    (tmp_path / "cams.csv").write_text(csv)
    assert cli("import", str(tmp_path / "cams.csv")).returncode == 0
    r = cli("import", str(tmp_path / "cams.csv"))
    assert r.returncode == 2 and "already registered" in r.stderr
    assert cli("import", str(tmp_path / "cams.csv"), "--replace").returncode == 0
    r = cli("list")
    lines = r.stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["PS-CAM-0100", "PS-CAM-0101", "PS-CAM-0102"]
    assert "hunter2" not in r.stdout and "password=***" in r.stdout
    with psycopg.connect(db_url) as conn:
        url, config = conn.execute("SELECT url, config FROM camera WHERE code = 'PS-CAM-0100'").fetchone()
    assert url == one["url"] and "url" not in config and config["zones"][0]["rules"][0]["kind"] == "crowd"


def test_worker_model_option_reaches_each_camera_pipeline(tmp_path, capsys):
    import queue

    from tests.video.onnx_models import yolo_model
    from video.detectors.hog import HogPeopleDetector
    from video.detectors.onnx import OnnxDetector
    from workers.camera import CameraRunner
    from workers.cli import build_parser
    from workers.cli.worker_camera_cmd import worker_config

    model = yolo_model(tmp_path / "tiny.onnx", (64, 64), [(32, 32, 40, 40, 2, 0.8)], num_classes=80)
    parser = build_parser()
    args = parser.parse_args(["worker", "camera", "--model", str(model), "--model-size", "64x48",
                              "--model-layout", "v8"])
    settings = worker_config(args)
    assert (settings.model, settings.model_size, settings.model_layout) == (str(model), (64, 48), "v8")
    runners = [CameraRunner(CONFIG, gen, queue.Queue(), tmp_path, settings, RULE_MATTERS) for gen in (1, 2)]
    dets = [r.pipeline.detector for r in runners]
    assert all(isinstance(d, OnnxDetector) and d.input_size == (64, 48) and d.layout == "v8" for d in dets)
    assert dets[0] is not dets[1] and dets[0].net is not dets[1].net  # one cv2.dnn net per camera thread
    plain = worker_config(parser.parse_args(["worker", "camera"]))
    assert isinstance(CameraRunner(CONFIG, 3, queue.Queue(), tmp_path, plain, RULE_MATTERS).pipeline.detector,
                      HogPeopleDetector)

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    args = parser.parse_args(["worker", "camera", "--model", str(broken)])
    assert args.func(args, None) == 2  # refused before it needs a database or Redis
    assert f"cannot load model {broken}" in capsys.readouterr().err
