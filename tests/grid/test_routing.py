"""Routing: who gets a new or dispatched case."""

from __future__ import annotations

import pytest

from grid.routing import Assignment, Location, Queue, Source, GridWorker, responsible, route

IN_SUB = Location("440310001001001", "44031000100101", "440310001001", "440310001")
IN_COMMUNITY_ONLY = Location(None, None, "440310001001", "440310001")
IN_STREET_ONLY = Location(None, None, None, "440310001")
OUTSIDE = Location(outside=True)

ON, OFF = GridWorker("W1"), GridWorker("W1", on_duty=False)
BACKUP_ON, BACKUP_OFF = GridWorker("W2"), GridWorker("W2", on_duty=False)
RETIRED = GridWorker("W1", active=False)


@pytest.mark.parametrize(("assignment", "queue", "worker", "reason"), [
    (Assignment(ON, BACKUP_ON), Queue.WORKER, "W1", "primary worker"),
    (Assignment(ON, None), Queue.WORKER, "W1", "primary worker"),
    (Assignment(OFF, BACKUP_ON), Queue.WORKER, "W2", "backup worker (primary off duty)"),
    (Assignment(RETIRED, BACKUP_ON), Queue.WORKER, "W2", "backup worker (primary off duty)"),
    (Assignment(None, BACKUP_ON), Queue.WORKER, "W2", "backup worker (no primary worker)"),
    (Assignment(OFF, BACKUP_OFF), Queue.COMMUNITY, None, "no available worker: community queue"),
    (Assignment(None, None), Queue.COMMUNITY, None, "no available worker: community queue"),
    (None, Queue.COMMUNITY, None, "no available worker: community queue"),
])
@pytest.mark.parametrize("source", [Source.GRID_WORKER, Source.APPEAL, Source.OPEN311, Source.ANALYSIS])
def test_non_camera_sources_dispatch_at_once(source, assignment, queue, worker, reason):
    d = route(IN_SUB, source, assignment)
    assert (d.dispatch, d.queue, d.worker_code, d.outside, d.reason) == (True, queue, worker, False, reason)


def test_camera_waits_for_verification_unless_auto():
    d = route(IN_SUB, "camera", Assignment(ON, BACKUP_ON))
    assert (d.dispatch, d.queue, d.worker_code) == (False, Queue.VERIFICATION, None)
    auto = route(IN_SUB, "camera", Assignment(OFF, BACKUP_ON), auto_dispatch=True)
    assert (auto.dispatch, auto.queue, auto.worker_code) == (True, Queue.WORKER, "W2")


@pytest.mark.parametrize("source", list(Source))
@pytest.mark.parametrize("auto", [False, True])
def test_outside_goes_to_district_flagged_never_dropped(source, auto):
    d = route(OUTSIDE, source, Assignment(ON, BACKUP_ON), auto_dispatch=auto)
    assert (d.dispatch, d.queue, d.worker_code, d.outside) == (False, Queue.DISTRICT, None, True)


def test_community_without_sub_grid_goes_to_community_queue():
    d = route(IN_COMMUNITY_ONLY, Source.APPEAL, Assignment(ON, BACKUP_ON))
    assert (d.dispatch, d.queue, d.worker_code) == (True, Queue.COMMUNITY, None)


def test_grid_gap_inside_district_goes_to_district_queue_not_flagged():
    d = responsible(IN_STREET_ONLY, None)
    assert (d.dispatch, d.queue, d.worker_code, d.outside) == (True, Queue.DISTRICT, None, False)


def test_unknown_source_is_refused():
    with pytest.raises(ValueError):
        route(IN_SUB, "telepathy", None)


def test_maintenance_cases_skip_verification_and_go_to_the_maintenance_desk():
    from grid.routing import Assignment, Location, Queue, GridWorker, route

    loc = Location("b", "s", "c", "t")
    d = route(loc, "camera", Assignment(GridWorker("W1")), family="maintenance")
    assert d.dispatch and d.queue is Queue.DISTRICT and d.worker_code is None
    assert route(loc, "camera", Assignment(GridWorker("W1")), family="crime").queue is Queue.VERIFICATION
