"""The camera worker: many cameras per process, shared among processes and hosts by Redis leases.

Each leased camera gets a thread (`CameraRunner`) that reads its stream, runs its CameraPipeline
and records media; runners only compute and put typed items on one queue. The main thread does all
I/O: leases, config reloads from PostGIS (when `grid_revision` moves), XADD of incident messages,
the camera's health hash in Redis, LiveCamera on `gridwatch:live`, and camera.health in PostGIS.
A broken stream or a bad frame stays inside its runner.
"""

from __future__ import annotations

import logging
import os
import queue
import random
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import redis

from geodata import camera_counts as counts_repo
from geodata import cameras as camera_repo
from geodata import db
from grid.camera_matters import RULE_MATTERS, resolve_matters
from video.config import CameraConfig
from video.detectors import Detector, make_detector
from video.media import MediaRecorder, Privacy, write_latest
from video.pipeline import CameraPipeline
from video.situations import Situation, VisitJoiner
from video.sources import FrameSource, Sample
from geodata.bus import InvalidMessage, LiveCamera, LiveCameraCounts, publish_incident, publish_live
from workers.camera_events import HealthReport, Publish, health_of, situation_message, wall_time
from workers.camera_leases import Leases, fair_share
from workers.count_buckets import CountBuckets, CountsReport
from workers.camera_live import LiveRelay, LiveTap
from workers.camera_recheck import LookDone, Looks, RecheckConfig, Rechecker

logger = logging.getLogger(__name__)

HEALTH_KEY = "gridwatch:camera:health:{code}"
"""Redis hash of one camera's state: health, problem, fps, last_frame_at, worker, updated_at."""


@dataclass(frozen=True)
class CameraWorkerConfig:
    """How a camera worker runs; defaults suit production, tests shorten the periods."""

    max_cameras: int | None = None
    # Run only these cameras (the demo runs the few that have clips); None runs every camera.
    only: frozenset[str] | None = None
    lease_s: float = 15.0
    reload_s: float = 5.0
    analysis_width: int = 640
    health_every_s: float = 2.0
    # Without a frame this long the camera shows offline (its maintenance case waits for health.offline).
    offline_after_s: float = 10.0
    # False (--no-face-blur) turns every camera's privacy off; True leaves it to each camera's `privacy`.
    blur_faces: bool = True
    clip_pre_s: float = 3.0
    clip_post_s: float = 3.0
    # Visits to one zone and rule this close together are one situation on the bus (video.situations.VisitJoiner).
    join_visits_s: float = 60.0
    # A runner may sit in a blocking read for the source's read timeout (5 s) before it sees a stop.
    stop_timeout_s: float = 8.0
    # How often the camera page's "latest snapshot" is refreshed.
    latest_every_s: float = 10.0
    matters: dict[str, str] = field(default_factory=lambda: dict(RULE_MATTERS))
    # An ONNX detector (cv2.dnn) instead of the built-in HOG; None keeps HOG.
    model: str | None = None
    model_size: tuple[int, int] = (640, 640)
    model_layout: str = "auto"
    # The second look at resolved camera cases (workers/camera_recheck.py).
    recheck: RecheckConfig = field(default_factory=RecheckConfig)
    # Zone peaks and line crossings are counted per bucket (issue 14); the open bucket's partial counts
    # are stored and published at most this often, so the chart on /cameras moves within the bucket.
    count_bucket_s: int = counts_repo.BUCKET_S
    count_partial_s: float = 30.0

    def detector(self) -> Detector | None:
        """A fresh detector for one camera thread, or None for the pipeline's default (HOG)."""
        # One per thread, never shared: a cv2.dnn net is not safe to run from several threads at once.
        if not self.model:
            return None
        return make_detector(self.model, input_size=self.model_size, layout=self.model_layout)


class CameraRunner(threading.Thread):
    """One camera: source -> pipeline -> events and media, in its own thread."""

    def __init__(self, config: CameraConfig, gen: int, outbox: queue.Queue, media_dir: Path,
                 settings: CameraWorkerConfig, matters: dict[str, str],
                 counts_seed: LiveCameraCounts | None = None) -> None:
        super().__init__(name=f"camera-{config.code}", daemon=True)
        self.config = config
        self.gen = gen
        self.outbox = outbox
        self.settings = settings
        self.matters = matters
        self.stop_event = threading.Event()
        # realtime: a file standing in for a camera (the demo's) plays at its own speed, as a camera
        # delivers; unpaced, the worker analysed it as fast as it could (30-40 fps a camera, not 5).
        self.source = FrameSource(config.url, fps=config.fps, width=settings.analysis_width, loop=True,
                                  realtime=True)
        self.pipeline = CameraPipeline(config, detector=settings.detector(), analysis_width=settings.analysis_width)
        self.joiner = VisitJoiner(settings.join_visits_s)
        # Only cameras with zones or lines count anything.
        self.counts = (CountBuckets(config, settings.count_bucket_s, settings.count_partial_s)
                       if config.zones or config.lines else None)
        if self.counts is not None and counts_seed is not None:
            self.counts.seed(counts_seed.bucket_start, counts_seed.zones, counts_seed.lines)
        self._clock = (0.0, time.time())  # the last sample's stream and wall time
        privacy = Privacy(config.privacy if settings.blur_faces else "off")
        self.recorder = MediaRecorder(media_dir, config.code, config.fps, settings.clip_pre_s,
                                      settings.clip_post_s, privacy)
        self.live = LiveTap(privacy)  # frames for the dashboard's live view, only while someone watches
        self.problems: set[str] = set()
        self.looks = Looks()  # rechecks of resolved cases the worker asks for (workers/camera_recheck.py)
        self.started = time.monotonic()
        self._last_health: tuple[str, str | None] | None = None
        self._health_at = 0.0
        self.media_dir = media_dir
        self._latest_at = float("-inf")

    def stop(self) -> None:
        """Ask the thread to end (it finishes its current read first)."""
        self.stop_event.set()

    def run(self) -> None:
        """Read and analyse until stopped; nothing raised here leaves the thread."""
        logger.info("camera %s: starting on %s", self.config.code, self.source.name)
        for sample in self.source.samples(self.stop_event):
            try:
                self.step(sample)
            except Exception:
                logger.exception("camera %s: frame dropped after an analysis error", self.config.code)
        # Visits that ended here end on the bus too, with no cool-down left to wait for.
        t, wall = self._clock
        for ev in self.joiner.flush():
            self._publish(ev, wall_time(wall - (t - ev.at_s)), [])
        self.recorder.flush()
        if self.counts is not None:
            # The open bucket is written as it stands; a runner taking over within it counts on from it.
            last = self.counts.close(wall)
            if last is not None:
                self.outbox.put(CountsReport(self.gen, last))
        logger.info("camera %s: stopped", self.config.code)

    def step(self, s: Sample) -> None:
        """Analyse one sample: pipeline events, media ring (with the tracked people to blur), health."""
        events = self.pipeline.feed(s.frame, s.t)
        self._clock = (s.t, s.wall)
        if self.counts is not None and s.frame is not None:
            # Only analysed frames count: an offline camera's buckets are missing, not zero.
            for counts in self.counts.feed(s.wall, self.pipeline.present, self.pipeline.crossings):
                self.outbox.put(CountsReport(self.gen, counts))
        if s.frame is not None:
            people = self.pipeline.people
            self.recorder.feed(s.frame, s.t, people)
            self.live.feed(s.frame, s.t, s.wall, people)
            if s.t - self._latest_at >= self.settings.latest_every_s:
                write_latest(self.media_dir, self.config.code, s.frame, self.recorder.privacy, people)
                self._latest_at = s.t
        for ev in events:
            health_problem = ev.zone is None
            if health_problem:
                (self.problems.add if ev.phase != "end" else self.problems.discard)(ev.rule)
            media: list[str] = []
            when = wall_time(s.wall - (s.t - ev.at_s))
            if ev.phase == "start" and s.frame is not None:
                # Every visit gets its own pictures, also one the joiner makes an update of a situation.
                polygon = next((z.polygon for z in self.config.zones if z.name == ev.zone), None)
                media = self.recorder.start(ev.id, ev.at_s, when, ev.box, polygon,
                                            f"{self.config.code} {ev.rule}" + (f" @ {ev.zone}" if ev.zone else ""),
                                            person=ev.rule in ("intrusion", "loitering", "crowd"),
                                            clip=not health_problem)
            out = self.joiner.feed(ev)
            if out is not None:
                self._publish(out, when, media)
        for ev in self.joiner.due(s.t):
            self._publish(ev, wall_time(s.wall - (s.t - ev.at_s)), [])
        self.looks.step(self, s)
        self._report_health(s)

    def _publish(self, ev: Situation, when, media: list[str]) -> None:
        self.outbox.put(Publish(self.gen, situation_message(self.config, ev, when, self.matters, media)))

    def _report_health(self, s: Sample) -> None:
        last = self.source.last_frame_at
        age = (s.t - last) if last is not None else (
            s.t - self.started if s.t - self.started > self.settings.offline_after_s else None)
        state = health_of(self.problems, age, self.settings.offline_after_s)
        if state == self._last_health and s.t - self._health_at < self.settings.health_every_s:
            return
        self._last_health, self._health_at = state, s.t
        last_wall = wall_time(s.wall - (s.t - last)) if last is not None else None
        self.outbox.put(HealthReport(self.gen, self.config.code, state[0], state[1],
                                     round(self.source.measured_fps, 2), last_wall, self.config.lon, self.config.lat))


class CameraWorker:
    """Leases cameras, runs them, and does every Redis and PostGIS write for them."""

    def __init__(self, database_url: str, redis_url: str, media_dir: Path,
                 config: CameraWorkerConfig | None = None, worker_id: str | None = None) -> None:
        self.database_url = database_url
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self.media_dir = Path(media_dir)
        self.config = config or CameraWorkerConfig()
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}"
        self.leases = Leases(self.redis, self.worker_id, int(self.config.lease_s * 1000))
        self.live = LiveRelay(self.redis, self.worker_id)
        self.outbox: queue.Queue = queue.Queue()
        self.retry: deque = deque(maxlen=10_000)
        self.runners: dict[str, CameraRunner] = {}
        self.cameras: dict[str, CameraConfig] = {}
        self.matters = dict(self.config.matters)
        self.stopping = False
        self._conn: psycopg.Connection | None = None
        self._revision: int | None = None
        self._gen = 0
        self._published: dict[str, str] = {}
        self._renewed_at = time.monotonic()
        self.rechecker = Rechecker(self, self.config.recheck)

    # ---- main loop -------------------------------------------------------------------------
    def run(self, max_s: float | None = None) -> None:
        """Run until `stopping` is set (or max_s passed); releases leases on the way out."""
        end = None if max_s is None else time.monotonic() + max_s
        renew_every = self.config.lease_s / 3
        last_lease = last_reload = 0.0
        try:
            while not self.stopping and (end is None or time.monotonic() < end):
                now = time.monotonic()
                if now - last_reload >= self.config.reload_s:
                    last_reload = now
                    self._guard(self._reload)
                if now - last_lease >= renew_every:
                    last_lease = now
                    self._guard(self._lease_round)
                self._guard(self.live.tick, self.runners)
                self._guard(self.rechecker.round)
                self._guard(self._drain, 0.2)
        finally:
            self.shutdown()

    def _guard(self, fn, *args) -> None:
        try:
            fn(*args)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            logger.warning("Redis unavailable (%s); retrying", exc)
            time.sleep(0.5)
        except psycopg.OperationalError as exc:
            logger.warning("PostGIS unavailable (%s); retrying", exc)
            self._close_db()
            time.sleep(0.5)

    def shutdown(self) -> None:
        """Stop every runner, flush what they said, release their leases."""
        held = list(self.runners)
        stopping = [self.runners[c] for c in held]
        for code in held:
            self._stop_runner(code, release=False)
        # Wait for the threads: one killed inside FFmpeg at interpreter exit aborts the process.
        deadline = time.monotonic() + self.config.stop_timeout_s
        for runner in stopping:
            runner.join(max(0.0, deadline - time.monotonic()))
        try:
            self._drain(0.0)
            for code in held:
                self.leases.release(code)
            self.leases.leave()
        except redis.RedisError as exc:
            logger.warning("could not release leases cleanly (%s); they expire by themselves", exc)
        self._close_db()

    # ---- configuration -----------------------------------------------------------------------
    def _db(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = db.connect(self.database_url)
        return self._conn

    def _close_db(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
        self._conn = None

    def _reload(self) -> None:
        conn = self._db()
        rev = camera_repo.revision(conn)
        if rev == self._revision:
            return
        self.matters = resolve_matters(self.config.matters, camera_repo.active_matters(conn))
        fresh: dict[str, CameraConfig] = {}
        for row in camera_repo.load_cameras(conn):
            if self.config.only is not None and row.code not in self.config.only:
                continue
            if row.config is None:
                logger.error("camera %s skipped: %s", row.code, row.problem)
            elif not row.config.url:
                logger.warning("camera %s has no stream URL; skipped", row.code)
            else:
                fresh[row.code] = row.config
        conn.rollback()
        for code, runner in list(self.runners.items()):
            if fresh.get(code) != runner.config:
                logger.info("camera %s removed or changed; restarting it", code)
                self._stop_runner(code, release=True)
        self.cameras, self._revision = fresh, rev
        logger.info("camera configs loaded (revision %s): %s camera(s)", rev, len(fresh))

    # ---- leases ------------------------------------------------------------------------------
    def _lease_round(self) -> None:
        now = time.monotonic()
        try:
            held = self.leases.renew(list(self.runners))
            workers = self.leases.heartbeat()
        except redis.RedisError:
            if now - self._renewed_at > self.config.lease_s:
                # Our leases may have expired and moved: better no analysis than two.
                for code in list(self.runners):
                    self._stop_runner(code, release=False)
            raise
        self._renewed_at = now
        for code in [c for c in self.runners if c not in held]:
            logger.warning("camera %s: lease lost to another worker", code)
            self._stop_runner(code, release=False)
        share = fair_share(len(self.cameras), workers, self.config.max_cameras)
        if len(self.runners) > share:
            # Hand surplus back one per round, so a newly started worker gets its share smoothly.
            code = sorted(self.runners)[-1]
            logger.info("camera %s: released (holding %s, fair share %s)", code, len(self.runners), share)
            self._stop_runner(code, release=True)
            return
        free = [c for c in self.cameras if c not in self.runners]
        random.shuffle(free)  # workers racing for the same free cameras collide less
        for code in free:
            if len(self.runners) >= share:
                break
            if self.leases.acquire(code):
                self._start_runner(self.cameras[code])

    def _start_runner(self, config: CameraConfig) -> None:
        self._gen += 1
        runner = CameraRunner(config, self._gen, self.outbox, self.media_dir, self.config, self.matters,
                              counts_seed=self._stored_counts(config))
        self.runners[config.code] = runner
        runner.start()
        logger.info("camera %s: leased by %s", config.code, self.worker_id)

    def _stop_runner(self, code: str, release: bool) -> None:
        runner = self.runners.pop(code, None)
        if runner is not None:
            runner.stop()
        if release:
            self.leases.release(code)

    # ---- output ------------------------------------------------------------------------------
    def _drain(self, wait_s: float) -> None:
        items = list(self.retry)
        self.retry.clear()
        try:
            items.append(self.outbox.get(timeout=wait_s) if wait_s > 0 else self.outbox.get_nowait())
        except queue.Empty:
            pass
        while True:
            try:
                items.append(self.outbox.get_nowait())
            except queue.Empty:
                break
        current = {r.gen for r in self.runners.values()}
        # A runner that lost its lease may still have spoken: only the current owner's words count.
        items = [i for i in items if i.gen in current or isinstance(i, (Publish, CountsReport))]
        if not items:
            return
        try:
            self._write(items)
        except (redis.RedisError, psycopg.Error):
            self.retry.extend(items)
            raise

    def _write(self, items: list) -> None:
        publishes = [i for i in items if isinstance(i, Publish)]
        reports: dict[str, HealthReport] = {}
        for i in items:
            if isinstance(i, HealthReport):
                reports[i.code] = i
        sent = []
        looks = [i for i in items if isinstance(i, LookDone)]
        with self.redis.pipeline(transaction=False) as pipe:
            looks = self.rechecker.queue(pipe, looks)
            for p in publishes:
                try:
                    publish_incident(pipe, p.message)
                except InvalidMessage as exc:
                    # Ingest would only dead-letter it, and no retry can make it valid: say why and drop it.
                    logger.error("camera %s: incident message refused by the bus, dropped: %s", p.message.camera,
                                 exc.reason, extra={"incident_id": str(p.message.event_id)})
                    continue
                sent.append(p)
            for r in reports.values():
                key = HEALTH_KEY.format(code=r.code)
                pipe.hset(key, mapping={
                    "health": r.health, "problem": r.problem or "", "fps": r.fps, "worker": self.worker_id,
                    "last_frame_at": r.last_frame_at.isoformat() if r.last_frame_at else "",
                    "updated_at": datetime.now(timezone.utc).isoformat(),
                })
                pipe.expire(key, int(max(60, 6 * self.config.lease_s)))
            pipe.execute()
        self.rechecker.sent(looks)
        # After the stream entries: a Redis failure above re-queues these with the rest, unwritten.
        counts = [i for i in items if isinstance(i, CountsReport)]
        if counts:
            self._write_counts(counts)
        for p in sent:
            logger.info("camera %s: %s %s %s -> incident stream", p.message.camera, p.message.attributes.get("rule"),
                        p.message.situation.phase.value, p.message.matter)
        changed = [r for r in reports.values() if self._published.get(r.code) != f"{r.health}/{r.problem}"]
        if not changed:
            return
        # Past this point nothing is re-queued (the stream entries are written): a failed health change
        # is simply retried with the camera's next report, every health_every_s.
        now = datetime.now(timezone.utc)
        try:
            conn = self._db()
            for r in changed:
                camera_repo.set_health(conn, r.code, r.health, now, r.problem)
            publish_live(self.redis, [LiveCamera(at=now, code=r.code, health=r.health, problem=r.problem,
                                                 lon=r.lon, lat=r.lat) for r in changed])
        except (redis.RedisError, psycopg.Error) as exc:
            logger.warning("camera health not recorded yet (%s); retrying with the next report", exc)
            self._close_db()
            return
        for r in changed:
            self._published[r.code] = f"{r.health}/{r.problem}"
            logger.info("camera %s: health %s%s", r.code, r.health, f" ({r.problem})" if r.problem else "")

    # ---- counts (issue 14) ---------------------------------------------------------------------
    def _stored_counts(self, config: CameraConfig) -> LiveCameraCounts | None:
        """The stored counts of the camera's open bucket, for a runner that starts within it."""
        if not (config.zones or config.lines):
            return None
        start = wall_time(counts_repo.bucket_of(time.time(), self.config.count_bucket_s))
        try:
            conn = self._db()
            zones, lines = counts_repo.stored_bucket(conn, config.code, start)
            conn.rollback()
        except psycopg.Error as exc:
            # Counting from zero loses nothing stored: the upsert keeps the larger count per row.
            logger.warning("camera %s: stored counts unreadable (%s); counting from zero", config.code, exc)
            self._close_db()
            return None
        if not zones and not lines:
            return None
        return LiveCameraCounts(at=datetime.now(timezone.utc), camera=config.code, bucket_start=start,
                                bucket_s=self.config.count_bucket_s, closed=False, zones=zones, lines=lines)

    def _write_counts(self, reports: list[CountsReport]) -> None:
        """Store each bucket (one transaction each), then publish it on gridwatch:live."""
        # Of several partial reports of one bucket only the newest is worth a write.
        latest: dict[tuple[str, datetime], LiveCameraCounts] = {}
        for r in reports:
            key = (r.counts.camera, r.counts.bucket_start)
            if r.counts.closed or not (key in latest and latest[key].closed):
                latest[key] = r.counts
        stored: list[LiveCameraCounts] = []
        try:
            conn = self._db()
            for counts in latest.values():
                counts_repo.write_bucket(conn, counts)
                stored.append(counts)
            publish_live(self.redis, stored)
        except (redis.RedisError, psycopg.Error) as exc:
            if isinstance(exc, psycopg.Error):
                self._close_db()
            # Closed buckets wait for the next round (writing one twice is harmless: an upsert that keeps
            # the larger count); a partial one will be overtaken by the next anyway.
            kept = [r for r in reports if r.counts.closed]
            logger.warning("camera counts not stored or published yet (%s); %s closed bucket(s) kept", exc, len(kept))
            self.retry.extend(kept)
