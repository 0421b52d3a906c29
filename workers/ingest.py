"""The ingest worker: the only creator of incidents.

Reads `gridwatch:incidents` in batches through the consumer group `ingest`, validates each entry
(failures go to the dead-letter stream with the reason), locates and routes it, merges duplicates,
and writes incidents, reports and their first history rows in one transaction per batch. Entries are
acknowledged after the commit, then the live feed is published from the batch's row in `live_outbox`
(geodata/live_outbox.py), so a worker killed between its commit and its publish loses no live message:
the next start publishes it. Delivery is at least once; writes are idempotent on `event_id`, so a
replayed entry creates nothing new.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from uuid import UUID

import numpy as np
import psycopg
import redis

from geodata import db, ingest_repo, live_outbox
from geodata.ingest_repo import BatchWrite, Reference, as_json, point_ewkt
from geodata.transitions import apply_transition
from grid import deadlines, merging, routing
from grid.lifecycle import FINAL_STATUSES, Role, Status, TransitionError
from grid.locate import OUTSIDE
from geodata.bus import LiveIncident, created_incident_json
from geodata.bus.messages import IncidentMessage, InvalidMessage, Phase, RecheckMessage, parse_stream
from geodata.rechecks import RecheckRefused, apply_recheck, check_signature, signing_key
from geodata.bus import stream
from workers.camera_position import camera_point

logger = logging.getLogger(__name__)

ACTOR = "system:ingest"
# A case's history gets at most one `situation_update` row this often (by when the camera saw it):
# the camera reports every few seconds while someone stands there, the desk wants a readable history.
# Updates in between are kept as reports (incident_report) and change nothing else.
UPDATE_ROW_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class IngestConfig:
    """How the ingest worker reads the stream."""

    batch_size: int = 500
    block_ms: int = 200
    # Entries another consumer left unacknowledged this long are taken over (it died).
    claim_idle_ms: int = 30_000
    claim_every_s: float = 5.0
    # Finished entries are dropped from the stream once this old (see stream.trim_finished).
    keep_finished_s: float = 60.0
    trim_every_s: float = 10.0


@dataclass
class Outcome:
    """What one batch did."""

    created: int = 0
    merged: int = 0
    updated: int = 0
    duplicates: int = 0
    dead: int = 0
    # Live messages to publish after the commit (new cases as their JSON text already).
    live: list[LiveIncident | str] = field(default_factory=list)
    # Those messages' outbox row, written in the batch's transaction.
    staged: live_outbox.Staged | None = None


class SkipEntry(Exception):
    """An entry that parsed but cannot be ingested (unknown matter or camera): dead-letter it."""


class Ingestor:
    """Turns batches of stream entries into committed incidents; no Redis I/O of its own."""

    def __init__(self, conn: psycopg.Connection):
        if not conn.autocommit:
            # Each batch is one explicit transaction; on a connection already inside an implicit one,
            # `transaction()` would only make a savepoint and nothing would ever be committed.
            raise ValueError("Ingestor needs an autocommit connection")
        self.conn = conn
        ingest_repo.prepare(conn)
        self.ref: Reference = ingest_repo.load_reference(conn)
        # Rechecks are believed only when signed with the camera workers' key (geodata/rechecks.py).
        self.recheck_key = signing_key(conn)
        logger.info("ingest reference loaded: %s base grids, %s matters, %s cameras",
                    len(self.ref.lookup.index), len(self.ref.matters), len(self.ref.cameras))

    # -- validation ---------------------------------------------------------------------------
    def _matter(self, msg: IncidentMessage) -> ingest_repo.MatterInfo:
        # No re-read on a miss: matters and cameras bump the grid revision, which every batch checks, so a
        # flood of bad codes costs a dictionary look-up each, not a reload each.
        info = self.ref.matters.get(msg.matter)
        if info is None:
            raise SkipEntry(f"matter: unknown matter code {msg.matter!r}")
        return info

    def _position(self, msg: IncidentMessage) -> tuple[float, float]:
        if msg.camera is None:
            return float(msg.lon), float(msg.lat)
        cam = self.ref.cameras.get(msg.camera)
        if cam is None:
            raise SkipEntry(f"camera: unknown camera code {msg.camera!r}")
        return camera_point(cam.lon, cam.lat, cam.config, msg.foot)

    # -- one batch ----------------------------------------------------------------------------
    def process(self, entries: list[stream.Entry]) -> tuple[Outcome, list[tuple[stream.Entry, str]]]:
        """Validate, plan and write one batch in one transaction; the caller acks and publishes."""
        out = Outcome()
        rejected: list[tuple[stream.Entry, str]] = []
        parsed: list[tuple[stream.Entry, IncidentMessage]] = []
        rechecks: list[tuple[stream.Entry, RecheckMessage]] = []
        for entry in entries:
            if entry.data is None:
                rejected.append((entry, "entry has no 'data' field"))
                continue
            try:
                msg = parse_stream(entry.data)
            except InvalidMessage as exc:
                rejected.append((entry, exc.reason))
                continue
            (rechecks if isinstance(msg, RecheckMessage) else parsed).append((entry, msg))
        with self.conn.transaction():
            # Checked every batch (one cheap row): a base grid moved a moment ago routes to its new
            # sub-grid's worker from the next batch on, not seconds later.
            rev = ingest_repo.grid_revision(self.conn)
            if rev != self.ref.revision:
                self.ref = ingest_repo.load_reference(self.conn)
                logger.info("grid changed (revision %s): location index reloaded", rev)
            looked: list[tuple[stream.Entry, IncidentMessage, ingest_repo.Probe, str | None]] = []
            for entry, msg in parsed:
                try:
                    matter = self._matter(msg)
                    lon, lat = self._position(msg)
                except SkipEntry as exc:
                    # Judged after the replay check: a replay is a duplicate whatever it names.
                    looked.append((entry, msg, ingest_repo.Probe(msg.event_id, msg.observed_at), str(exc)))
                    continue
                mergeable = msg.situation is None or msg.situation.phase is Phase.START
                looked.append((entry, msg, ingest_repo.Probe(msg.event_id, msg.observed_at, matter, lon, lat,
                                                             mergeable), None))
            if looked:
                ingest_repo.probe(self.conn, [p for _, _, p, _ in looked])
            known = ingest_repo.known_event_ids(self.conn) if looked else set()
            fresh: list[tuple[stream.Entry, IncidentMessage, ingest_repo.MatterInfo, float, float]] = []
            seen: set[UUID] = set()
            for entry, msg, p, problem in looked:
                if msg.event_id in known or msg.event_id in seen:
                    out.duplicates += 1
                    continue
                if problem is not None:
                    rejected.append((entry, problem))
                    continue
                seen.add(msg.event_id)
                fresh.append((entry, msg, p.matter, p.lon, p.lat))
            if fresh:
                self._plan_and_write(fresh, out)
            for entry, msg in rechecks:
                self._recheck(entry, msg, out, rejected)
            out.staged = live_outbox.stage(self.conn, out.live)
        out.dead = len(rejected)
        return out, rejected

    def _plan_and_write(self, fresh, out: Outcome) -> None:
        now = datetime.now(timezone.utc)
        idx = self.ref.lookup.index
        located = idx.locate(np.array([f[3] for f in fresh]), np.array([f[4] for f in fresh]))
        locations = []
        for i in located:
            rec = idx.record(int(i)) if i != OUTSIDE else None
            locations.append(routing.Location(outside=True) if rec is None else routing.Location(
                rec.base_grid, rec.sub_grid, rec.community, rec.street, False))
        assign = ingest_repo.assignments(self.conn, {loc.sub_grid_code for loc in locations if loc.sub_grid_code})
        situations = ingest_repo.situation_incidents(self.conn, {
            (m.camera, m.situation.id) for _, m, *_ in fresh if m.situation is not None})
        candidates = ingest_repo.merge_candidates(self.conn)
        # Lock every case a report may join before deciding, so a case a dispatcher closes this very
        # moment is either seen closed (a new case is made) or closed after the merge, never half-way.
        locked = ingest_repo.lock_incidents(
            self.conn, {UUID(c.incident_id) for c in candidates} | set(situations.values()))
        candidates = [c for c in candidates if _status(locked.get(UUID(c.incident_id))) not in FINAL_STATUSES]

        batch = BatchWrite()
        # Every case dispatched by this batch starts its clock now: one Clock per deadline length.
        clocks: dict[float, deadlines.Clock] = {}
        # Further reports of a case: (case, message, action), applied through the transition function.
        attached: list[tuple[UUID, IncidentMessage, str]] = []
        # The longitude cell shrinks with cos(lat): widen the cells so the 3x3 search stays complete.
        widest = max((f[2].merge.radius_m for f in fresh), default=merging.DEFAULT_RADIUS_M)
        nearby = merging.CandidateIndex(widest / 0.9)
        for cand in candidates:
            nearby.add(cand)
        for (entry, msg, matter, lon, lat), loc in zip(fresh, locations):
            situation_key = (msg.camera, msg.situation.id) if msg.situation else None
            target: UUID | None = None
            action = "merge"
            if situation_key and situation_key in situations:
                target = situations[situation_key]
                action = "situation_" + msg.situation.phase.value
            elif msg.situation is None or msg.situation.phase is Phase.START:
                # A reporter who was shown the nearby cases and said "a different one" is believed.
                report = merging.Report(matter.code, lon, lat, msg.observed_at,
                                        merging.not_duplicate_ids(msg.attributes.get("not_duplicate_of")))
                hit = merging.merge_target(report, nearby.near(matter.code, lon, lat), matter.merge)
                target = UUID(hit.incident_id) if hit else None
            if target is not None and situation_key:
                situations[situation_key] = target
            if target is not None:
                batch.reports.append(self._report_row(msg, target, lon, lat))
                attached.append((target, msg, action))
                if action == "merge":
                    out.merged += 1
                else:
                    out.updated += 1
                continue
            decision = routing.route(loc, msg.source, assign.get(loc.sub_grid_code),
                                     auto_dispatch=self._auto_dispatch(msg), family=matter.family)
            status = Status.DISPATCHED if decision.dispatch else Status.REPORTED
            out.live.append(self._create(batch, msg, matter, lon, lat, loc, decision, status, now, clocks))
            out.created += 1
            if situation_key:
                situations[situation_key] = msg.event_id
            nearby.add(merging.Candidate(str(msg.event_id), matter.code, status, lon, lat, msg.observed_at))
        ingest_repo.write_batch(self.conn, batch, now, ACTOR)
        # When the last update row of each case was seen, moved on as this batch writes new ones.
        update_at = {case: lc.update_at for case, lc in locked.items()}
        for target, msg, action in attached:
            if action == "situation_update":
                last = update_at.get(target)
                if last is not None and msg.observed_at - last < UPDATE_ROW_EVERY:
                    logger.debug("update %s of incident %s kept as a report only", msg.event_id, target)
                    continue
                update_at[target] = msg.observed_at
            elif action == "situation_end":
                update_at[target] = None
            self._attach(target, msg, action, _status(locked.get(target)), out)

    def _recheck(self, entry: stream.Entry, msg: RecheckMessage, out: Outcome,
                 rejected: list[tuple[stream.Entry, str]]) -> None:
        """A camera's second look at a resolved case (geodata/rechecks.py); one that cannot apply is dead-lettered."""
        forged = check_signature(msg, self.recheck_key)
        if forged is not None:
            logger.warning("recheck %s of incident %s refused: %s", msg.event_id, msg.incident_id, forged)
            rejected.append((entry, forged))
            return
        try:
            applied = apply_recheck(self.conn, msg)
        except (RecheckRefused, TransitionError) as exc:
            rejected.append((entry, getattr(exc, "reason", None) or str(exc)))
            return
        if applied.result is None:
            logger.info("recheck %s of incident %s changes nothing: %s", msg.event_id, msg.incident_id, applied.why)
            return
        out.live.extend(m for m in applied.result.live_messages() if isinstance(m, LiveIncident))

    def _auto_dispatch(self, msg: IncidentMessage) -> bool:
        """A camera rule may say `dispatch: auto`; the camera worker copies it into attributes."""
        if msg.attributes.get("dispatch") == "auto":
            return True
        cam = self.ref.cameras.get(msg.camera or "")
        rule, zone = msg.attributes.get("rule"), msg.attributes.get("zone")
        if cam is None or rule is None:
            return False
        for z in cam.config.get("zones", []):
            if zone is not None and z.get("name") != zone:
                continue
            for r in z.get("rules", []):
                if r.get("kind") == rule and r.get("dispatch") == "auto":
                    return True
        return False

    @staticmethod
    def _report_attributes(msg: IncidentMessage) -> dict:
        if msg.situation is None:
            return msg.attributes
        # Kept with the report so later phases find the incident even when the start merged.
        return {**msg.attributes, "situation": {"id": msg.situation.id, "phase": msg.situation.phase.value},
                "camera": msg.camera}

    def _report_row(self, msg: IncidentMessage, incident_id: UUID, lon: float, lat: float) -> tuple:
        """A further report of an existing case (REPORT_COLUMNS)."""
        return (msg.event_id, incident_id, msg.source.value, msg.matter, msg.reporter, msg.observed_at,
                point_ewkt(lon, lat), msg.description, as_json(msg.media), as_json(self._report_attributes(msg)))

    def _attach(self, target: UUID, msg: IncidentMessage, action: str, status: Status | None,
                out: Outcome) -> None:
        """A further report of a case: its report row is written; the case changes by transition."""
        if status in FINAL_STATUSES:
            # A camera situation that outlives its closed case: the report stays as evidence,
            # the closed case is not touched.
            logger.debug("report %s kept on final incident %s", msg.event_id, target)
            return
        try:
            result = apply_transition(
                self.conn, target, action, msg.reporter or ACTOR, Role.SYSTEM, note=msg.description or None,
                media=msg.media, data={"event_id": str(msg.event_id), "source": msg.source.value},
                observed_at=msg.observed_at)
        except TransitionError as exc:
            # Cannot happen for a locked open case; if it does, the report is kept and the case unharmed.
            logger.warning("report %s kept on incident %s without %s: %s", msg.event_id, target, action, exc)
            return
        # Named by the report that caused it: a merge's message carries the case id, not the report's.
        out.live.extend(m.model_copy(update={"event_id": msg.event_id}) for m in result.live_messages()
                        if isinstance(m, LiveIncident))

    def _create(self, batch: BatchWrite, msg, matter, lon, lat, loc: routing.Location,
                decision: routing.Decision, status: Status, now: datetime,
                clocks: dict[float, deadlines.Clock]) -> str:
        """Add a new case to the batch; return its live announcement."""
        clock = None
        if decision.dispatch:
            clock = clocks.get(matter.deadline_hours)
            if clock is None:
                clock = clocks[matter.deadline_hours] = deadlines.on_dispatch(now, matter.deadline_hours, None)
        priority = msg.priority or matter.priority
        report_attributes = as_json(self._report_attributes(msg))
        if msg.foot is not None:
            attributes = as_json({**msg.attributes, "foot": list(msg.foot)})
        elif msg.situation is None:
            attributes = report_attributes
        else:
            attributes = as_json(msg.attributes)
        due_at = clock.due_at if clock else None
        batch.incidents.append((  # NEW_COLUMNS
            msg.event_id, matter.code, msg.source.value, status.value, priority, decision.queue.value, lon, lat,
            decision.outside, loc.base_grid_code, loc.sub_grid_code, loc.community_code, loc.street_code,
            decision.worker_code, msg.camera, msg.situation.id if msg.situation else None, msg.description,
            msg.observed_at, clock.dispatched_at if clock else None, due_at, attributes, report_attributes,
            as_json(msg.media), msg.reporter or None, decision.reason if decision.dispatch else None,
        ))
        return created_incident_json(
            at=now, id=msg.event_id, actor=msg.reporter or msg.source.value, status=status, queue=decision.queue,
            worker_code=decision.worker_code, matter_code=matter.code, priority=priority,
            base_grid_code=loc.base_grid_code, sub_grid_code=loc.sub_grid_code, community_code=loc.community_code,
            street_code=loc.street_code, outside=decision.outside, lon=lon, lat=lat, due_at=due_at)


def _status(case: ingest_repo.LockedCase | None) -> Status | None:
    return None if case is None else case.status


def consumer_name() -> str:
    """A name unique to this process."""
    return f"{socket.gethostname()}-{os.getpid()}"


class IngestWorker:
    """The process loop: read, process, ack, publish; survive Redis and PostGIS outages."""

    def __init__(self, database_url: str, redis_url: str, config: IngestConfig | None = None,
                 consumer: str | None = None):
        self.database_url = database_url
        self.redis_url = redis_url
        self.config = config or IngestConfig()
        self.consumer = consumer or consumer_name()
        self.stopping = False
        self.redis: redis.Redis | None = None
        self.ingestor: Ingestor | None = None
        self.totals = Outcome()

    def _connect(self) -> None:
        if self.redis is None:
            self.redis = redis.Redis.from_url(self.redis_url, socket_timeout=10, socket_connect_timeout=5,
                                              health_check_interval=30)
            stream.ensure_group(self.redis)
        if self.ingestor is None:
            self.ingestor = Ingestor(db.connect(self.database_url, autocommit=True))

    def _drop_db(self) -> None:
        if self.ingestor is not None:
            try:
                self.ingestor.conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail any way it likes
                pass
            self.ingestor = None

    def handle(self, entries: list[stream.Entry]) -> Outcome:
        """Process, acknowledge and publish one batch (the unit a test or benchmark can drive)."""
        assert self.ingestor is not None and self.redis is not None
        try:
            outcome, rejected = self.ingestor.process(entries)
        except psycopg.OperationalError:
            raise
        except psycopg.Error as exc:
            # Something in this batch upset the database: find the culprit one entry at a time.
            logger.warning("batch of %s failed (%s); retrying entry by entry", len(entries), exc)
            return self._one_by_one(entries)
        stream.dead_letter(self.redis, rejected)
        rejected_ids = {e.id for e, _ in rejected}
        stream.ack(self.redis, [e.id for e in entries if e.id not in rejected_ids])
        live_outbox.deliver(self.ingestor.conn, self.redis, [outcome.staged])
        return outcome

    def _one_by_one(self, entries: list[stream.Entry]) -> Outcome:
        total = Outcome()
        for entry in entries:
            try:
                outcome, rejected = self.ingestor.process([entry])
            except psycopg.OperationalError:
                raise
            except psycopg.Error as exc:
                outcome, rejected = Outcome(), [(entry, f"database refused it: {exc.diag.message_primary or exc}")]
            stream.dead_letter(self.redis, rejected)
            if not rejected:
                stream.ack(self.redis, [entry.id])
            live_outbox.deliver(self.ingestor.conn, self.redis, [outcome.staged])
            _add(total, outcome)
            total.dead += len(rejected)
        return total

    def run(self, max_idle_s: float | None = None) -> Outcome:
        """Loop until stopped (or idle for max_idle_s, for tests and benchmarks)."""
        failures = 0
        last_claim = 0.0
        last_trim = time.monotonic()
        idle_since = time.monotonic()
        pending_first = True
        # After a start or an outage: batches committed and never published (by us or a killed worker).
        left_owed = True
        while not self.stopping:
            try:
                self._connect()
                if left_owed:
                    live_outbox.deliver_left(self.ingestor.conn, self.redis)
                    left_owed = False
                now = time.monotonic()
                entries: list[stream.Entry] = []
                if pending_first:
                    # After a start or a failure, finish what was delivered to us and not acknowledged.
                    entries = stream.read_pending(self.redis, self.consumer, self.config.batch_size)
                    pending_first = bool(entries)
                if not entries and now - last_claim > self.config.claim_every_s:
                    entries = stream.claim_abandoned(self.redis, self.consumer, self.config.claim_idle_ms,
                                                     self.config.batch_size)
                    last_claim = now
                if not entries:
                    entries = stream.read_new(self.redis, self.consumer, self.config.batch_size,
                                              self.config.block_ms)
                if now - last_trim > self.config.trim_every_s:
                    last_trim = now
                    stream.trim_finished(self.redis, self.config.keep_finished_s)
                if entries:
                    _add(self.totals, self.handle(entries))
                    idle_since = time.monotonic()
                elif max_idle_s is not None and time.monotonic() - idle_since > max_idle_s:
                    break
                failures = 0
            except redis.ResponseError as exc:
                # The stream or its group was deleted under us (FLUSHDB, an operator): recreate it.
                if "NOGROUP" not in str(exc) and "UNBLOCKED" not in str(exc):
                    raise
                logger.warning("consumer group missing (%s); recreating it", exc)
                stream.ensure_group(self.redis)
                pending_first = True
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                failures += 1
                logger.warning("Redis unavailable (%s); retrying", exc)
                self.redis = None
                pending_first = left_owed = True
                stream.wait(failures)
            except psycopg.OperationalError as exc:
                failures += 1
                logger.warning("PostGIS unavailable (%s); waiting, nothing is acknowledged", exc)
                self._drop_db()
                pending_first = left_owed = True
                stream.wait(failures)
        return self.totals


def _add(total: Outcome, part: Outcome) -> None:
    total.created += part.created
    total.merged += part.merged
    total.updated += part.updated
    total.duplicates += part.duplicates
    total.dead += part.dead
