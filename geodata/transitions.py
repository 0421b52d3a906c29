"""THE one transition function: every change to an existing incident goes through `apply_transition`.

It locks the incident row, asks `grid.lifecycle` whether the action is allowed for this role, updates
the incident and appends its `incident_event` row in one transaction, and returns a TransitionResult.
It never publishes: call `publish_result()` after the commit, so the wall never shows a change that
was rolled back.

Transactions: on a connection with no transaction open, the change is committed when the function
returns. Inside a caller's transaction (e.g. ingest creating and dispatching in one go) it runs in a
savepoint and the caller's commit makes it durable; publish only after that commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from geodata.queries import q
from grid import deadlines, routing
from grid.lifecycle import Level, Role, Status, TransitionError, check, out_of_scope, refusal
from grid.lifecycle import next_level as _next_level
from grid.refusals import Code
from geodata.bus import LiveIncident, LiveWarning, publish_live
from geodata.bus.messages import media_problem

logger = logging.getLogger(__name__)

# Columns a transition may change; the UPDATE writes exactly these.
MUTABLE = ("status", "level", "queue", "worker_code", "dispatched_at", "due_at", "warned_at",
           "overdue_at", "closed_at", "on_time", "report_count", "last_report_at", "attributes")
_DISPATCHES = ("verify", "dispatch", "redispatch")
_WARNING_KIND = {"warn": "warning", "overdue": "overdue", "escalate": "escalated"}


class IncidentNotFound(LookupError):
    """No incident with that id."""


class StaleTransition(TransitionError):
    """The action is no longer due (another process did it first, or the clock moved): do nothing."""


@dataclass(frozen=True)
class TransitionResult:
    """What one committed transition changed, for the caller to publish after commit."""

    incident_id: UUID
    event_id: int
    action: str
    actor: str
    role: str
    at: datetime
    from_status: Status
    to_status: Status
    from_level: Level
    to_level: Level
    note: str | None
    changes: dict[str, tuple[Any, Any]]
    incident: dict[str, Any] = field(repr=False)

    def live_messages(self) -> list[LiveIncident | LiveWarning]:
        """The gridwatch:live messages announcing this transition."""
        row = self.incident
        out: list[LiveIncident | LiveWarning] = [LiveIncident(
            at=self.at, id=self.incident_id, action=self.action, actor=self.actor,
            status=self.to_status, from_status=self.from_status, level=self.to_level,
            queue=row["queue"], worker_code=row["worker_code"], matter_code=row["matter_code"],
            priority=row["priority"], base_grid_code=row["base_grid_code"],
            sub_grid_code=row["sub_grid_code"], community_code=row["community_code"],
            street_code=row["street_code"], outside=row["outside"], lon=row["lon"], lat=row["lat"],
            report_count=row["report_count"], due_at=row["due_at"],
        )]
        if self.action in _WARNING_KIND:
            out.append(LiveWarning(
                at=self.at, incident_id=self.incident_id, kind=_WARNING_KIND[self.action],
                level=self.to_level, due_at=row["due_at"], worker_code=row["worker_code"],
                sub_grid_code=row["sub_grid_code"], community_code=row["community_code"],
                street_code=row["street_code"],
            ))
        return out


def publish_result(client, result: TransitionResult) -> int:
    """Publish a committed transition on gridwatch:live (call after commit); return messages sent."""
    return publish_live(client, result.live_messages())


def load_assignment(conn: psycopg.Connection, sub_grid_code: str | None) -> routing.Assignment:
    """A sub-grid's current primary and backup workers, as routing wants them."""
    if sub_grid_code is None:
        return routing.Assignment()
    found: dict[str, routing.GridWorker] = {}
    for row in conn.execute(q("sub_grid_current_workers"), {"sub_grid_code": sub_grid_code}):
        found[row["role"]] = routing.GridWorker(row["code"], row["on_duty"], row["active"])
    return routing.Assignment(found.get("primary"), found.get("backup"))


def events_of(conn: psycopg.Connection, incident_id: UUID | str) -> list[dict[str, Any]]:
    """The incident's history, oldest first."""
    return conn.execute(q("incident_events_of"), {"incident_id": incident_id}).fetchall()


def apply_transition(conn: psycopg.Connection, incident_id: UUID | str, action: str, actor: str,
                     role: Role | str, note: str | None = None, media: Sequence[str] | None = None,
                     target_worker: str | None = None, *, target_queue: str | None = None,
                     reset_clock: bool = False, actor_worker: str | None = None,
                     scope: str | None = None, expect_level: Level | str | None = None,
                     data: dict[str, Any] | None = None, now: datetime | None = None,
                     observed_at: datetime | None = None) -> TransitionResult:
    """Lock, check, update the incident and append its history row, atomically; never publishes.

    `observed_at` is when a further report (merge, situation phase) was seen by its source.
    """
    if not actor:
        raise ValueError("actor is required")
    media = list(media or [])
    with conn.transaction():
        row = conn.execute(q("incident_lock_for_transition"), {"id": incident_id}).fetchone()
        if row is None:
            raise IncidentNotFound(f"no incident {incident_id}")
        status = Status(row["status"])
        is_owner = row["worker_code"] is not None and row["worker_code"] == (actor_worker or actor)
        t = check(status, action, role, is_owner=is_owner, family=row["family"], note=note)
        role = Role(role)
        _check_scope(row, status, action, role, scope)
        for ref in media:
            problem = media_problem(ref)
            if problem:
                raise TransitionError(f"cannot {action} an incident in status {status.value!r}: {problem}",
                                      code=Code.BAD_MEDIA, status=status.value, action=action, role=role.value,
                                      ref=ref)
        at = now or row["db_now"]
        new = {col: row[col] for col in MUTABLE}
        new["status"] = t.target(status).value
        extra: dict[str, Any] = {"role": role.value}
        _plan(conn, row, status, action, new, extra, at=at, note=note, target_worker=target_worker,
              target_queue=target_queue, reset_clock=reset_clock, expect_level=expect_level,
              observed_at=observed_at, scope=scope if role is Role.SUPERVISOR else None)
        changes = {col: (row[col], new[col]) for col in MUTABLE if row[col] != new[col]}
        conn.execute(q("incident_apply_transition"),
                     {**new, "attributes": Jsonb(new["attributes"]), "id": row["id"], "at": at})
        extra.update(data or {})
        event_id = _insert_event(conn, {
            "incident_id": row["id"], "at": at, "actor": actor, "action": action,
            "from_status": status.value, "to_status": new["status"], "note": note,
            "media": Jsonb(media), "data": Jsonb(_jsonable(extra)),
        })
    logger.info("incident %s: %s by %s (%s) %s -> %s", row["id"], action, actor, role.value,
                status.value, new["status"], extra={"incident_id": str(row["id"])})
    return TransitionResult(
        incident_id=row["id"], event_id=event_id, action=action, actor=actor, role=role.value, at=at,
        from_status=status, to_status=Status(new["status"]), from_level=Level(row["level"]),
        to_level=Level(new["level"]), note=note, changes=changes, incident={**row, **new},
    )


def _insert_event(conn: psycopg.Connection, params: dict[str, Any]) -> int:
    return conn.execute(q("incident_event_insert"), params).fetchone()["id"]


def _check_scope(row, status: Status, action: str, role: Role, scope: str | None) -> None:
    # Codes are hierarchical (community = street + 3 digits), so a prefix test covers both scopes.
    if role is not Role.SUPERVISOR or not scope:
        return
    where = row["community_code"] or row["street_code"] or ""
    if not where.startswith(scope):
        raise out_of_scope(status, action, role, where, scope)


def _refuse(status: Status, action: str, why: str, cls=TransitionError, *, code: Code, **params) -> TransitionError:
    return refusal(code, status, action, why, cls=cls, **params)


def _plan(conn, row, status: Status, action: str, new: dict, extra: dict, *, at: datetime,
          note: str | None, target_worker: str | None, target_queue: str | None, reset_clock: bool,
          expect_level, observed_at: datetime | None = None, scope: str | None = None) -> None:
    """Fill `new` (incident columns) and `extra` (history data) for one checked action."""
    if action in _DISPATCHES:
        _plan_dispatch(conn, row, status, action, new, extra, at=at, note=note,
                       target_worker=target_worker, target_queue=target_queue, reset_clock=reset_clock,
                       scope=scope)
    elif action == "return":
        extra["returned_by_worker"] = row["worker_code"]
        new["queue"] = routing.Queue.COMMUNITY.value if row["community_code"] else routing.Queue.DISTRICT.value
        new["worker_code"] = None
    elif action == "close":
        new["closed_at"] = at
        new["on_time"] = deadlines.is_on_time(at, row["due_at"])
        new["queue"] = None
        extra["on_time"] = new["on_time"]
    elif action == "cancel":
        new["queue"] = None
    elif action == "escalate":
        if expect_level is not None and Level(expect_level).value != row["level"]:
            raise _refuse(status, action, f"level is {row['level']}, not {Level(expect_level).value}",
                          StaleTransition, code=Code.LEVEL_MOVED, level=row["level"],
                          expected=Level(expect_level).value)
        up = _next_level(row["level"], row["escalation"])
        if up is None:
            raise _refuse(status, action, f"already at {row['level']}, the top of its matter's ladder "
                          f"({', '.join(row['escalation']) or 'no escalation'})", code=Code.TOP_OF_LADDER,
                          level=row["level"], escalation=list(row["escalation"]))
        new["level"] = up.value
        extra["level"] = {"from": row["level"], "to": up.value}
    elif action in ("warn", "overdue"):
        clock = _clock(row)
        if clock is None:
            raise _refuse(status, action, "the case has no deadline clock", StaleTransition, code=Code.NO_CLOCK)
        due = deadlines.needs_warning(at, clock) if action == "warn" else deadlines.needs_overdue(at, clock)
        if not due:
            raise _refuse(status, action, f"not due (due_at {row['due_at']}, warned_at {row['warned_at']},"
                          f" overdue_at {row['overdue_at']})", StaleTransition, code=Code.NOT_DUE)
        new["warned_at" if action == "warn" else "overdue_at"] = at
    elif action == "merge":
        seen = observed_at or at
        new["report_count"] = row["report_count"] + 1
        new["last_report_at"] = max(row["last_report_at"], seen) if row["last_report_at"] else seen
        extra["report_count"] = new["report_count"]
    elif action in ("situation_update", "situation_end"):
        # The phase rides in attributes: it informs the desk, it is not a step of the loop.
        new["attributes"] = {**(row["attributes"] or {}), "situation_phase": action.removeprefix("situation_"),
                             "situation_at": (observed_at or at).isoformat()}


def check_target_worker(conn, row, status: Status | str, action: str, target_worker: str,
                        scope: str | None) -> None:
    """Refuse a named dispatch target that is not an active worker of the operator's area and the case's community.

    The worker code comes from a browser or a command line, so it is checked here, where every door passes.
    A worker serves one community (grid rules never cross communities); a case outside every community
    (beyond the district) may go to any worker the operator's scope covers.
    """
    status = Status(status)
    worker = conn.execute(q("grid_worker_for_dispatch"), {"code": target_worker}).fetchone()
    if worker is None or not worker["active"]:
        raise _refuse(status, action, f"no active grid worker {target_worker!r}", code=Code.NO_ACTIVE_WORKER,
                      worker=target_worker)
    community = worker["community_code"]
    if scope and not (community or "").startswith(scope):
        raise _refuse(status, action, f"grid worker {target_worker} works for community {community}, outside the "
                      f"scope {scope}", code=Code.WORKER_OUT_OF_SCOPE, worker=target_worker, community=community,
                      scope=scope)
    if row["community_code"] and community != row["community_code"]:
        raise _refuse(status, action, f"grid worker {target_worker} works for community {community}; the case "
                      f"lies in community {row['community_code']}", code=Code.WORKER_OTHER_COMMUNITY,
                      worker=target_worker, community=community, incident_community=row["community_code"])


def _plan_dispatch(conn, row, status: Status, action: str, new: dict, extra: dict, *, at: datetime,
                   note: str | None, target_worker: str | None, target_queue: str | None,
                   reset_clock: bool, scope: str | None = None) -> None:
    if action == "verify" and row["queue"] != routing.Queue.VERIFICATION.value:
        raise _refuse(status, action, f"verify is for the verification queue; this case is on "
                      f"{row['queue'] or 'no'} queue: use dispatch", code=Code.NOT_ON_VERIFICATION,
                      queue=row["queue"])
    if reset_clock and not (note and note.strip()):
        raise _refuse(status, action, "resetting the deadline clock needs a reason (note)",
                      code=Code.RESET_NEEDS_NOTE)
    if target_worker is not None:
        check_target_worker(conn, row, status, action, target_worker, scope)
        queue, worker_code, why = routing.Queue.WORKER, target_worker, "named worker"
    elif target_queue is not None:
        queue = routing.Queue(target_queue)
        if queue in (routing.Queue.WORKER, routing.Queue.VERIFICATION):
            raise _refuse(status, action, f"queue {queue.value} cannot be a dispatch target without a worker",
                          code=Code.QUEUE_NEEDS_WORKER, queue=queue.value)
        if queue is routing.Queue.COMMUNITY and not row["community_code"]:
            raise _refuse(status, action, "the case lies in no community", code=Code.NO_COMMUNITY)
        worker_code, why = None, f"{queue.value} queue"
    else:
        location = routing.Location(row["base_grid_code"], row["sub_grid_code"], row["community_code"],
                                    row["street_code"], row["outside"])
        decision = routing.responsible(location, load_assignment(conn, row["sub_grid_code"]))
        if not decision.dispatch:
            raise _refuse(status, action, f"{decision.reason}: name a target worker or queue",
                          code=Code.OUTSIDE_DISTRICT if decision.outside else Code.NO_ROUTE, queue=decision.queue.value)
        queue, worker_code, why = decision.queue, decision.worker_code, decision.reason
    new["queue"], new["worker_code"] = queue.value, worker_code
    current = _clock(row)
    clock = deadlines.on_dispatch(at, row["deadline_hours"], current, reset=reset_clock)
    new.update(dispatched_at=clock.dispatched_at, due_at=clock.due_at, warned_at=clock.warned_at,
               overdue_at=clock.overdue_at)
    extra.update(queue=queue.value, worker_code=worker_code, routing=why, due_at=clock.due_at)
    if reset_clock:
        extra["reset_clock"] = True


def _clock(row) -> deadlines.Clock | None:
    if row["dispatched_at"] is None or row["due_at"] is None:
        return None
    return deadlines.Clock(row["dispatched_at"], row["due_at"], row["warned_at"], row["overdue_at"])


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, UUID)):
        return value.isoformat() if isinstance(value, datetime) else str(value)
    return value


def escalate(conn: psycopg.Connection, incident_id: UUID | str, actor: str, role: Role | str = Role.SYSTEM,
             note: str | None = None, *, expect_level: Level | str | None = None,
             now: datetime | None = None) -> TransitionResult | None:
    """Level up one rung (with history); None when someone already did it, or for `system` not due."""
    try:
        return apply_transition(conn, incident_id, "escalate", actor, role, note,
                                expect_level=expect_level, now=now)
    except TransitionError as exc:
        # For the deadline worker a case closed or topped out since its scan is a benign race;
        # a person asking for the impossible should hear why.
        if not isinstance(exc, StaleTransition) and role != Role.SYSTEM:
            raise
        logger.debug("escalate skipped: %s", exc, extra={"incident_id": str(incident_id)})
        return None


def mark_warned(conn: psycopg.Connection, incident_id: UUID | str, actor: str = "deadlines", *,
                now: datetime | None = None) -> TransitionResult | None:
    """Record the 80 % warning once; None when not (or no longer) due or already done."""
    return _deadline_mark(conn, incident_id, "warn", actor, now)


def mark_overdue(conn: psycopg.Connection, incident_id: UUID | str, actor: str = "deadlines", *,
                 now: datetime | None = None) -> TransitionResult | None:
    """Record overdue once; None when not (or no longer) due or already done."""
    return _deadline_mark(conn, incident_id, "overdue", actor, now)


def _deadline_mark(conn, incident_id, action: str, actor: str, now) -> TransitionResult | None:
    try:
        return apply_transition(conn, incident_id, action, actor, Role.SYSTEM, now=now)
    except TransitionError as exc:
        # A case closed or re-clocked between the scan and the lock is a benign race, not an error.
        logger.debug("%s skipped: %s", action, exc, extra={"incident_id": str(incident_id)})
        return None
