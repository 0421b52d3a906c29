"""Duplicate merging: a new report of the same matter, near in space and time to an open case.

Pure: the caller fetches candidate open incidents (e.g. with ST_DWithin) and asks `merge_target()`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from grid.lifecycle import Status

DEFAULT_RADIUS_M = 50.0
DEFAULT_WINDOW_MIN = 30.0
# A reporter who says "not the same as these" names the cases the tablet showed, a handful at most;
# the bus refuses longer lists (attributes.not_duplicate_of, docs/bus.md).
MAX_NOT_DUPLICATE_OF = 20
_EARTH_RADIUS_M = 6_371_008.8

# A resolved case waits for verification; a fresh report there means it is not fixed, which is a
# new fact for the verifier, not a duplicate to fold away.
MERGEABLE_STATUSES = frozenset({Status.REPORTED, Status.DISPATCHED, Status.ACCEPTED,
                                Status.IN_PROGRESS, Status.RETURNED})


@dataclass(frozen=True)
class MergeRule:
    """Per-matter merge radius (metres) and window (minutes)."""

    radius_m: float = DEFAULT_RADIUS_M
    window_min: float = DEFAULT_WINDOW_MIN


@dataclass(frozen=True)
class Report:
    """The new report as merging sees it."""

    matter_code: str
    lon: float
    lat: float
    observed_at: datetime
    # Cases the reporter said this is not (incident ids as lower-case UUID text): never merged into.
    not_duplicate_of: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Candidate:
    """An existing incident; `last_observed_at` is its latest report's observation time."""

    incident_id: str
    matter_code: str
    status: Status | str
    lon: float
    lat: float
    last_observed_at: datetime


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine; exact enough at 50 m scales)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def merges_into(report: Report, candidate: Candidate, rule: MergeRule) -> bool:
    """True when `report` is a duplicate of `candidate` under `rule`."""
    if candidate.matter_code != report.matter_code:
        return False
    if report.not_duplicate_of and candidate.incident_id.lower() in report.not_duplicate_of:
        return False
    if Status(candidate.status) not in MERGEABLE_STATUSES:
        return False
    gap = abs(report.observed_at - candidate.last_observed_at)
    if gap > timedelta(minutes=rule.window_min):
        return False
    return distance_m(report.lon, report.lat, candidate.lon, candidate.lat) <= rule.radius_m


def merge_target(report: Report, candidates: Iterable[Candidate],
                 rule: MergeRule | None = None) -> Candidate | None:
    """The open incident a report merges into: the nearest match, then the latest; else None."""
    rule = rule or MergeRule()
    best: tuple[float, float, Candidate] | None = None
    for cand in candidates:
        if not merges_into(report, cand, rule):
            continue
        key = (distance_m(report.lon, report.lat, cand.lon, cand.lat),
               -cand.last_observed_at.timestamp())
        if best is None or key < best[:2]:
            best = (*key, cand)
    return best[2] if best else None


def duplicates(report: Report, candidates: Iterable[Candidate], rule: MergeRule | None = None) -> list[Candidate]:
    """Every open incident the report would merge into, nearest first (what a reporter is shown)."""
    rule = rule or MergeRule()
    hits = [c for c in candidates if merges_into(report, c, rule)]
    hits.sort(key=lambda c: (distance_m(report.lon, report.lat, c.lon, c.lat), -c.last_observed_at.timestamp()))
    return hits


def not_duplicate_ids(value: object) -> frozenset[str]:
    """The case ids of a report's `attributes.not_duplicate_of` (already validated on the bus), normalised."""
    if not isinstance(value, (list, tuple)):
        return frozenset()
    return frozenset(str(v).lower() for v in value if isinstance(v, str))


class CandidateIndex:
    """Open incidents bucketed by matter and a coarse lat/lon cell, so a batch of reports finds its
    merge candidates without comparing every report with every incident."""

    def __init__(self, max_radius_m: float = DEFAULT_RADIUS_M):
        # A cell at least as wide as the largest radius: a match is always in the 3x3 neighbourhood.
        self.cell = max(max_radius_m, 1.0) / 111_000.0 / 0.5
        self._buckets: dict[tuple[str, int, int], list[Candidate]] = {}

    def _key(self, matter: str, lon: float, lat: float) -> tuple[str, int, int]:
        return matter, math.floor(lon / self.cell), math.floor(lat / self.cell)

    def add(self, candidate: Candidate) -> None:
        """Make a candidate findable."""
        self._buckets.setdefault(self._key(candidate.matter_code, candidate.lon, candidate.lat), []).append(candidate)

    def near(self, matter: str, lon: float, lat: float) -> list[Candidate]:
        """Candidates of this matter in the cells around a point (a superset of those in range)."""
        m, ix, iy = self._key(matter, lon, lat)
        out: list[Candidate] = []
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                out.extend(self._buckets.get((m, ix + dx, iy + dy), ()))
        return out
