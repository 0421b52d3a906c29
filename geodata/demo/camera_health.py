"""The demo cameras' health history: most online, short outages and quality problems, a few long outages,
two cameras dead for a long stretch.

It draws from its own generator (seeded from the demo seed), so changing it moves nothing else of the
demo. Each camera's history begins at its registration: the camera worker's first diagnosis comes a
few minutes later (unknown → online), as on a real installation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAY = 86400.0
#: Per camera and day: short quality problems (degraded) and short losses of the stream (offline).
DEGRADED_PER_DAY = 0.15
OFFLINE_PER_DAY = 0.08
#: Quality problems of the camera worker, weighted by how often a street camera has them.
PROBLEMS = ("frozen", "covered", "blurred", "moved")
PROBLEM_WEIGHTS = (0.3, 0.2, 0.35, 0.15)
LONG_OUTAGE_SHARE = 0.08   # cameras with one outage of hours to days (a cut fibre, a broken switch)
DEAD_CAMERAS = 2           # offline from some day of the window until now
LATE_CAMERAS = 3           # registered during the window, so unknown before


@dataclass(frozen=True)
class Change:
    """One logged change of one camera's health (a camera_health_log row)."""

    t: float
    health_from: str | None
    health_to: str
    reason: str | None


@dataclass
class HealthHistory:
    """Per camera: registration time and its changes in time order; which cameras the story is about."""

    registered: list[float]
    changes: list[list[Change]]
    dead: list[int]
    long_outages: list[int]
    late: list[int]

    def final(self, i: int) -> Change:
        """Camera i's last change: its health now."""
        return self.changes[i][-1]


def _episodes(rng: np.random.Generator, t0: float, now: float) -> list[tuple[float, float, str, str]]:
    """Short problems one after another from t0: (start, end, health, reason)."""
    rate = (DEGRADED_PER_DAY + OFFLINE_PER_DAY) / DAY
    out, t = [], t0
    while True:
        t += rng.exponential(1.0 / rate)
        if t >= now:
            return out
        if rng.random() < DEGRADED_PER_DAY / (DEGRADED_PER_DAY + OFFLINE_PER_DAY):
            health, reason = "degraded", str(rng.choice(PROBLEMS, p=PROBLEM_WEIGHTS))
            minutes = float(np.clip(rng.lognormal(np.log(40.0), 0.9), 5.0, 480.0))
        else:
            health, reason = "offline", "offline"
            minutes = float(np.clip(rng.lognormal(np.log(45.0), 0.8), 10.0, 360.0))
        out.append((t, t + minutes * 60.0, health, reason))
        t += minutes * 60.0


def make_history(n: int, start: float, now: float, seed: int) -> HealthHistory:
    """Health changes of ``n`` cameras over [start, now], deterministic per seed."""
    rng = np.random.default_rng([seed, 0x6865616C74])
    order = rng.permutation(n)
    dead = sorted(int(i) for i in order[:DEAD_CAMERAS])
    n_long = max(1, round(LONG_OUTAGE_SHARE * n))
    long_outages = sorted(int(i) for i in order[DEAD_CAMERAS:DEAD_CAMERAS + n_long])
    late = sorted(int(i) for i in order[DEAD_CAMERAS + n_long:DEAD_CAMERAS + n_long + LATE_CAMERAS])
    registered, changes = [], []
    for i in range(n):
        reg = start + (rng.uniform(5, 20) * DAY if i in late else 0.0)
        first = reg + rng.uniform(60.0, 1800.0)
        episodes = _episodes(rng, first, now)
        if i in long_outages or i in dead:
            # One long outage replaces the short episodes it overlaps.
            # Fractions of the window, so a shorter demo still tells the same story.
            span = now - first
            if i in dead:
                s, e = first + rng.uniform(0.1, 0.5) * span, now + 1.0
            else:
                s = first + rng.uniform(0.05, 0.85) * span
                e = s + rng.uniform(4 * 3600.0, 3 * DAY)
            episodes = [ep for ep in episodes if ep[1] <= s or ep[0] >= e] + [(s, e, "offline", "offline")]
            episodes.sort()
        state = "unknown"
        log = [Change(first, state, "online", None)]
        state = "online"
        for s, e, health, reason in episodes:
            log.append(Change(s, state, health, reason))
            state = health
            if e < now:
                log.append(Change(e, state, "online", None))
                state = "online"
        registered.append(reg)
        changes.append(log)
    return HealthHistory(registered, changes, dead, long_outages, late)
