"""The camera's recheck (复核): a resolved camera case gets a second look at its zone.

Who owes a look is read from PostGIS, not from a message: every resolved camera-rule case whose latest
resolution has no recheck row yet (geodata.rechecks.due). A worker restart, a lease moving to another
host or a Redis restart loses nothing, since the next poll of whichever worker holds the camera finds
the case again. A claim key in Redis (`SET NX`, with an expiry) makes one worker look at a time; the key
stays ("sent") for a while after the message is out, so the case is not looked at twice while ingest
applies it, and ingest ignores a second recheck of one resolution anyway.

The worker that runs the camera asks its runner thread for a `Look`: the runner feeds it the rule hits
of each frame (`CameraPipeline.hits`) for the rule's `seconds` (at least `min_look_s`), then writes a
fresh snapshot as it writes situation snapshots and hands back a `recheck` message:
`present` when the rule held in most seconds of the look, `gone` when it did not, `unknown` when the
picture said nothing (no frame, covered, frozen, moved). A case whose camera nobody runs gets an
`unknown` ("not leased") from any camera worker once `deadline_s` have passed since the resolution.

Left objects and stopped vehicles need more than the rule. Their rules find *new* still things against
a background model, and a runner that started after the thing arrived (the lease moved, the worker
restarted) learnt it as scene within seconds; so does any runner after `absorb_s` (15 min). Its rule
then stays silent although the thing still stands there, and "not seen" would be a wrong `gone`. So
when the rule did not hold, the look compares the case's box region in the frames of the look with the
case's own evidence snapshot (`video.evidence`): still alike is `present`, clearly different is
`gone`, in between is `unknown`. Without a snapshot to compare, "not seen" is believed only from a
runner that knew the scene before the thing arrived and while it is still new to its model; any other
runner says `unknown` and why.
"""

from __future__ import annotations

import logging
import math
import queue
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import cv2
import numpy as np

from geodata import rechecks
from geodata.bus import InvalidMessage, publish_incident
from geodata.bus.messages import RecheckMessage, RecheckResult
from video.config import CameraConfig
from video.evidence import region_similarity
from video.rules import Hit

logger = logging.getLogger(__name__)

CLAIM_KEY = "gridwatch:camera:recheck:{key}"
"""One recheck of one resolution is claimed by one worker: value the worker id, or 'sent'."""
# Health problems during which the picture says nothing about a zone.
BLINDING = ("offline", "covered", "frozen", "moved")
PERSON_RULES = ("intrusion", "loitering", "crowd")
# Rules that find new still things against a learnt background: blind to what a runner learnt as scene.
STILL_RULES = ("object_left", "vehicle_stopped")
# Delete the claim only if we still hold it (it may have expired and moved to another worker).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


@dataclass(frozen=True)
class RecheckConfig:
    """How camera workers recheck resolved cases; tests shorten the periods."""

    # How often the worker asks PostGIS which resolved camera cases still owe a look.
    poll_s: float = 3.0
    # A case whose camera nobody runs this long after its resolution gets `unknown` ("not leased").
    deadline_s: float = 120.0
    # The look lasts the rule's `seconds`, within these bounds (intrusion's 0 s would see one frame).
    min_look_s: float = 3.0
    max_look_s: float = 300.0
    # A runner just started (the lease moved, the worker restarted) knows no tracks nor background yet:
    # its looks begin once it has analysed this long.
    warmup_s: float = 5.0
    # Share of the look's seconds in which the rule must hold for `present`.
    present_share: float = 0.6
    # Share of blind samples (no frame, covered...) beyond which the look cannot tell.
    blind_share: float = 0.2
    # A look that produced nothing this long after its end is given up (the runner died or hangs).
    grace_s: float = 20.0
    # How long the claim says "sent" once the message is out, while ingest applies it.
    sent_ttl_s: float = 600.0
    # Left objects and stopped vehicles: the box region compared with the case's snapshot about this
    # often during the look; at least `match_score` alike (video.evidence, -1..1) is the thing still
    # there, at most `differ_score` is something else there now.
    evidence_every_s: float = 1.0
    match_score: float = 0.6
    differ_score: float = 0.3


def rule_seconds(config: CameraConfig, rule: str, zone: str) -> float | None:
    """The rule's own seconds in that zone, or None when the camera no longer has that rule there."""
    for z in config.zones:
        if z.name == zone:
            for r in z.rules:
                if r.kind == rule:
                    return r.hold_s
    return None


def look_seconds(config: CameraConfig, rule: str, zone: str, settings: RecheckConfig) -> float | None:
    """How long to look at a zone for a rule, or None when the camera no longer has that rule there."""
    held = rule_seconds(config, rule, zone)
    return None if held is None else min(settings.max_look_s, max(settings.min_look_s, held))


@dataclass(frozen=True)
class SceneMemory:
    """What the runner's background model knows, for judging a still rule's silence.

    `known_from` is the wall time (epoch s) from which the model held the scene (the runner's first
    sample plus its learning time); `absorb_s` how long a new still thing stays new to it.
    """

    known_from: float
    absorb_s: float


class Look:
    """One look at a zone for a rule over `seconds` of stream time: fed each sample's hits, then a verdict."""

    def __init__(self, due: rechecks.RecheckDue, seconds: float, settings: RecheckConfig,
                 rule_s: float | None = None) -> None:
        self.due = due
        self.seconds = seconds
        self.settings = settings
        # The rule's own seconds: a still thing arrived about this long before the case was raised.
        self.rule_s = seconds if rule_s is None else rule_s
        self.cancelled = False  # set by the main thread; a bool assignment is atomic enough for a flag
        self._t0: float | None = None
        self._samples = 0
        self._blind = 0
        self._why: str | None = None
        self._hit_bins: set[int] = set()
        self.box: tuple | None = None
        # The case's snapshot (BGR) and the zone's polygon, for still rules (set by `use_evidence`).
        self.evidence: np.ndarray | None = None
        self.no_evidence: str | None = None
        self.polygon: list | None = None
        self._scored_at = float("-inf")
        self.scores: list[float] = []

    @property
    def still(self) -> bool:
        """A rule that finds new still things against a learnt background."""
        return self.due.rule in STILL_RULES

    def use_evidence(self, media_dir, polygon: list | None) -> None:
        """Load the case's snapshot to compare the box region with (still rules; once, in the runner thread)."""
        self.polygon = polygon
        due = self.due
        if not due.evidence or due.box is None:
            self.no_evidence = "the case has no snapshot with a box to compare"
            return
        image = cv2.imread(str(media_dir / due.evidence), cv2.IMREAD_COLOR)
        if image is None:
            self.no_evidence = f"the case's snapshot {due.evidence} cannot be read here"
            return
        self.evidence = image

    def feed(self, t: float, hits: list[Hit] | None, problems: set[str], has_frame: bool,
             frame: np.ndarray | None = None) -> bool:
        """Take one sample; True once the look has lasted its seconds."""
        if self._t0 is None:
            self._t0 = t
        self._samples += 1
        blinding = [p for p in BLINDING if p in problems]
        if not has_frame or hits is None or blinding:
            self._blind += 1
            self._why = self._why or (blinding[0] if blinding else "offline" if not has_frame else "no usable picture")
        else:
            for h in hits:
                if h.rule == self.due.rule and h.zone == self.due.zone:
                    self._hit_bins.add(int((t - self._t0) // 1.0))
                    self.box = h.box
            if (self.evidence is not None and frame is not None
                    and t - self._scored_at >= self.settings.evidence_every_s):
                self._scored_at = t
                score = region_similarity(frame, self.evidence, self.due.box, self.polygon)
                if score is not None:
                    self.scores.append(score)
        return t - self._t0 >= self.seconds

    def verdict(self, memory: SceneMemory | None = None, now: float | None = None) -> tuple[RecheckResult, str | None]:
        """present, gone or unknown (with why), from what was fed.

        `memory` and `now` (wall time, epoch s) say whether the runner's background model could still
        see a still rule's thing; without them a still rule's silence proves nothing.
        """
        if self._samples == 0 or self._blind == self._samples:
            return RecheckResult.UNKNOWN, f"camera {self._why or 'offline'}: no picture of the zone"
        if self._blind > self.settings.blind_share * self._samples:
            return RecheckResult.UNKNOWN, f"camera {self._why} during {self._blind} of {self._samples} frames"
        bins = max(1, math.ceil(self.seconds))
        if len(self._hit_bins) >= self.settings.present_share * bins:
            return RecheckResult.PRESENT, None
        if not self.still:
            return RecheckResult.GONE, None
        return self._still_silent(memory, now)

    def _still_silent(self, memory: SceneMemory | None, now: float | None) -> tuple[RecheckResult, str | None]:
        """A still rule that did not hold: the snapshot decides, or the model if it could have seen it."""
        if self.scores:
            # Upper quartile over the look: someone walking in front lowers a sample, nothing raises one.
            score = float(np.percentile(self.scores, 75))
            if score >= self.settings.match_score:
                return RecheckResult.PRESENT, (
                    f"the rule no longer fires (its background model has taken the thing in), but the box "
                    f"region still matches the case's snapshot (similarity {score:.2f})")
            if score <= self.settings.differ_score:
                return RecheckResult.GONE, f"the box region no longer matches the case's snapshot (similarity {score:.2f})"
            why = f"the box region neither matches the case's snapshot nor clearly differs (similarity {score:.2f})"
        else:
            why = self.no_evidence or "no frame of the look could be compared with the case's snapshot"
        raised = self.due.raised_at.timestamp() if self.due.raised_at is not None else None
        if memory is None or raised is None or now is None:
            return RecheckResult.UNKNOWN, f"{why}, and this runner cannot tell what its background model knew"
        arrived = raised - self.rule_s - 2.0  # the thing stood still a little before its clock started
        if memory.known_from > arrived:
            return RecheckResult.UNKNOWN, (
                f"this camera runner started after the case was raised (lease moved or worker restarted), so "
                f"its background model took the thing in as scene; {why}")
        if now - arrived >= memory.absorb_s:
            return RecheckResult.UNKNOWN, (
                f"the thing arrived over {memory.absorb_s / 60:g} min ago, so the background model has taken "
                f"it in as scene; {why}")
        return RecheckResult.GONE, None


@dataclass(frozen=True)
class LookDone:
    """A finished look's recheck message, from runner generation `gen`."""

    gen: int
    key: str
    message: RecheckMessage


@dataclass
class Looks:
    """A runner's looks: asked by the worker's main thread, fed by the runner thread after each frame."""

    inbox: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    active: list[Look] = field(default_factory=list)
    first_t: float | None = None  # the runner's first sample
    first_wall: float | None = None  # and its wall time: the runner's background model starts there

    def ask(self, look: Look) -> None:
        """Start a look with the next sample (any thread)."""
        self.inbox.put(look)

    def step(self, runner, sample) -> None:
        """Feed this sample to every look; finished ones write their snapshot and go to the runner's outbox."""
        if self.first_t is None:
            self.first_t, self.first_wall = sample.t, sample.wall
        while True:
            try:
                look = self.inbox.get_nowait()
            except queue.Empty:
                break
            if look.still:
                polygon = next((z.polygon for z in runner.config.zones if z.name == look.due.zone), None)
                look.use_evidence(runner.media_dir, polygon)
            self.active.append(look)
        if not self.active:
            return
        hits = runner.pipeline.hits
        for look in list(self.active):
            if look.cancelled:
                self.active.remove(look)
                continue
            if sample.t - self.first_t < look.settings.warmup_s:
                continue
            if not look.feed(sample.t, hits, runner.problems, sample.frame is not None, sample.frame):
                continue
            self.active.remove(look)
            result, reason = look.verdict(self._memory(runner), sample.wall)
            when = datetime.fromtimestamp(sample.wall, timezone.utc)
            event_id = uuid.uuid4()
            media = self._snapshot(runner, look, result, event_id, sample, when)
            due = look.due
            msg = RecheckMessage(v=1, event_id=event_id, incident_id=due.incident_id, camera=due.camera,
                                 rule=due.rule, zone=due.zone, result=result, observed_at=when, media=media,
                                 resolution=due.resolution, reason=reason)
            runner.outbox.put(LookDone(runner.gen, due.key, msg))

    def _memory(self, runner) -> SceneMemory | None:
        """Since when and for how long the runner's stationary background model tells new things apart."""
        model = getattr(runner.pipeline, "stationary", None)
        if self.first_wall is None or model is None:
            return None
        return SceneMemory(self.first_wall + float(model.learn_s), float(model.absorb_s))

    @staticmethod
    def _snapshot(runner, look: Look, result: RecheckResult, event_id: uuid.UUID, sample, when) -> list[str]:
        if sample.frame is None or result is RecheckResult.UNKNOWN:
            return []
        due = look.due
        polygon = next((z.polygon for z in runner.config.zones if z.name == due.zone), None)
        # Seen by the snapshot comparison rather than the rule: the case's own box is where it stands.
        box = (look.box or (due.box if look.still else None)) if result is RecheckResult.PRESENT else None
        label = f"{due.camera} {due.rule} @ {due.zone} recheck: {result.value}"
        return runner.recorder.start(f"recheck-{event_id.hex}", sample.t, when, box, polygon, label,
                                     person=due.rule in PERSON_RULES, clip=False)


class Rechecker:
    """The worker's side: which cases owe a look, claims, asking runners, sending and giving up."""

    def __init__(self, worker, settings: RecheckConfig) -> None:
        # The CameraWorker (its Redis, PostGIS connection, runners and leases); not imported, to keep
        # this module free of the worker's own imports.
        self.worker = worker
        self.settings = settings
        self._polled = float("-inf")
        self._looking: dict[str, tuple[object, Look, float]] = {}  # key -> (runner, look, give up at)
        self._release = worker.redis.register_script(_RELEASE)
        # Ingest believes a recheck only with this key's signature; read from PostGIS at the first poll.
        self._key: bytes | None = None

    def round(self) -> None:
        """Give up stale looks; every poll_s, start the looks this worker owes and answer unleased cameras."""
        now = time.monotonic()
        self._give_up(now)
        if now - self._polled < self.settings.poll_s:
            return
        self._polled = now
        conn = self.worker._db()
        try:
            if self._key is None:
                self._key = rechecks.signing_key(conn)
            owed = rechecks.due(conn)
        finally:
            conn.rollback()
        for due in owed:
            if due.key in self._looking:
                continue
            runner = self.worker.runners.get(due.camera)
            if runner is not None:
                self._start(due, runner, now)
            elif due.age_s >= self.settings.deadline_s and self._claim(due, self.settings.sent_ttl_s):
                holder = self.worker.leases.holder(due.camera)
                why = ("camera not leased by any worker" if holder is None
                       else f"no look by its lease holder {holder}")
                self._send_now(due, f"{why} within {self.settings.deadline_s:g} s of the resolution")

    def _start(self, due: rechecks.RecheckDue, runner, now: float) -> None:
        seconds = look_seconds(runner.config, due.rule, due.zone, self.settings)
        if seconds is None:
            if self._claim(due, self.settings.sent_ttl_s):
                self._send_now(due, f"camera {due.camera} no longer has rule {due.rule} in zone {due.zone}")
            return
        budget = self.settings.warmup_s + seconds + self.settings.grace_s
        if not self._claim(due, budget + 10.0):
            return  # another worker looks (it held the camera a moment ago) or has sent it
        look = Look(due, seconds, self.settings, rule_seconds(runner.config, due.rule, due.zone))
        runner.looks.ask(look)
        self._looking[due.key] = (runner, look, now + budget)
        logger.info("camera %s: rechecking incident %s (%s in %s) for %.0f s", due.camera, due.incident_id,
                    due.rule, due.zone, seconds, extra={"incident_id": str(due.incident_id)})

    def _give_up(self, now: float) -> None:
        for key, (runner, look, until) in list(self._looking.items()):
            if self.worker.runners.get(look.due.camera) is not runner:
                # The camera stopped here (lease lost, config changed): its next holder looks again.
                look.cancelled = True
                del self._looking[key]
                self._release(keys=[CLAIM_KEY.format(key=key)], args=[self.worker.worker_id])
            elif now > until:
                look.cancelled = True
                del self._looking[key]
                self._send_now(look.due, "camera gave no picture during the look")

    def _claim(self, due: rechecks.RecheckDue, ttl_s: float) -> bool:
        return bool(self.worker.redis.set(CLAIM_KEY.format(key=due.key), self.worker.worker_id, nx=True,
                                          ex=max(1, math.ceil(ttl_s))))

    def _send_now(self, due: rechecks.RecheckDue, reason: str) -> None:
        """An `unknown` with its reason, from the main thread (no look could be made)."""
        msg = RecheckMessage(v=1, event_id=uuid.uuid4(), incident_id=due.incident_id, camera=due.camera,
                             rule=due.rule, zone=due.zone, result=RecheckResult.UNKNOWN,
                             observed_at=datetime.now(timezone.utc), resolution=due.resolution, reason=reason)
        with self.worker.redis.pipeline(transaction=False) as pipe:
            self.queue(pipe, [LookDone(0, due.key, msg)])
            pipe.execute()
        self.sent([LookDone(0, due.key, msg)])

    def queue(self, pipe, done: list[LookDone]) -> list[LookDone]:
        """Add finished looks' messages (and their 'sent' claims) to a pipeline; returns those queued."""
        queued = []
        for d in done:
            if self._key is None:
                # Cannot happen (a look starts only after a poll read the key); unsigned, ingest would refuse it.
                logger.error("camera %s: recheck not signed (no key yet), dropped", d.message.camera)
                continue
            try:
                publish_incident(pipe, rechecks.sign(d.message, self._key))
            except InvalidMessage as exc:
                logger.error("camera %s: recheck message refused by the bus, dropped: %s", d.message.camera, exc.reason)
                continue
            pipe.set(CLAIM_KEY.format(key=d.key), "sent", ex=math.ceil(self.settings.sent_ttl_s))
            queued.append(d)
        return queued

    def sent(self, done: list[LookDone]) -> None:
        """After the pipeline went out: forget the looks, say what was seen."""
        for d in done:
            self._looking.pop(d.key, None)
            m = d.message
            logger.info("camera %s: recheck of incident %s: %s%s -> incident stream", m.camera, m.incident_id,
                        m.result.value, f" ({m.reason})" if m.reason else "", extra={"incident_id": str(m.incident_id)})
