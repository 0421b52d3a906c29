"""Deadlines: the clock from dispatch, re-dispatch, 80 % warning, overdue, ladder, on-time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from grid.deadlines import (Clock, due_at, is_on_time, needs_overdue, needs_warning, on_dispatch,
                            pending_actions, target_level, warning_at)
from grid.lifecycle import Level

CST = timezone(timedelta(hours=8))
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=CST)
H = timedelta(hours=1)
FULL = ["community", "street", "district"]


def clock(hours=10.0, warned=None, overdue=None) -> Clock:
    return Clock(T0, due_at(T0, hours), warned, overdue)


def test_due_at_is_dispatch_plus_deadline():
    assert due_at(T0, 24) == T0 + 24 * H
    assert due_at(T0, 0.5) == T0 + timedelta(minutes=30)


@pytest.mark.parametrize("bad", [0, -1])
def test_due_at_refuses_non_positive_deadline(bad):
    with pytest.raises(ValueError, match="positive"):
        due_at(T0, bad)


def test_due_at_refuses_naive_time():
    with pytest.raises(ValueError, match="time zone"):
        due_at(datetime(2024, 5, 1, 9, 0), 4)


def test_first_dispatch_starts_the_clock():
    c = on_dispatch(T0, 4, None)
    assert c == Clock(T0, T0 + 4 * H, None, None)


def test_redispatch_keeps_the_clock_unless_reset():
    first = Clock(T0, T0 + 4 * H, T0 + 3.2 * H, None)
    later = T0 + 3.5 * H
    assert on_dispatch(later, 4, first) is first
    reset = on_dispatch(later, 4, first, reset=True)
    assert reset == Clock(later, later + 4 * H, None, None)


def test_warning_at_eighty_percent():
    assert warning_at(T0, T0 + 10 * H) == T0 + 8 * H


@pytest.mark.parametrize(("offset_h", "warn", "over"), [
    (0, False, False), (7.99, False, False), (8, True, False), (9.99, True, False),
    (10, False, True), (30, False, True),
])
def test_warning_and_overdue_windows(offset_h, warn, over):
    now = T0 + offset_h * H
    assert needs_warning(now, clock()) is warn
    assert needs_overdue(now, clock()) is over


def test_marks_happen_once():
    assert not needs_warning(T0 + 9 * H, clock(warned=T0 + 8 * H))
    assert not needs_overdue(T0 + 11 * H, clock(overdue=T0 + 10 * H))


@pytest.mark.parametrize(("offset_h", "ladder", "level"), [
    (9, FULL, Level.GRID),
    (10, FULL, Level.COMMUNITY),
    (19.9, FULL, Level.COMMUNITY),
    (20, FULL, Level.STREET),
    (30, FULL, Level.DISTRICT),
    (500, FULL, Level.DISTRICT),
    (10, ["street", "district"], Level.STREET),
    (20, ["street", "district"], Level.DISTRICT),
    (10, ["district"], Level.DISTRICT),
    (100, [], Level.GRID),
])
def test_target_level_climbs_a_rung_per_deadline_period(offset_h, ladder, level):
    assert target_level(T0 + offset_h * H, clock(), ladder) is level


@pytest.mark.parametrize(("offset_h", "c", "level", "expected"), [
    (5, clock(), "grid", []),
    (8.5, clock(), "grid", ["warn"]),
    (10.5, clock(), "grid", ["overdue", "escalate"]),
    (10.5, clock(overdue=T0 + 10 * H), "community", []),
    (21, clock(overdue=T0 + 10 * H), "community", ["escalate"]),
    (21, clock(overdue=T0 + 10 * H), "district", []),
])
def test_pending_actions(offset_h, c, level, expected):
    assert pending_actions(T0 + offset_h * H, c, level, FULL) == expected


@pytest.mark.parametrize(("closed", "due", "verdict"), [
    (T0 + 1 * H, T0 + 2 * H, True),
    (T0 + 2 * H, T0 + 2 * H, True),
    (T0 + 3 * H, T0 + 2 * H, False),
    (T0, None, None),
])
def test_on_time_is_decided_at_closing(closed, due, verdict):
    assert is_on_time(closed, due) is verdict
