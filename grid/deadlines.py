"""Deadlines, warnings, overdue and the escalation ladder. Pure: every function takes `now`.

The clock and re-dispatch (the command center's rule, also in docs/lifecycle.md):

* The clock starts at the **first** dispatch: `dispatched_at` = that moment, `due_at` =
  `dispatched_at` + the matter's `deadline_hours`. Cases waiting for verification have no clock.
* A re-dispatch (to another worker or queue), and a dispatch after a worker *returned* the case,
  **keep the clock running** from the first dispatch. The citizen has waited since then, and a
  deadline that restarts on every hand-over would let a case be passed around forever.
* Only when the dispatcher or supervisor **explicitly resets** the clock (`reset_clock=True`, with a
  note saying why, typically "mis-routed by the center") does it restart: `dispatched_at` = now,
  `due_at` = now + deadline, and the warning and overdue marks are cleared so they can fire again.
  The escalation level already reached is kept: the history of a late case is not erased.
* Warning at 80 % of the time between dispatch and due; overdue at due.
* Escalation: an overdue case climbs to the first rung of its matter's `escalation` list, then one
  more rung for every further full deadline period it stays open (grid → community → street →
  district, skipping rungs the matter does not list). A rung is never climbed twice.
* On-time is decided when the case is closed (verified): `closed_at <= due_at`. The verification
  is part of the loop, so a supervisor's delay counts against the grid's on-time closure rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from grid.lifecycle import LADDER, Level, next_level

WARNING_FRACTION = 0.8


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must carry a time zone, got naive {value.isoformat()}")
    return value


def due_at(dispatched_at: datetime, deadline_hours: float) -> datetime:
    """When a case dispatched at `dispatched_at` is due."""
    if deadline_hours <= 0:
        raise ValueError(f"deadline_hours must be positive, got {deadline_hours}")
    return _aware("dispatched_at", dispatched_at) + timedelta(hours=deadline_hours)


@dataclass(frozen=True)
class Clock:
    """The clock fields of an incident after a (re-)dispatch."""

    dispatched_at: datetime
    due_at: datetime
    warned_at: datetime | None
    overdue_at: datetime | None


def on_dispatch(now: datetime, deadline_hours: float, current: Clock | None, *,
                reset: bool = False) -> Clock:
    """The clock after a dispatch: started at the first one, kept on later ones unless reset."""
    if current is None or reset:
        return Clock(now, due_at(now, deadline_hours), None, None)
    return current


def warning_at(dispatched_at: datetime, due: datetime) -> datetime:
    """The moment 80 % of the deadline has passed."""
    return dispatched_at + (due - dispatched_at) * WARNING_FRACTION


def needs_warning(now: datetime, clock: Clock) -> bool:
    """True when the 80 % mark is passed, the case is not yet due and was not warned."""
    return (clock.warned_at is None and clock.overdue_at is None
            and warning_at(clock.dispatched_at, clock.due_at) <= now < clock.due_at)


def needs_overdue(now: datetime, clock: Clock) -> bool:
    """True when the case is due and not yet marked overdue."""
    return clock.overdue_at is None and now >= clock.due_at


def target_level(now: datetime, clock: Clock, escalation: Sequence[str]) -> Level:
    """The level an open case should have reached by `now` under its matter's ladder."""
    level = Level.GRID
    if now < clock.due_at:
        return level
    period = clock.due_at - clock.dispatched_at
    # One rung at due, one more per further full deadline period.
    steps = 1 + (int((now - clock.due_at) / period) if period > timedelta(0) else len(LADDER))
    for _ in range(steps):
        up = next_level(level, escalation)
        if up is None:
            break
        level = up
    return level


def pending_actions(now: datetime, clock: Clock, level: Level | str,
                    escalation: Sequence[str]) -> list[str]:
    """What the deadline worker owes this case now: some of 'warn', 'overdue', 'escalate'."""
    out = []
    if needs_warning(now, clock):
        out.append("warn")
    if needs_overdue(now, clock):
        out.append("overdue")
    if LADDER.index(target_level(now, clock, escalation)) > LADDER.index(Level(level)):
        out.append("escalate")
    return out


def is_on_time(closed_at: datetime, due: datetime | None) -> bool | None:
    """On-time verdict at closing; None when the case never had a clock."""
    if due is None:
        return None
    return closed_at <= due
