"""A small tracker that keeps identity through detection gaps: stable ids and dwell times.

Association is greedy: IoU with the predicted box first, then centre distance relative to box height,
with a colour histogram as tie-breaker. Between detections a track moves with its velocity, and a
confirmed track whose picture still shows what it looked like (a tiny template) stays present: the
HOG detector misses people who stand still, turn their back or fill the frame for seconds at a time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from video.appearance import Backdrop, appearance, search, template_match
from video.detections import Detections, box_cover, box_iou

logger = logging.getLogger(__name__)



@dataclass
class Track:
    """One object followed over time; box in frame pixels (xyxy)."""

    id: int
    label: str
    box: np.ndarray
    confidence: float
    first_seen: float
    last_seen: float
    hits: int = 1
    last_checked: float = 0.0
    last_detected: float = 0.0
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2, np.float32))
    template: np.ndarray | None = None
    hist: np.ndarray | None = None
    det_box: np.ndarray | None = None
    last_motion: float = -np.inf
    # The last detection landed where the track was predicted, at the same size: a smooth mover.
    steady: bool = False
    # Frames in a row the detector was spared this track (Tracker.skippable), since its last detection.
    skips: int = 0

    def dwell(self, now: float) -> float:
        """Seconds since the track was first seen."""
        return now - self.first_seen

    @property
    def foot(self) -> tuple[float, float]:
        """Bottom-centre of the box, where the object touches the ground."""
        return float((self.box[0] + self.box[2]) / 2), float(self.box[3])

    @property
    def height(self) -> float:
        """Box height in pixels (at least one)."""
        return max(float(self.box[3] - self.box[1]), 1.0)


def _centre(boxes: np.ndarray) -> np.ndarray:
    return (boxes[..., :2] + boxes[..., 2:]) / 2


def _hist_similarities(a: list, b: list) -> np.ndarray:
    """(len(a), len(b)) hist_similarity of every pair, in one array operation (a busy frame has dozens)."""
    out = np.full((len(a), len(b)), 0.5)
    ia = [i for i, h in enumerate(a) if h is not None]
    ib = [j for j, h in enumerate(b) if h is not None]
    if ia and ib:
        ha, hb = np.array([a[i] for i in ia]), np.array([b[j] for j in ib])
        out[np.ix_(ia, ib)] = np.sqrt(ha[:, None, :] * hb[None, :, :]).sum(axis=2)
    return out


def _foot(box: np.ndarray) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, box[3]], np.float32)


class Tracker:
    """Greedy association with motion prediction, appearance tie-break and template coasting."""

    def __init__(self, iou_match: float = 0.2, centroid_match: float = 0.6, max_missing_s: float = 3.0,
                 min_hits: int = 2, coast_s: float = 15.0, coast_ncc: float = 0.6, coast_mad: float = 40.0,
                 motion_s: float = 4.0, gap_allowance: float = 0.35, min_foreground: float = 0.1,
                 min_det_foreground: float = 0.08, nested: float = 0.75, part_height: float = 0.75,
                 duplicate_iou: float = 0.5, steady_iou: float = 0.5, skip_speed: float = 0.15,
                 max_skips: int = 1) -> None:
        self.iou_match = iou_match
        self.centroid_match = centroid_match
        self.max_missing_s = max_missing_s
        self.min_hits = min_hits
        self.coast_s = coast_s
        self.coast_ncc = coast_ncc
        self.coast_mad = coast_mad
        self.motion_s = motion_s
        self.gap_allowance = gap_allowance
        self.min_foreground = min_foreground
        self.min_det_foreground = min_det_foreground
        # A box this much inside another and this much shorter is a part of the same person (as in
        # video.detectors.boxes.suppress); boxes overlapping this much are the same person twice.
        self.nested = nested
        self.part_height = part_height
        self.duplicate_iou = duplicate_iou
        self.steady_iou = steady_iou
        self.skip_speed = skip_speed  # box heights a second: a walker, not someone standing about
        # Frames in a row a steady walker may go unsearched; it follows its picture meanwhile.
        self.max_skips = max_skips
        self.backdrop = Backdrop()
        self.tracks: list[Track] = []
        self._next_id = 1
        self._t: float | None = None

    def reset(self) -> None:
        """Drop every track (scene change)."""
        self.tracks = []
        self._t = None
        self.backdrop.reset()

    def skippable(self) -> list[Track]:
        """Tracks the detector may leave alone in the next frame: confirmed, with a picture to follow,
        last detected where they were predicted to be, and either detected in the last frame or skipped
        and found by their picture in it, fewer than max_skips frames running (with 1, never two skipped
        frames running)."""
        if self._t is None:
            return []
        # Only walkers: people standing or shifting about (a gathering, someone by a bag) are where the
        # detector's misses and the still-object rules need every look they can get.
        return [tr for tr in self.tracks if tr.hits >= self.min_hits and tr.steady and tr.template is not None
                and tr.skips < self.max_skips and tr.last_seen == self._t
                and (tr.last_detected == self._t or tr.skips > 0)
                and float(np.hypot(*tr.velocity)) >= self.skip_speed * tr.height]

    def fresh(self) -> list[Track]:
        """Tracks seen once, in the last frame: a second detection would confirm them."""
        if self._t is None:
            return []
        return [tr for tr in self.tracks if tr.hits < self.min_hits and tr.last_detected == self._t]

    def predict(self, tr: Track, t: float) -> np.ndarray:
        """Where the track's box will be at time t (before any detection), as update() moves it."""
        dt = 0.0 if self._t is None else max(0.0, t - self._t)
        return tr.box + np.tile(tr.velocity * dt, 2)

    def update(self, dets: Detections, t: float, frame: np.ndarray | None = None,
               motion: np.ndarray | None = None, skipped: frozenset[int] = frozenset()) -> list[Track]:
        """Associate this frame's detections with the tracks; return the live tracks.

        With the frame, unmatched confirmed tracks that still look like themselves stay present; motion
        boxes (pixel xyxy) inside a track say it is alive, which lets it coast past coast_s. Tracks whose
        ids are in skipped were not searched this frame (the detector was spared them): they follow
        their picture or motion without counting as a miss.
        """
        dt = 0.0 if self._t is None else max(0.0, t - self._t)
        self._t = t
        self.tracks = [tr for tr in self.tracks if t - tr.last_seen <= self.max_missing_s]
        for tr in self.tracks:
            tr.box = tr.box + np.tile(tr.velocity * dt, 2)
        if frame is not None and len(dets):
            # A box on what is plainly the empty scene is a false detection on a static pattern
            # (HOG fires now and then on a wall corner); re-checked every second it would never die.
            fg = np.array([self.backdrop.foreground(frame, b) for b in dets.xyxy])
            dets = dets.filter(fg >= self.min_det_foreground)
        unmatched = set(range(len(dets)))
        matched: set[int] = set()
        det_app = [appearance(frame, b) if frame is not None else (None, None) for b in dets.xyxy]
        if self.tracks and len(dets):
            for ti, di in self._pairs(dets, t, det_app, None if frame is None else frame.shape[:2]):
                if ti in matched or di not in unmatched:
                    continue
                matched.add(ti)
                unmatched.discard(di)
                self._hit(self.tracks[ti], dets, di, t, det_app[di])
        moving = np.asarray(motion if motion is not None else [], np.float32).reshape(-1, 4)
        if len(moving) and self.tracks:
            inside = box_cover(moving, np.array([tr.box for tr in self.tracks], np.float32))
            for ti in np.nonzero((inside > 0.8).any(axis=0))[0]:
                self.tracks[ti].last_motion = t
        if frame is not None:
            keep_out = np.concatenate([np.array([tr.box for tr in self.tracks], np.float32).reshape(-1, 4), moving])
            self.backdrop.update(frame, t, keep_out)
            for ti, tr in enumerate(self.tracks):
                if ti not in matched:
                    self._coast(tr, frame, t, moving, tr.id in skipped)
        for ti, tr in enumerate(self.tracks):
            # A skip run ends at a detection (_hit sets 0) or at a frame the track was searched and missed.
            if ti not in matched:
                tr.skips = tr.skips + 1 if tr.id in skipped else 0
        unmatched = self._absorb(dets, unmatched, matched, t, det_app)
        for di in sorted(unmatched):
            tmpl, hist = det_app[di]
            self.tracks.append(Track(self._next_id, str(dets.label[di]), dets.xyxy[di].copy(),
                                     float(dets.confidence[di]), t, t, 1, t, t, template=tmpl, hist=hist,
                                     det_box=dets.xyxy[di].copy()))
            self._next_id += 1
        self._merge_nested()
        return list(self.tracks)

    def _absorb(self, dets: Detections, unmatched: set[int], matched: set[int], t: float,
                det_app: list[tuple]) -> set[int]:
        """Unmatched boxes that belong to a live track's person; return those that are someone new.

        HOG now and then boxes only the torso or head of a person it boxed whole a moment ago (and the
        other way round). Such a box inside a track is a sighting of that person, never a new track; a
        whole-person box around a part-box track grows that track; a box on top of a track that
        already has its box this frame is the same person twice.
        """
        if not unmatched or not self.tracks:
            return unmatched
        boxes = np.array([tr.box for tr in self.tracks], np.float32)
        heights = boxes[:, 3] - boxes[:, 1]
        rest = set()
        for di in sorted(unmatched):
            d = dets.xyxy[di]
            dh = max(float(d[3] - d[1]), 1.0)
            inside = box_cover(d[None], boxes)[0]
            around = box_cover(boxes, d[None])[:, 0]
            iou = box_iou(d[None], boxes)[0]
            part = np.nonzero((inside >= self.nested) & (dh < self.part_height * heights))[0]
            whole = [ti for ti in np.nonzero((around >= self.nested) & (heights < self.part_height * dh))[0]
                     if ti not in matched and self.tracks[ti].label == dets.label[di]]
            if len(part):
                tr = self.tracks[int(part[np.argmax(heights[part])])]
                tr.last_seen = t  # seen, in part: the whole box stays the better estimate
            elif whole:
                ti = max(whole, key=lambda i: heights[i])
                matched.add(ti)
                self._hit(self.tracks[ti], dets, di, t, det_app[di])
            elif not (iou >= self.duplicate_iou).any():
                rest.add(di)
        return rest

    def _merge_nested(self) -> None:
        """One person followed twice (a part box and a whole box) becomes one track, the older id kept."""
        keep = list(self.tracks)
        changed = True
        while changed and len(keep) > 1:
            changed = False
            boxes = np.array([tr.box for tr in keep], np.float32)
            heights = boxes[:, 3] - boxes[:, 1]
            cover = box_cover(boxes, boxes)
            iou = box_iou(boxes, boxes)
            for i in range(len(keep)):
                for j in range(len(keep)):
                    if i == j or keep[i].label != keep[j].label:
                        continue
                    nested = cover[i, j] >= self.nested and heights[i] < self.part_height * heights[j]
                    if nested or (iou[i, j] >= self.duplicate_iou and i > j):
                        inner, outer = keep[i], keep[j]
                        if inner.first_seen < outer.first_seen:
                            outer.id, outer.first_seen = inner.id, inner.first_seen
                        outer.hits = max(outer.hits, inner.hits)
                        outer.last_seen = max(outer.last_seen, inner.last_seen)
                        keep.pop(i)
                        changed = True
                        break
                if changed:
                    break
        self.tracks = keep

    def confirmed(self) -> list[Track]:
        """Tracks seen often enough to trust (a single HOG hit is often a false box)."""
        return [tr for tr in self.tracks if tr.hits >= self.min_hits]

    def _hit(self, tr: Track, dets: Detections, di: int, t: float, app: tuple) -> None:
        new = dets.xyxy[di].copy()
        old = tr.box if tr.det_box is None else tr.det_box
        gap = t - tr.last_detected
        # A box that changed size (legs first, then the whole person; whole, then a torso) shows
        # something else of the person: its foot jumps without the person walking.
        resized = not 0.8 < (new[3] - new[1]) / max(1.0, old[3] - old[1]) < 1.25
        # tr.box is the prediction here (update() moved it): a detection on it marks a smooth mover.
        tr.steady = not resized and float(box_iou(tr.box[None], new[None])[0, 0]) >= self.steady_iou
        if resized:
            tr.velocity = np.zeros(2, np.float32)
        elif gap > 1e-6:
            # Velocity of the foot point between detections, smoothed; prediction bridges missed frames.
            # The foot, not the centre: a person stepping in from the bottom edge grows upwards.
            v = (_foot(new) - _foot(old)) / gap
            v = np.clip(v, -3.0 * tr.height, 3.0 * tr.height)
            tr.velocity = (0.5 * tr.velocity + 0.5 * v).astype(np.float32) if tr.hits > 1 else v.astype(np.float32)
        tr.box = new
        tr.det_box = new.copy()
        tr.confidence = float(dets.confidence[di])
        tr.last_seen = tr.last_checked = tr.last_detected = t
        tr.skips = 0
        tr.hits += 1
        tmpl, hist = app
        fresh = tr.template is None or resized  # start the picture afresh
        if tmpl is not None:
            tr.template = tmpl if fresh else 0.7 * tr.template + 0.3 * tmpl
        if hist is not None:
            tr.hist = hist if fresh or tr.hist is None else 0.7 * tr.hist + 0.3 * hist

    def _coast(self, tr: Track, frame: np.ndarray, t: float, moving: np.ndarray, skipped: bool = False) -> None:
        if not skipped:
            # A stopped detector is not a stopped person: a walker keeps moving, a stander stays put.
            # A track the detector was not asked about was not missed: it keeps its pace.
            tr.velocity = (tr.velocity * 0.8).astype(np.float32)
        if tr.hits < self.min_hits or tr.template is None:
            return
        # Beyond coast_s only a track that still stirs may coast: a false box on a still floor never does.
        if t - tr.last_detected > self.coast_s and t - tr.last_motion > self.motion_s:
            return
        if not self._follow_template(tr, frame, t):
            self._follow_motion(tr, frame, t, moving)

    def _follow_template(self, tr: Track, frame: np.ndarray, t: float) -> bool:
        found = search(frame, tr.box, tr.template)
        if found is None:
            return False
        box = found[0]
        tmpl, _ = appearance(frame, box)
        if tmpl is None:
            return False
        ncc, mad = template_match(tmpl, tr.template)
        # It must still look like itself and still differ from the empty scene (not a ghost of its place).
        if ncc < self.coast_ncc or mad > self.coast_mad or self.backdrop.foreground(frame, box) < self.min_foreground:
            return False
        tr.box = box
        tr.last_seen = t
        if ncc >= 0.8:
            # Follow a slow turn or shift of a person standing there, never a fading match.
            tr.template = 0.9 * tr.template + 0.1 * tmpl
        return True

    def _follow_motion(self, tr: Track, frame: np.ndarray, t: float, moving: np.ndarray) -> None:
        # A person-sized moving blob over the track is the person shifting about: follow it. This also
        # repairs a template taken from a badly placed detector box (half wall, half person).
        if not len(moving):
            return
        b, w, h = tr.box, tr.box[2] - tr.box[0], tr.height
        # The pieces of motion near the track (one person moves in fragments at 160x90), joined.
        near = (moving[:, 2] > b[0] - 0.5 * w) & (moving[:, 0] < b[2] + 0.5 * w) \
            & (moving[:, 3] > b[1] - 0.2 * h) & (moving[:, 1] < b[3] + 0.2 * h)
        if not near.any():
            return
        m = np.concatenate([moving[near, :2].min(axis=0), moving[near, 2:].max(axis=0)])
        if not 0.5 < (m[3] - m[1]) / h < 1.5 or (m[2] - m[0]) > 2.5 * w:
            return
        cx, half = (m[0] + m[2]) / 2, (tr.box[2] - tr.box[0]) / 2
        box = np.array([cx - half, m[3] - tr.height, cx + half, m[3]], np.float32)
        if self.backdrop.foreground(frame, box) < self.min_foreground:
            return
        tr.box = box
        tr.last_seen = t
        tmpl, _ = appearance(frame, box)
        if tmpl is not None:
            tr.template = tmpl

    def _pairs(self, dets: Detections, t: float, det_app: list[tuple], shape: tuple[int, int] | None = None
               ) -> list[tuple[int, int]]:
        boxes = np.array([tr.box for tr in self.tracks], np.float32)
        iou = box_iou(boxes, dets.xyxy)
        same = np.array([tr.label for tr in self.tracks], object)[:, None] == np.asarray(dets.label, object)[None, :]
        # A part of a tracked person (torso, head) is a sighting handled by _absorb, not the new box.
        height = np.array([tr.height for tr in self.tracks], np.float32)
        part = (box_cover(dets.xyxy, boxes).T >= self.nested) \
            & ((dets.xyxy[:, 3] - dets.xyxy[:, 1])[None, :] < self.part_height * height[:, None])
        iou = np.where(same & ~part, iou, 0.0)
        app = _hist_similarities([tr.hist for tr in self.tracks], [a[1] for a in det_app])
        cands = [(-float(iou[i, j]) - 0.2 * float(app[i, j]), i, j) for i, j in zip(*np.nonzero(iou >= self.iou_match))]
        # Fast movers at low frame rates do not overlap themselves: fall back to centre distance, with a
        # gate that widens the longer a track has gone undetected (its prediction grows less certain).
        dist = np.linalg.norm(_centre(boxes)[:, None, :] - _centre(dets.xyxy)[None, :, :], axis=2) / height[:, None]
        # Uncertainty grows from the last time the track's place was known (detected or followed).
        missing = np.array([t - tr.last_seen for tr in self.tracks], np.float32)
        gate = self.centroid_match + self.gap_allowance * np.minimum(missing, self.max_missing_s)
        sizes = (dets.xyxy[:, 3] - dets.xyxy[:, 1])[None, :] / height[:, None]
        similar_size = (sizes > 0.6) & (sizes < 1.67)
        if shape is not None:
            # A person cut by the picture's edge (stepping in from below) shows legs first, then all of
            # them: the box may grow or shrink a lot between two detections.
            h, w = shape
            edge = (boxes[:, 0] <= 2) | (boxes[:, 1] <= 2) | (boxes[:, 2] >= w - 2) | (boxes[:, 3] >= h - 2)
            similar_size |= edge[:, None] & (sizes > 0.4) & (sizes < 2.5)
        ok = (dist <= gate[:, None]) & same & (iou < self.iou_match) & similar_size & ~part
        for i, j in zip(*np.nonzero(ok)):
            cands.append((1.0 + float(dist[i, j]) - 0.3 * float(app[i, j]), i, j))
        cands.sort()
        return [(i, j) for _, i, j in cands]
