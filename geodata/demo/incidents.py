"""Where, when, what and from whom: the demo's past incidents before their histories are written."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geodata.demo import plant, rhythm
from geodata.demo.cameras import Cameras
from geodata.demo.layout import Layout, random_points_in
from geodata.demo.matters import FAMILIES, MATTERS
from geodata.demo.people import GridWorkers
from grid.camera_matters import RULE_MATTERS

WEEK_S = 7 * 86400.0
#: Share of camera-kind matters that people report instead of a camera.
CAMERA_SHARE = 0.85
_PEOPLE_SOURCES = ("grid_worker", "appeal", "open311")
_PEOPLE_P = (0.5, 0.35, 0.15)
_KIND_OF = {m: k for k, m in RULE_MATTERS.items()}


@dataclass
class Drafts:
    """Incidents as parallel arrays, sorted by observation time."""

    matter: np.ndarray      # index into MATTERS
    source: np.ndarray      # str
    t: np.ndarray           # observed, epoch seconds
    x: np.ndarray
    y: np.ndarray
    base: np.ndarray        # base grid index
    camera: np.ndarray      # camera index or -1
    reporter: np.ndarray    # str

    def __len__(self) -> int:
        return len(self.t)


def _cameras_with(cams: Cameras, kind: str) -> np.ndarray:
    if kind in ("offline", "frozen", "covered", "blurred", "moved"):
        return np.arange(len(cams.codes))
    return np.array([i for i, c in enumerate(cams.configs)
                     if any(r["kind"] == kind for z in c["zones"] for r in z["rules"])])


class _Builder:
    def __init__(self, layout: Layout, cams: Cameras, workers: GridWorkers, rng: np.random.Generator):
        self.layout, self.cams, self.workers, self.rng = layout, cams, workers, rng
        self.parts: list[dict] = []
        self.weight = layout.density * layout.base_area

    def people(self, m: int, n: int, t: np.ndarray, bases: np.ndarray | None = None, comm: int | None = None):
        """n cases of matter m reported by people, in given base grids or spread by density."""
        rng, lay = self.rng, self.layout
        if bases is None:
            w = self.weight if comm is None else np.where(lay.base_comm == comm, self.weight, 0.0)
            bases = rng.choice(len(w), size=n, p=w / w.sum())
        x, y = random_points_in(lay.base_geoms, bases, rng)
        fam = MATTERS[m].family
        if fam == "maintenance":
            source = rng.choice(["grid_worker", "open311"], size=n, p=[0.7, 0.3])
        else:
            source = rng.choice(_PEOPLE_SOURCES, size=n, p=_PEOPLE_P)
        prim = self.workers.primary_of_sub[lay.base_sub[bases]]
        reporter = np.where(source == "grid_worker", np.array(self.workers.codes)[prim], source)
        self._add(m, source, t, x, y, bases, np.full(n, -1), reporter)

    def camera(self, m: int, n: int, t: np.ndarray):
        """n cases of matter m raised by cameras that carry the rule (faults: any camera)."""
        rng, cams = self.rng, self.cams
        kind = _KIND_OF[MATTERS[m].code]
        which = rng.choice(_cameras_with(cams, kind), size=n)
        x, y = cams.x[which].copy(), cams.y[which].copy()
        if MATTERS[m].family != "maintenance":
            # What a camera sees lies some metres in front of the pole.
            dist = rng.uniform(5, 30, size=n)
            ang = np.radians(cams.heading[which] + rng.uniform(-30, 30, size=n))
            x, y = x + dist * np.sin(ang), y + dist * np.cos(ang)
        bases = self.layout.locate(x, y)
        off = bases < 0
        x[off], y[off], bases[off] = cams.x[which][off], cams.y[which][off], cams.base[which][off]
        source = np.full(n, "camera", dtype=object)
        reporter = np.array(cams.codes, dtype=object)[which]
        self._add(m, source, t, x, y, bases, which, reporter)

    def _add(self, m, source, t, x, y, bases, cams, reporter):
        self.parts.append(dict(matter=np.full(len(t), m), source=np.asarray(source, dtype=object), t=t, x=x, y=y,
                               base=np.asarray(bases), camera=np.asarray(cams), reporter=np.asarray(reporter, dtype=object)))

    def drafts(self) -> Drafts:
        cols = {k: np.concatenate([p[k] for p in self.parts]) for k in self.parts[0]}
        order = np.argsort(cols["t"], kind="stable")
        return Drafts(**{k: v[order] for k, v in cols.items()})


def _people_matters(family: str) -> tuple[np.ndarray, np.ndarray]:
    idx = np.array([i for i, m in enumerate(MATTERS) if m.family == family and not m.camera])
    w = np.array([MATTERS[i].weight for i in idx])
    return idx, w / w.sum()


def make_drafts(layout: Layout, cams: Cameras, workers: GridWorkers, hot: list[plant.HotArea], trend: plant.Trend,
                total: int, start: float, end: float, rng: np.random.Generator) -> Drafts:
    """Background cases by the matters' weights, then the planted hot areas and rising trend."""
    weights = np.array([m.weight for m in MATTERS])
    share = {f: weights[[m.family == f for m in MATTERS]].sum() / weights.sum() for f in FAMILIES}
    b = _Builder(layout, cams, workers, rng)
    plant.size_hot_extras(layout, hot, {f: total * share[f] for f in FAMILIES},
                          {f: b.weight for f in FAMILIES})
    planted = sum(sum(h.extra.values()) for h in hot) + sum(trend.extra)
    counts = rng.multinomial(max(0, total - planted), weights / weights.sum())
    for m, n in enumerate(counts):
        matter = MATTERS[m]
        n_cam = int(rng.binomial(n, 1.0 if matter.family == "maintenance" else CAMERA_SHARE)) if matter.camera else 0
        t = rhythm.sample_times(rng, matter.family, int(n), start, end)
        if n_cam:
            b.camera(m, n_cam, t[:n_cam])
        if n - n_cam:
            b.people(m, int(n - n_cam), t[n_cam:])
    for h in hot:
        idx, p = _people_matters(h.family)
        bases = np.repeat(np.array(list(h.extra)), list(h.extra.values()))
        ms = rng.choice(idx, size=len(bases), p=p)
        for m in np.unique(ms):
            sel = bases[ms == m]
            b.people(int(m), len(sel), rhythm.sample_times(rng, h.family, len(sel), start, end), bases=sel)
    m_trend = next(i for i, m in enumerate(MATTERS) if m.code == trend.matter)
    weeks = len(trend.extra)
    for w, n in enumerate(trend.extra):
        w0 = end - (weeks - w) * WEEK_S
        t = rhythm.sample_times(rng, MATTERS[m_trend].family, n, w0, w0 + WEEK_S)
        b.people(m_trend, n, t, comm=trend.community)
    return b.drafts()
