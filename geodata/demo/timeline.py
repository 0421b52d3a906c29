"""Each draft's closed-loop history (report, dispatch, accept, start, resolve, close; returns, cancels,
warnings, escalations) with realistic delays, cut at seed time; the incident's row follows from it."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

import numpy as np

from geodata.demo.matters import MATTERS

DESK = ("DSP01", "DSP02", "DSP03", "DSP04")
MAINTAINERS = ("MT01", "MT02", "MT03")
SYSTEM = "system"
CLOCKED = frozenset({"dispatched", "accepted", "in_progress", "returned"})
ESCALATABLE = frozenset({"reported", "returned", "dispatched", "accepted", "in_progress"})
# Median seconds from observation to the report reaching the system, by source.
_RECEIVE_S = {"camera": 4.0, "grid_worker": 30.0, "appeal": 600.0, "open311": 60.0, "analysis": 5.0}
CAMERA_FALSE_ALARM = 0.15
RETURN_SHARE = 0.03
DUPLICATE_SHARE = 0.02
STALL_SHARE = 0.03


@dataclass
class Event:
    """One history row before it is written."""

    t: float
    actor: str
    action: str
    from_status: str | None
    to_status: str
    note: str | None = None
    data: dict | None = None


@dataclass
class Case:
    """An incident's history and the fields of its row that follow from it."""

    id: uuid.UUID
    events: list[Event]
    worker: str | None
    received: float


def make_ids(rng: np.random.Generator, n: int) -> list[uuid.UUID]:
    """Deterministic random (version 4) UUIDs."""
    raw = rng.bytes(16 * n)
    return [uuid.UUID(bytes=raw[16 * i:16 * i + 16], version=4) for i in range(n)]


def _status_at(main: list[Event], t: float) -> str:
    status = main[0].to_status
    for e in main:
        if e.t > t:
            break
        status = e.to_status
    return status


def _clock_events(main: list[Event], dispatched: float, deadline: float, ladder: tuple[str, ...]) -> list[Event]:
    out = []
    due = dispatched + deadline
    # The deadline worker notices a little after the moment; the status is judged when it acts.
    t_warn = dispatched + 0.8 * deadline + 30
    if _status_at(main, t_warn) in CLOCKED:
        s = _status_at(main, t_warn)
        out.append(Event(t_warn, SYSTEM, "warn", s, s, None, {"at_share": 0.8}))
    if _status_at(main, due + 45) in CLOCKED:
        s = _status_at(main, due + 45)
        out.append(Event(due + 45, SYSTEM, "overdue", s, s))
    level = "grid"
    for k, rung in enumerate(ladder):
        te = due + 60 + k * deadline
        s = _status_at(main, te)
        if s not in ESCALATABLE:
            break
        out.append(Event(te, SYSTEM, "escalate", s, s, "超期升级 overdue: escalated", {"from_level": level, "to_level": rung}))
        level = rung
    return out


def make_case(i: int, matter_idx: int, source: str, t0: float, primary: str, backup: str,
              z: np.ndarray, u: np.ndarray, case_id: uuid.UUID, reporter: str) -> Case:
    """The full history of one incident (not yet cut at seed time)."""
    m = MATTERS[matter_idx]
    deadline = m.deadline_hours * 3600.0
    maint = m.family == "maintenance"
    camera_rule = source == "camera" and not maint
    desk = DESK[i % len(DESK)]
    recv = t0 + _RECEIVE_S[source] * math.exp(0.5 * z[0])
    main = [Event(recv, reporter, "report", None, "reported", None, {"source": source})]
    if camera_rule:
        td = recv + 240.0 * math.exp(0.8 * z[1])
        if u[0] < CAMERA_FALSE_ALARM:
            main.append(Event(td, desk, "cancel", "reported", "cancelled", "误报 false alarm"))
            return Case(case_id, main, None, recv)
        main.append(Event(td, desk, "verify", "reported", "dispatched", "核实属实 verified"))
    else:
        td = recv + 2.0 + 5.0 * u[1]
        main.append(Event(td, SYSTEM, "dispatch", "reported", "dispatched"))
    handler = MAINTAINERS[i % len(MAINTAINERS)] if maint else (backup if u[2] < 0.1 else primary)
    worker = None if maint else handler
    main[-1].data = {"worker": worker, "queue": "district" if maint else "worker"}
    t = td
    if not maint and u[3] < RETURN_SHARE:
        tr = t + 2400.0 * math.exp(0.6 * z[2])
        main.append(Event(tr, handler, "return", "dispatched", "returned", "不属于本网格 not my grid"))
        handler = worker = backup if handler == primary else primary
        t = tr + 3000.0 * math.exp(0.7 * z[3])
        main.append(Event(t, desk, "dispatch", "returned", "dispatched", "改派 re-dispatched",
                          {"worker": worker, "queue": "worker"}))
    if not camera_rule and u[4] < DUPLICATE_SHARE:
        main.append(Event(t + 3600.0 * math.exp(z[4]), desk, "cancel", "dispatched", "cancelled", "重复上报 duplicate"))
        return Case(case_id, sorted(main + _clock_events(main, td, deadline, m.escalation), key=lambda e: e.t),
                    worker, recv)
    ta = t + (300.0 if m.priority == 1 else 900.0) * math.exp(0.7 * z[5])
    ts = ta + 1200.0 * math.exp(0.7 * z[6])
    share = 0.35 * math.exp(0.7 * z[7]) * ((2.0 + 4.0 * u[5]) if u[6] < STALL_SHARE else 1.0)
    tres = max(ts + 300.0, td + deadline * share)
    tclose = tres + 3600.0 * math.exp(0.9 * z[8])
    main += [
        Event(ta, handler, "accept", "dispatched", "accepted"),
        Event(ts, handler, "start", "accepted", "in_progress"),
        Event(tres, handler, "resolve", "in_progress", "resolved", "已处置 handled"),
        Event(tclose, desk, "close", "resolved", "closed", "核查属实，已结案 verified and closed"),
    ]
    events = sorted(main + _clock_events(main, td, deadline, m.escalation), key=lambda e: e.t)
    return Case(case_id, events, worker, recv)


def cut(case: Case, now: float) -> list[Event]:
    """The history as it stands at seed time (a report still on its way arrives at seed time)."""
    if case.events[0].t > now:
        case.events[0].t = case.received = now
    return [e for e in case.events if e.t <= now]


@dataclass
class RowState:
    """Incident fields derived from a (cut) history."""

    status: str
    level: str
    queue: str | None
    worker: str | None
    dispatched_at: float | None
    due_at: float | None
    warned_at: float | None
    overdue_at: float | None
    closed_at: float | None
    on_time: bool | None
    updated_at: float


def row_state(events: list[Event], worker: str | None, deadline_h: float, maint: bool) -> RowState:
    """Status, level, queue, clocks and on-time flag as the history says."""
    status = events[-1].to_status
    level, dispatched, first_dispatch, warned, overdue, closed, resolved = "grid", None, None, None, None, None, None
    for e in events:
        if e.action in ("dispatch", "verify"):
            dispatched = e.t
            first_dispatch = first_dispatch or e.t
        elif e.action == "escalate":
            level = e.data["to_level"]
        elif e.action == "warn":
            warned = e.t
        elif e.action == "overdue":
            overdue = e.t
        elif e.action in ("close", "cancel"):
            closed = e.t
        elif e.action == "resolve":
            resolved = e.t
    # The clock runs from the first dispatch; a re-dispatch does not reset it.
    due = first_dispatch + deadline_h * 3600.0 if first_dispatch else None
    if status in ("closed", "cancelled"):
        queue = None
    elif status == "reported":
        queue = "verification"
    elif status in ("returned", "resolved"):
        queue = "community"
    else:
        queue = "district" if maint else "worker"
    # Handling is on time when resolved by the due time (verification is the desk's work).
    on_time = (resolved <= due) if status == "closed" and due is not None else None
    owner = worker if status in ("dispatched", "accepted", "in_progress", "resolved", "closed") else None
    return RowState(status, level, queue, owner, dispatched, due, warned, overdue, closed, on_time, events[-1].t)
