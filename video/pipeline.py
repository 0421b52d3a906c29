"""CameraPipeline: (frame, timestamp) in, situation events out; and offline analysis of a clip."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from video.background import Stationary, StationaryDetector
from video.calibration import Calibration
from video.config import CameraConfig
from video.detections import PERSON, VEHICLE, Detections, box_cover, box_iou
from video.detectors import Detector, make_detector
from video.lines import BlobCrossings, Crossing, LineCounter, TrackPoint, count_present
from video.motion import MotionGate, shared_thumbnails
from video.moving import MovingBlobs, MovingPeople, VehicleTracks
from video.quality import QualityMonitor
from video.rules import Hit, Person, RuleEngine, StillObject
from video.situations import Situation, SituationTracker
from video.still_kind import StillKinds
from video.tracker import Tracker
from video.zones import PolygonZone

logger = logging.getLogger(__name__)


class CameraPipeline:
    """Runs quality checks, the motion gate, detection on motion crops, tracking, rules and situations."""

    def __init__(
        self,
        config: CameraConfig,
        detector: Detector | None = None,
        analysis_width: int = 640,
        cooldown_s: float = 3.0,
        verify_every_s: float = 1.0,
        presence_s: float = 0.6,  # short: the tracker now carries people through detector misses itself
        max_rois: int = 4,
        skip_steady: bool = True,
        max_skips: int = 1,
    ) -> None:
        self.config = config
        self.detector = detector or make_detector()
        self.analysis_width = analysis_width
        self.verify_every_s = verify_every_s
        self.presence_s = presence_s
        self.max_rois = max_rois
        # Issue 11: a motion roi that only holds a person the detector found last frame, where the track
        # predicted them, is not searched this frame; the track follows its picture instead. max_skips=2
        # (two frames in three) cut the all-busy run's pipeline CPU by a third in issue 14's measurements,
        # at a small cost in the quality run (crowd recall 0.92, vehicle_stopped precision 0.92 on one
        # synthetic set): not the default yet.
        # A detector that names vehicles feeds the vehicle counts every frame: it searches everything.
        self.skip_steady = skip_steady and VEHICLE not in getattr(self.detector, "classes", (PERSON,))
        self.skip_slack = (0.15, 0.08)  # of the track's width, height, and pixels on top
        self.skip_pad = 0.0125 * analysis_width
        self.skip_cover = 0.9
        # How far the detector's crop reaches beside a roi, in roi heights (HOG's pad_x).
        self.detector_pad = float(getattr(self.detector, "pad_x", 0.0))
        self._skipped: frozenset[int] = frozenset()
        self.gate = MotionGate()
        self.stationary = StationaryDetector()
        self.kinds = StillKinds(config.zones, Calibration.from_config(config))
        self.quality = QualityMonitor(config.health)
        self.tracker = Tracker(max_skips=max_skips)
        self.rules = RuleEngine(config)
        self.situations = SituationTracker(config.code, cooldown_s=cooldown_s)
        # Privacy blurs where the tracker knows people are, so people are tracked even without person rules.
        self._needs_people = config.privacy != "off" or any(
            r.kind in ("intrusion", "loitering", "crowd") for z in config.zones for r in z.rules) or any(
            "person" in ln.classes for ln in config.lines)
        # The boxes (0-1 xyxy) of the people the tracker holds in the last analysed frame: what media blurs.
        self.people = np.zeros((0, 4), np.float32)
        self._needs_objects = any(r.kind in ("object_left", "vehicle_stopped") for z in config.zones for r in z.rules)
        # Whether the detector names vehicles; a people-only one leaves still blobs to their size (StillKinds).
        self._asks_vehicles = VEHICLE in getattr(self.detector, "classes", (PERSON,))
        self._vehicle_checks: list[_VehicleCheck] = []
        # Still blobs a person was with, and when last: a thing is left from when nobody is with it.
        self._attended: list[tuple[np.ndarray, float]] = []
        self.last_t = 0.0
        # Issue 14, read by the camera worker after each feed(): the line crossings found in that frame,
        # and how many of each class ((zone, 'person'|'vehicle') -> n) are in each zone in that frame.
        self.crossings: list[Crossing] = []
        self.present: dict[tuple[str, str], int] = {}
        # The rule hits of the last frame, None when it said nothing about the scene (no frame, covered,
        # frozen, moved): what a camera's recheck of a resolved case watches.
        self.hits: list[Hit] | None = None
        self.counter = LineCounter(config.lines)
        self._count_zones = [PolygonZone.from_config(z) for z in config.zones]
        # Moving vehicles are followed (video.moving) only on cameras that count vehicles on a line: it
        # costs about 1.5 motion gates a frame (0.5 ms on a quiet street, the mixed run 3.8x -> 4.6x
        # decode-only), too much for every camera with a zone. Elsewhere a zone's vehicles are the stopped
        # ones the stationary rules find.
        self.vehicles = VehicleTracks(config.zones, self.kinds.calibration) if any(
            "vehicle" in ln.classes for ln in config.lines) else None
        # A person the detector sees on one side of a line only (walking in from the picture's edge, boxed
        # once on the way out) crosses it as their moving blob, named by a person box (video.moving.MovingPeople,
        # video.lines.BlobCrossings); vehicles and people share one moving-blob background.
        person_lines = [ln for ln in config.lines if "person" in ln.classes]
        self.moving_people = MovingPeople() if person_lines else None
        # Only cameras with a person line follow blobs for people: elsewhere neither exists.
        self.blob_crossings = BlobCrossings(person_lines) if person_lines else None
        self._blobs = (self.vehicles.blobs if self.vehicles is not None else MovingBlobs()) if person_lines else None
        self._detected: list[tuple[int, np.ndarray]] = []  # (person track id, 0-1 box) detected this frame

    def feed(self, frame: np.ndarray | None, t: float) -> list[Situation]:
        """Analyse one frame taken at t seconds (None: the source delivered nothing); return events."""
        self.last_t = t
        self.crossings = []
        self.present = {}
        self.hits = None
        if frame is None:
            diag = self.quality.no_frame(t)
            return self.situations.update(_health_hits(diag.problems), t)
        frame = self._resize(frame)
        with shared_thumbnails(frame):
            return self._feed(frame, t)

    def _feed(self, frame: np.ndarray, t: float) -> list[Situation]:
        diag = self.quality.update(frame, t)
        hits = _health_hits(diag.problems)
        trusted = not (diag.raw & {"frozen", "covered"}) and "moved" not in diag.problems
        if trusted:
            self.hits = self._analyse(frame, t)
            hits += self.hits
        else:
            # A covered or frozen picture says nothing about the scene: keep models, drop motion history.
            self.gate.reset()
            self.stationary.update(frame, t, hold=True)
        return self.situations.update(hits, t)

    def finish(self, t: float | None = None) -> list[Situation]:
        """End every open situation at the end of the stream."""
        return self.situations.finish(self.last_t if t is None else t)

    def _resize(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        if w <= self.analysis_width:
            return frame
        f = self.analysis_width / w
        return cv2.resize(frame, (self.analysis_width, int(round(h * f))), interpolation=cv2.INTER_AREA)

    def _analyse(self, frame: np.ndarray, t: float) -> list[Hit]:
        h, w = frame.shape[:2]
        scale = np.array([w, h, w, h], np.float32)
        motion = self.gate.update(frame)
        people: list[Person] = []
        dets = Detections.empty()
        if self._needs_people:
            rois = self._rois(motion.boxes * scale, t, w, h)
            dets = self.detector.detect(frame, rois) if len(rois) else Detections.empty()
            live = self.tracker.update(dets.of(PERSON), t, frame, motion.boxes * scale, self._skipped)
            # Every live track, confirmed or not, coasting or not: privacy errs on the side of blurring.
            self.people = (np.array([tr.box for tr in live], np.float32).reshape(-1, 4) / scale).clip(0.0, 1.0)
            self._detected = [(tr.id, tr.box / scale) for tr in live if tr.last_detected == t]
            for tr in self.tracker.confirmed():
                if t - tr.last_seen <= self.presence_s:
                    people.append(Person(tr.id, tuple(float(v) for v in tr.box / scale), tr.confidence))
        objects: list[StillObject] = []
        if self._needs_objects:
            still = self.stationary.update(frame, t)
            objects = self._classify(still, t, scale, frame)
        self._count(frame, t, people, objects, dets)
        return self.rules.evaluate(t, people, objects)

    def _count(self, frame: np.ndarray, t: float, people: list[Person], objects: list[StillObject],
               dets: Detections) -> None:
        """Line crossings and zone counts of this frame (issue 14): people by foot, vehicles by box centre."""
        blobs = self._blobs.update(frame, t) if self._blobs is not None else None
        vehicles = [] if self.vehicles is None else self.vehicles.update(
            frame, t, self.people, dets if self._asks_vehicles else None, blobs)
        # Feet below the bottom edge (someone close, filling the picture) stand at that edge, as in zones.
        points = [TrackPoint(p.track, "person", ((p.box[0] + p.box[2]) / 2, min(max(p.box[3], 0.0), 1.0)))
                  for p in people]
        # A blob's bottom edge creeps while a car enters the picture or its shadow changes: the centre is steadier.
        points += [TrackPoint(i, "vehicle", ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)) for i, b in vehicles]
        self.crossings = self.counter.update(t, points)
        if self.moving_people is not None and self.blob_crossings is not None:
            moving = self.moving_people.update(t, blobs[0], self._detected, (frame.shape[1], frame.shape[0]))
            feet = [(i, ((b[0] + b[2]) / 2, min(max(b[3], 0.0), 1.0))) for i, b in moving]
            self.crossings += self.blob_crossings.update(t, feet, self.moving_people.named, self.crossings)
        boxes = [b for _, b in vehicles]
        # A parked vehicle is background to the moving blobs but a stationary vehicle, named once per
        # zone whose size range fits it: one vehicle per box.
        for o in objects:
            if o.kind == "vehicle" and not (boxes and box_iou(np.array([o.box]), np.array(boxes)).max() >= 0.3):
                boxes.append(o.box)
        self.present = count_present(self._count_zones, [p.box for p in people], boxes)

    def _rois(self, boxes: np.ndarray, t: float, w: int, h: int) -> np.ndarray:
        boxes = boxes[(boxes[:, 3] - boxes[:, 1]) >= 0.04 * h] if len(boxes) else boxes
        # One person often moves in pieces (torso and feet, with still trousers between): join stacked pieces.
        rois = _merge_boxes(list(boxes), gap=0.03 * w, gap_y=0.1 * h)
        self._skipped = frozenset()
        if self.skip_steady and rois:
            rois = self._skip_explained(rois, t)
        # People who stopped moving leave the motion gate: re-check them about once a second.
        for tr in self.tracker.confirmed():
            if t - tr.last_checked < self.verify_every_s:
                continue
            if rois and box_cover(tr.box[None], np.array(rois)).max() > 0.7:
                continue
            tr.last_checked = t
            rois.append(tr.box.copy())
        if self.skip_steady:
            # Someone found once beside a walker whose roi was skipped may stand still at once: no motion
            # roi would give them the second look that confirms them (they would become a still "object").
            for tr in self.tracker.fresh():
                if not (rois and box_cover(tr.box[None], np.array(rois)).max() > 0.7):
                    rois.append(tr.box.copy())
        if len(rois) > self.max_rois:
            rois = _merge_boxes(rois, gap=0.15 * w)
        return np.array(rois, np.float32).reshape(-1, 4)

    def _skip_explained(self, rois: list, t: float) -> list:
        """The rois still to search: drop each that lies within the predicted box of one steady track
        (Tracker.skippable) and holds no other track; remember whose tracks were not searched.

        A steady track is searched again after at most max_skips frames (1 by default: each person is
        detected at least every other frame), and at once when its picture loses them; a new or
        unconfirmed person, and motion no track explains, are searched every frame.
        """
        steady = self.tracker.skippable()
        if not steady:
            return rois
        steady_ids = {tr.id for tr in steady}
        pred = np.array([self.tracker.predict(tr, t) for tr in steady], np.float32)
        last = np.array([tr.box for tr in steady], np.float32)
        # A frame difference lights up where the person was and where they are now: both boxes, joined.
        span = np.concatenate([np.minimum(pred[:, :2], last[:, :2]), np.maximum(pred[:, 2:], last[:, 2:])], axis=1)
        bw, bh = pred[:, 2] - pred[:, 0], pred[:, 3] - pred[:, 1]
        # Motion pieces at 160x90 are dilated by 2 (8 px here) and stick out of the detector's box
        # (arms, a swinging bag): some slack.
        sx, sy = self.skip_slack[0] * bw + self.skip_pad, self.skip_slack[1] * bh + self.skip_pad
        grown = np.stack([span[:, 0] - sx, span[:, 1] - sy, span[:, 2] + sx, span[:, 3] + sy], axis=1)
        others = np.array([self.tracker.predict(tr, t) for tr in self.tracker.tracks if tr.id not in steady_ids],
                          np.float32).reshape(-1, 4)
        arr = np.array(rois, np.float32).reshape(-1, 4)
        # Any other track with part of itself in the roi (someone new beside the walker) needs a look.
        crowded = (box_cover(others, arr) > 0.2).any(axis=0) if len(others) else np.zeros(len(arr), bool)
        inside = box_cover(grown, arr) > 0.2  # (steady track, roi): the track is (partly) in the roi
        keep, skipped = [], set()
        for i, roi in enumerate(rois):
            holders = np.nonzero(inside[:, i])[0]
            if crowded[i] or not len(holders):
                keep.append(roi)
                continue
            # Walkers side by side make one roi: the steady tracks in it, together, must hold all of it.
            span = np.concatenate([grown[holders, :2].min(axis=0), grown[holders, 2:].max(axis=0)])
            if box_cover(arr[i:i + 1], span[None])[0, 0] >= self.skip_cover:
                skipped.update(steady[int(k)].id for k in holders)
                continue
            rest = _beside(arr[i], span, self.detector_pad)
            if rest is None:
                keep.append(roi)
                continue
            # A walker and a car behind them (or someone the detector never found) move as one blob:
            # search only what lies beside the walkers, at the blob's height (the size it looks for).
            skipped.update(steady[int(k)].id for k in holders)
            keep.extend(rest)
        self._skipped = frozenset(skipped)
        return keep

    def _classify(self, still: list[Stationary], t: float, scale: np.ndarray,
                  frame: np.ndarray) -> list[StillObject]:
        persons = [tr.box / scale for tr in self.tracker.confirmed() if t - tr.last_seen <= 3.0]
        # No still blobs, no detector call: the per-frame cost stays that of the background model.
        vehicle_conf = self._vehicle_confidences(still, t, scale, frame) if self._asks_vehicles and still else None
        out: list[StillObject] = []
        attended = []
        for i, s in enumerate(still):
            box = np.array(s.box, np.float32)
            # A person standing still is not an abandoned object: a blob mostly within someone's box, and
            # not much larger than them, is them or with them. A car a false person box lies on is larger.
            if persons and _with_person(box, np.array(persons)):
                attended.append((box, t))
                continue
            # A person the detector stops seeing (a back turned for long) leaves a blob with an old
            # clock: its time starts when the person was last seen with it, not when it stood still.
            since = max([s.since] + [t0 for b, t0 in self._attended if box_iou(box[None], b[None])[0, 0] >= 0.3])
            if since > s.since:
                attended.append((box, since))
                s = Stationary(s.box, since, s.area, s.fill)
            xyxy = tuple(float(v) for v in box)
            if vehicle_conf is not None and vehicle_conf[i] > 0:
                out.append(StillObject("vehicle", xyxy, s.since, vehicle_conf[i]))
                continue
            # By size on the ground when calibrated, else by each zone's size ranges; a detector that
            # names vehicles and saw none here leaves only the object verdict.
            for kind, zone in self.kinds.by_size(xyxy, s.area):
                if kind == "object" or vehicle_conf is None:
                    out.append(StillObject(kind, xyxy, s.since, 0.7 if kind == "vehicle" else 0.6, zone))
        self._attended = attended
        return out

    def _vehicle_confidences(self, still: list[Stationary], t: float, scale: np.ndarray,
                             frame: np.ndarray) -> list[float]:
        """Per still blob, the detector's vehicle confidence (0: no vehicle there), asked about once a second."""
        boxes = np.array([s.box for s in still], np.float32).reshape(-1, 4)
        prev = self._vehicle_checks
        checks: list[_VehicleCheck | None] = [None] * len(boxes)
        if prev:
            # A blob's box wobbles a little between background updates: the same blob is a good IoU match.
            iou = box_iou(boxes, np.array([c.box for c in prev], np.float32))
            for i in range(len(boxes)):
                j = int(iou[i].argmax())
                if iou[i, j] >= 0.5 and t - prev[j].checked < self.verify_every_s:
                    checks[i] = prev[j]
        due = [i for i, c in enumerate(checks) if c is None]
        if due:
            # Grown rois give the model the whole vehicle around a blob that may miss its edges.
            rois = np.clip(_grow(boxes[due], 0.2), 0.0, 1.0) * scale
            found = self.detector.detect(frame, rois).of(VEHICLE)
            for i in due:
                checks[i] = _VehicleCheck(boxes[i], t, _vehicle_match(boxes[i] * scale, found))
        self._vehicle_checks = [c for c in checks if c is not None]
        return [c.confidence for c in checks]


@dataclass(frozen=True)
class _VehicleCheck:
    """The detector's last verdict on one still blob: its box (0-1), when asked, vehicle confidence."""

    box: np.ndarray
    checked: float
    confidence: float


def _vehicle_match(blob: np.ndarray, vehicles: Detections) -> float:
    """Best confidence of a vehicle box the blob lies mostly inside and that is not much larger, else 0."""
    if not len(vehicles):
        return 0.0
    blob_in_det = box_cover(blob[None], vehicles.xyxy)[0]
    det_in_blob = box_cover(vehicles.xyxy, blob[None])[:, 0]
    good = (blob_in_det >= 0.6) & (det_in_blob >= 0.4)
    return float(vehicles.confidence[good].max()) if good.any() else 0.0


def _beside(roi: np.ndarray, span: np.ndarray, pad: float) -> list | None:
    """The parts of roi left and right of span (pixel xyxy), when span covers roi's height and the
    detector's crops of those parts (each padded sideways by pad x roi height) are clearly smaller
    than its crop of the whole roi; else None."""
    rh = float(roi[3] - roi[1])
    if span[1] > roi[1] + 0.1 * rh or span[3] < roi[3] - 0.1 * rh:
        return None
    parts = [np.array([roi[0], roi[1], span[0], roi[3]], np.float32)] if span[0] > roi[0] else []
    if span[2] < roi[2]:
        parts.append(np.array([span[2], roi[1], roi[2], roi[3]], np.float32))
    whole = float(roi[2] - roi[0]) + 2 * pad * rh
    if sum(float(p[2] - p[0]) + 2 * pad * rh for p in parts) > 0.8 * whole:
        return None
    return parts


def _with_person(blob: np.ndarray, persons: np.ndarray) -> bool:
    """Whether a still blob (0-1 xyxy) lies mostly within a person's box grown by 30 % and is at most 1.5x its size."""
    inside = box_cover(blob[None], _grow(persons, 0.3))[0] > 0.5
    area = (blob[2] - blob[0]) * (blob[3] - blob[1])
    person_area = (persons[:, 2] - persons[:, 0]) * (persons[:, 3] - persons[:, 1])
    return bool((inside & (area <= 1.5 * person_area)).any())


def _grow(boxes: np.ndarray, f: float) -> np.ndarray:
    bw = boxes[:, 2] - boxes[:, 0]
    bh = boxes[:, 3] - boxes[:, 1]
    return np.stack([boxes[:, 0] - f * bw, boxes[:, 1] - f * bh, boxes[:, 2] + f * bw, boxes[:, 3] + f * bh], axis=1)


def _merge_boxes(boxes: list, gap: float, gap_y: float | None = None) -> list:
    """Union boxes that lie within gap pixels of each other (gap_y vertically, default gap), until none do."""
    gy = gap if gap_y is None else gap_y
    merged = [np.asarray(b, np.float32).copy() for b in boxes]
    changed = True
    while changed and len(merged) > 1:
        changed = False
        for i in range(len(merged)):
            for j in range(i + 1, len(merged)):
                a, b = merged[i], merged[j]
                if a[0] - gap <= b[2] and b[0] - gap <= a[2] and a[1] - gy <= b[3] and b[1] - gy <= a[3]:
                    merged[i] = np.array([min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])],
                                         np.float32)
                    del merged[j]
                    changed = True
                    break
            if changed:
                break
    return merged


def _health_hits(problems: frozenset[str]) -> list[Hit]:
    return [Hit(p, None, None, 1.0, None) for p in sorted(problems)]


def analyze_frames(frames: Iterable[tuple[np.ndarray | None, float]], config: CameraConfig,
                   pipeline: CameraPipeline | None = None) -> Iterator[dict]:
    """Run the pipeline over (frame, seconds) pairs; yield one JSON-ready dict per ended situation and
    per line crossing (rule `line_crossing`, as it happens)."""
    pipe = pipeline or CameraPipeline(config)
    for frame, t in frames:
        for ev in pipe.feed(frame, t):
            if ev.phase == "end":
                yield ev.as_line()
        for crossing in pipe.crossings:
            yield crossing.as_line()
    for ev in pipe.finish():
        yield ev.as_line()


def clip_frames(path: str | Path, rate: float) -> Iterator[tuple[np.ndarray, float]]:
    """Frames of a video file sampled to `rate` per second, with their time from the clip's start."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise FileNotFoundError(f"cannot open video {path}")
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    next_t, idx = 0.0, 0
    try:
        while True:
            t = idx / fps
            idx += 1
            if t + 1e-6 < next_t:
                # grab() skips decoding to pixels; about a third cheaper than read().
                if not cap.grab():
                    return
                continue
            ok, frame = cap.read()
            if not ok:
                return
            next_t += 1.0 / rate
            yield frame, t
    finally:
        cap.release()


def analyze(clip_path: str | Path, config: CameraConfig, rate: float | None = None,
            detector: Detector | None = None, analysis_width: int = 640) -> Iterator[dict]:
    """Analyse a clip as fast as possible; yield one situation dict per situation (issue 4, section 8)."""
    pipe = CameraPipeline(config, detector=detector, analysis_width=analysis_width)
    yield from analyze_frames(clip_frames(clip_path, rate or config.fps), config, pipe)
