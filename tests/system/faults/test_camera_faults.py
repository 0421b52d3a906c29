"""A camera reading a real RTSP stream on loopback: its stream cut and brought back (offline, then online
again, its health case opened and its situation ended), then its worker killed with -9 and restarted.
Every event_id the camera worker put on the stream is counted in incident_report and on the live feed."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter

import psycopg
import redis

from geodata.bus import INCIDENT_STREAM, InvalidMessage, LiveCamera, LiveIncident, parse_incident
from tests.system.faults.harness import LiveFeed, reset, start_ingest, start_worker, stop, wait_for
from tests.video import clips
from tests.video.test_sources import free_port, start_rtsp, stop_rtsp
from workers.camera import HEALTH_KEY

CODE = "PS-CAM-0001"
LEASE_S = 2.0


class StreamWatch(threading.Thread):
    """Every camera message put on the incident stream, read as it comes (ingest trims what it finished)."""

    def __init__(self, redis_url: str):
        super().__init__(daemon=True, name="stream-watch")
        self.redis_url = redis_url
        self.messages: dict[str, object] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        last = "0-0"
        client = redis.Redis.from_url(self.redis_url)
        while not self.stopping.is_set():
            try:
                for entry_id, fields in client.xrange(INCIDENT_STREAM, min=f"({last}", count=500):
                    last = entry_id.decode()
                    try:
                        msg = parse_incident(fields[b"data"])
                    except (KeyError, InvalidMessage):
                        continue
                    if msg.camera is not None:
                        self.messages[str(msg.event_id)] = msg
            except redis.RedisError:
                pass
            self.stopping.wait(0.2)

    def __enter__(self) -> "StreamWatch":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.join(5)


def health(client, field: str = "health") -> str | None:
    value = client.hget(HEALTH_KEY.format(code=CODE), field)
    return value.decode() if value else None


def camera(info, worker_id: str, log):
    return start_worker(info, "camera", "--lease-seconds", str(LEASE_S), "--worker-id", worker_id, "--cameras", CODE,
                        log=log, env={"GRIDWATCH_MEDIA_DIR": str(log.parent / "media")})


def test_camera_stream_cut_and_back_then_worker_kill_9(own_services, tmp_path):
    services, info = own_services
    reset(info)
    clip = clips.scene_clip(tmp_path / "scene.mp4", 60.0)
    port = free_port()
    with psycopg.connect(info["database_url"]) as conn:
        # Offline after 2 s without frames, so the cut is seen quickly.
        conn.execute("""UPDATE camera SET url = %s, health = 'unknown',
                        config = config || '{"health": {"offline": 2}}' WHERE code = %s""",
                     (f"rtsp://viewer:pw@127.0.0.1:{port}/cam1", CODE))
        log_from = conn.execute("SELECT coalesce(max(id), 0) FROM camera_health_log").fetchone()[0]
    client = redis.Redis.from_url(info["redis_url"])
    log = tmp_path / "workers.log"
    server = start_rtsp(port, clip)
    ingest = start_ingest(info, "camera-ingest", log)
    first = second = None
    with LiveFeed(info["redis_url"]) as live, StreamWatch(info["redis_url"]) as sent:
        try:
            first = camera(info, "first", log)
            wait_for(lambda: health(client) == "online", 120, "the camera online")
            stop_rtsp(server)
            cut = time.monotonic()
            wait_for(lambda: health(client) == "offline", 60, "the camera offline after the cut")
            offline_in = time.monotonic() - cut
            server = start_rtsp(port, clip)
            back = time.monotonic()
            wait_for(lambda: health(client) == "online", 90, "the camera online again")
            online_in = time.monotonic() - back
            # Mid-work: the camera streams and is analysed when its worker dies.
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            killed = time.monotonic()
            client.hset(HEALTH_KEY.format(code=CODE), "worker", "")
            second = camera(info, "second", log)
            wait_for(lambda: health(client, "worker") == "second" and health(client) == "online", 120,
                     "the camera online under the restarted worker")
            recovered = time.monotonic() - killed
        finally:
            stop(first)
            stop(second)
            stop_rtsp(server)
        # Every camera message the stream got (including the end phases of a clean stop) is ingested.
        wait_for(lambda: stored_all(info, set(sent.messages)), 120, "ingest to store the camera's messages")
        stop(ingest)
    with psycopg.connect(info["database_url"]) as conn:
        reports = Counter(r[0] for r in conn.execute(
            "SELECT event_id::text FROM incident_report WHERE event_id = ANY(%s::uuid[])", (list(sent.messages),)))
        transitions = conn.execute(
            "SELECT log.health_to FROM camera_health_log log WHERE camera_code = %s AND id > %s ORDER BY id",
            (CODE, log_from)).fetchall()
        cases = conn.execute(
            """SELECT i.id::text, i.matter_code, array_agg(e.action ORDER BY e.id) FROM incident i
               JOIN incident_event e ON e.incident_id = i.id
               WHERE i.camera_code = %s AND i.attributes->>'rule' = 'offline' GROUP BY i.id""", (CODE,)).fetchall()
    created = {str(m.event_id) for m in sent.messages.values() if m.situation and m.situation.phase.value == "start"}
    with psycopg.connect(info["database_url"]) as conn:
        incidents = {r[0] for r in conn.execute("SELECT id::text FROM incident WHERE camera_code = %s", (CODE,))}
    on_feed = Counter(str(m.id) for m in live.messages if isinstance(m, LiveIncident) and m.action == "create")
    feed_lost = len(incidents - set(on_feed))
    feed_twice = sum(n - 1 for n in on_feed.values() if n > 1)
    healths = [m.health for m in live.messages if isinstance(m, LiveCamera) and m.code == CODE]
    lost = len(set(sent.messages) - set(reports))
    twice = sum(n - 1 for n in reports.values())
    print(f"\n[faults] camera RTSP cut + kill -9: sent {len(sent.messages)} (situations started {len(created)}), "
          f"stored {len(reports)}, lost {lost}, duplicated {twice}; cases created {len(incidents)}, live feed lost "
          f"{feed_lost}, duplicated {feed_twice}; offline {offline_in:.1f} s after the cut, online {online_in:.1f} s "
          f"after the stream came back, online {recovered:.1f} s after kill -9")
    assert (lost, twice) == (0, 0)
    assert (feed_lost, feed_twice) == (0, 0)
    # Marked offline and online again, in PostGIS's health log and on the live feed.
    states = [t[0] for t in transitions]
    assert "offline" in states and "online" in states[states.index("offline"):], states
    assert "offline" in healths and "online" in healths[healths.index("offline"):], healths
    # The health case: one maintenance case opened by the cut, its situation ended when the stream came back.
    assert len(cases) == 1, cases
    case_id, matter, actions = cases[0]
    assert matter == "MNT-CAMERA" and actions.count("situation_end") == 1, actions
    assert case_id in on_feed


def stored_all(info, event_ids: set[str]) -> bool:
    with psycopg.connect(info["database_url"]) as conn:
        n = conn.execute("SELECT count(*) FROM incident_report WHERE event_id = ANY(%s::uuid[])",
                         (list(event_ids),)).fetchone()[0]
    return n == len(event_ids)
