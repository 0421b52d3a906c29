"""When things happen: hour-of-day and day-of-week rhythm per task family, counted in China Standard Time."""

from __future__ import annotations

import numpy as np

#: China Standard Time has no daylight saving: a fixed UTC+8 offset is exact for Asia/Shanghai.
CST_OFFSET_S = 8 * 3600

# Relative rate by CST hour 0..23.
HOUR_PROFILE = {
    "crime": [3, 2.5, 2, 1.5, 1, 1, 1.2, 1.5, 2, 2.5, 3, 3, 3, 3, 3, 3, 3.5, 4, 5, 5.5, 6, 6, 5, 4],
    "dispute": [0.5, 0.3, 0.2, 0.2, 0.2, 0.3, 0.6, 1.5, 3, 4, 4.5, 4.5, 4, 4, 4.5, 4.5, 4.5, 4, 4, 4.5, 4.5, 3.5, 2, 1],
    "hazard": [0.4, 0.3, 0.3, 0.3, 0.3, 0.5, 1, 2.5, 4, 5, 5, 5, 4, 4.5, 5, 5, 4.5, 4, 3, 2.5, 2, 1.5, 1, 0.6],
    "maintenance": [1.2, 1.2, 1.2, 1.2, 1.2, 1.2, 1.5, 2, 2.5, 3, 3, 3, 3, 3, 3, 3, 3, 2.5, 2, 2, 1.8, 1.5, 1.3, 1.2],
}
# Relative rate Monday..Sunday: disputes peak at weekends, hazards are found on working days.
WEEKDAY_FACTOR = {
    "crime": [1, 1, 1, 1, 1.1, 1.25, 1.15],
    "dispute": [0.9, 0.9, 0.9, 0.9, 1.0, 1.35, 1.35],
    "hazard": [1.1, 1.1, 1.1, 1.1, 1.1, 0.7, 0.6],
    "maintenance": [1, 1, 1, 1, 1, 1, 1],
}


def cst_hour_and_weekday(ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CST hour (0-23) and weekday (0 = Monday) of epoch seconds."""
    local = np.floor((np.asarray(ts, float) + CST_OFFSET_S)).astype(np.int64)
    # 1970-01-01 was a Thursday (weekday 3).
    return (local // 3600) % 24, (local // 86400 + 3) % 7


def sample_times(rng: np.random.Generator, family: str, n: int, start: float, end: float) -> np.ndarray:
    """`n` epoch-second times in [start, end) following the family's rhythm."""
    if n <= 0:
        return np.empty(0)
    edges = np.arange(start, end, 3600.0)
    widths = np.minimum(edges + 3600.0, end) - edges
    hour, dow = cst_hour_and_weekday(edges + widths / 2)
    w = np.asarray(HOUR_PROFILE[family])[hour] * np.asarray(WEEKDAY_FACTOR[family])[dow] * widths
    bins = rng.choice(len(edges), size=n, p=w / w.sum())
    return edges[bins] + rng.random(n) * widths[bins]
