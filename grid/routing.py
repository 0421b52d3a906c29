"""Where a new or dispatched case goes: a worker, a community's queue, the district's, or verification.

Pure: the caller locates the point and loads the sub-grid's current workers; `route()` decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Source(StrEnum):
    """Who reported: the bus message's `source`."""

    CAMERA = "camera"
    GRID_WORKER = "grid_worker"
    APPEAL = "appeal"
    OPEN311 = "open311"
    ANALYSIS = "analysis"


class Queue(StrEnum):
    """Where a case waits for someone (incident.queue)."""

    WORKER = "worker"
    COMMUNITY = "community"
    DISTRICT = "district"
    VERIFICATION = "verification"


@dataclass(frozen=True)
class Location:
    """Where a point fell in the grid; all codes None and outside=True beyond the district."""

    base_grid_code: str | None = None
    sub_grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    outside: bool = False


@dataclass(frozen=True)
class GridWorker:
    """A grid worker as routing sees one."""

    code: str
    on_duty: bool = True
    active: bool = True

    @property
    def available(self) -> bool:
        """On duty and not retired."""
        return self.on_duty and self.active


@dataclass(frozen=True)
class Assignment:
    """A sub-grid's current primary and backup workers (either may be missing)."""

    primary: GridWorker | None = None
    backup: GridWorker | None = None


@dataclass(frozen=True)
class Decision:
    """The routing verdict: dispatch now or wait, to which queue and worker, and why."""

    dispatch: bool
    queue: Queue
    worker_code: str | None
    outside: bool
    reason: str


def responsible(location: Location, assignment: Assignment | None) -> Decision:
    """Who handles a case at `location` now: primary, else backup, else the community's queue."""
    if location.outside:
        # Not ours to handle, but never dropped: the district desk decides (forward or cancel).
        return Decision(False, Queue.DISTRICT, None, True, "outside the district")
    assignment = assignment or Assignment()
    if location.sub_grid_code is not None:
        if assignment.primary is not None and assignment.primary.available:
            return Decision(True, Queue.WORKER, assignment.primary.code, False, "primary worker")
        if assignment.backup is not None and assignment.backup.available:
            why = "primary off duty" if assignment.primary is not None else "no primary worker"
            return Decision(True, Queue.WORKER, assignment.backup.code, False, f"backup worker ({why})")
    if location.community_code is not None:
        return Decision(True, Queue.COMMUNITY, None, False, "no available worker: community queue")
    # Inside the district but in no community (a gap in the grid data): the district desk owns it.
    return Decision(True, Queue.DISTRICT, None, False, "in no community: district queue")


def route(location: Location, source: Source | str, assignment: Assignment | None, *,
          auto_dispatch: bool = False, family: str | None = None) -> Decision:
    """Route a new report: camera events wait for verification unless the rule says auto;
    maintenance cases (camera and facility faults) go straight to the maintenance desk."""
    src = Source(source)
    if family == "maintenance":
        # A dead or covered camera is a blind spot now: no one needs to verify a machine's own fault,
        # and grid workers do not repair cameras. The district desk's maintenance staff own it.
        return Decision(True, Queue.DISTRICT, None, location.outside, "maintenance case: maintenance desk")
    if location.outside:
        return responsible(location, assignment)
    if src is Source.CAMERA and not auto_dispatch:
        return Decision(False, Queue.VERIFICATION, None, False, "camera event: verification queue")
    return responsible(location, assignment)
