"""The incident life cycle: one status enum, one table of allowed transitions, escalation levels.

Pure: no I/O. `geodata.transitions.apply_transition` is the only writer and asks `check()` first.
The table is documented for people in docs/lifecycle.md; keep both in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from grid.refusals import PARAMS, Code, Refusal


class Status(StrEnum):
    """Where an incident is in the closed loop."""

    REPORTED = "reported"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    RETURNED = "returned"
    CANCELLED = "cancelled"


FINAL_STATUSES = frozenset({Status.CLOSED, Status.CANCELLED})
OPEN_STATUSES = frozenset(Status) - FINAL_STATUSES
# The deadline clock only bites while someone owes the handling (matches incident_due_idx).
CLOCKED_STATUSES = frozenset({Status.DISPATCHED, Status.ACCEPTED, Status.IN_PROGRESS, Status.RETURNED})


class Role(StrEnum):
    """Who acts. `system` is the workers (ingest, deadlines), never a login."""

    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    GRID_WORKER = "grid_worker"
    MAINTENANCE = "maintenance"
    WALL = "wall"
    ADMIN = "admin"
    SYSTEM = "system"


class Level(StrEnum):
    """Escalation level, beside the status: who is watching the case."""

    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"


LADDER: tuple[Level, ...] = (Level.GRID, Level.COMMUNITY, Level.STREET, Level.DISTRICT)

# Family whose cases a `maintenance` account may work on (cameras, facilities).
MAINTENANCE_FAMILY = "maintenance"


@dataclass(frozen=True)
class Transition:
    """One allowed action: from which statuses, to which status (None: unchanged), by whom."""

    action: str
    from_statuses: frozenset[Status]
    to_status: Status | None
    roles: frozenset[Role]
    needs_note: bool = False
    # Roles that may act only on their own task (the incident's worker_code is theirs).
    owner_roles: frozenset[Role] = frozenset({Role.GRID_WORKER})
    summary: str = ""

    def target(self, current: Status) -> Status:
        """The status after this transition from `current`."""
        return self.to_status if self.to_status is not None else current


def _t(action, froms, to, roles, *, note=False, summary=""):
    return Transition(action, frozenset(froms), to, frozenset(roles), needs_note=note, summary=summary)


S, R = Status, Role
_DESK = (R.DISPATCHER, R.SUPERVISOR, R.ADMIN)
_HANDS = (R.GRID_WORKER, R.MAINTENANCE, R.ADMIN)
_WORKING = (S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS)

# THE table. Order is the order of the closed loop; messages list actions in this order.
TRANSITIONS: tuple[Transition, ...] = (
    _t("verify", [S.REPORTED], S.DISPATCHED, _DESK,
       summary="a camera event is confirmed in the verification queue and dispatched"),
    _t("dispatch", [S.REPORTED, S.RETURNED], S.DISPATCHED, _DESK + (R.SYSTEM,),
       summary="send to a worker or a queue; the deadline clock starts at the first dispatch"),
    _t("redispatch", _WORKING, S.DISPATCHED, _DESK,
       summary="send elsewhere; the clock keeps running unless explicitly reset with a note"),
    _t("accept", [S.DISPATCHED], S.ACCEPTED, _HANDS, summary="the worker takes the task"),
    _t("start", [S.ACCEPTED], S.IN_PROGRESS, _HANDS, summary="handling has begun on site"),
    _t("resolve", [S.ACCEPTED, S.IN_PROGRESS], S.RESOLVED, _HANDS,
       summary="handled; feedback with note and photo, waits for verification"),
    _t("close", [S.RESOLVED], S.CLOSED, _DESK,
       summary="verified and closed by a supervisor or dispatcher; on-time is decided here"),
    # System: only the camera's recheck (复核), when the object is still in view after resolution.
    _t("reopen", [S.RESOLVED], S.IN_PROGRESS, _DESK + (R.SYSTEM,), note=True,
       summary="verification failed: back to the same worker, with the reason"),
    _t("return", _WORKING, S.RETURNED, (R.GRID_WORKER, R.MAINTENANCE, R.ADMIN), note=True,
       summary="not mine / wrong place: back to the desk for re-dispatch, with the reason"),
    _t("cancel", [S.REPORTED, S.RETURNED, *_WORKING], S.CANCELLED, _DESK, note=True,
       summary="invalid, false alarm or duplicate, with the reason"),
    _t("escalate", [S.REPORTED, S.RETURNED, *_WORKING], None, _DESK + (R.SYSTEM,),
       summary="level up one rung of the matter's ladder; status unchanged"),
    _t("warn", CLOCKED_STATUSES, None, [R.SYSTEM], summary="80 % of the deadline has passed"),
    _t("overdue", CLOCKED_STATUSES, None, [R.SYSTEM], summary="the deadline has passed"),
    # Ingest's further reports of an open case; they add evidence, never move it along the loop.
    _t("merge", OPEN_STATUSES, None, [R.SYSTEM],
       summary="another report of the same matter nearby joins the case (report count + 1)"),
    _t("situation_update", OPEN_STATUSES, None, [R.SYSTEM],
       summary="the camera situation behind the case goes on (latest phase recorded)"),
    _t("situation_end", OPEN_STATUSES, None, [R.SYSTEM],
       summary="the camera situation behind the case has ended (the case stays open until handled)"),
    # The camera's recheck that decides nothing: the object is gone (the "after" snapshot), or it could not tell.
    _t("recheck", [S.RESOLVED], None, [R.SYSTEM],
       summary="the camera looked again after resolution: gone, or unknown with why; the status stays"),
)
del S, R

_BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}
ACTIONS: tuple[str, ...] = tuple(_BY_ACTION)


class TransitionError(Refusal):
    """A refused transition; the message names the current status and what is allowed from it.

    `code` and `params` (grid.refusals) say the same for the dashboard in any language.
    """

    def __init__(self, message: str, *, code: Code | str = Code.REFUSED, status: str | None = None,
                 action: str | None = None, role: str | None = None, allowed: Sequence[str] = (), **params):
        # The attributes travel as parameters too, but only those the code declares (see PARAMS).
        given = {"status": status, "action": action, "role": role, "allowed": list(allowed)}
        declared = PARAMS.get(Code(code), ())
        super().__init__(message, code, **{k: v for k, v in given.items() if k in declared}, **params)
        self.status = status
        self.action = action
        self.role = role
        self.allowed = tuple(allowed)


def transition(action: str) -> Transition:
    """The table row of one action; TransitionError when there is none."""
    try:
        return _BY_ACTION[action]
    except KeyError:
        raise TransitionError(f"unknown action {action!r}; actions are: {', '.join(ACTIONS)}",
                              code=Code.NO_SUCH_ACTION, action=action, actions=list(ACTIONS)) from None


def allowed_actions(status: Status | str, role: Role | str | None = None) -> list[str]:
    """Actions allowed from `status` (for `role` when given), in table order."""
    st = Status(status)
    rl = Role(role) if role is not None else None
    return [t.action for t in TRANSITIONS if st in t.from_statuses and (rl is None or rl in t.roles)]


def _by_people(actions: Iterable[str]) -> list[str]:
    # What an account could ask someone to do: the workers' own actions (warn, merge...) are noise to people.
    return [a for a in actions if _BY_ACTION[a].roles - {Role.SYSTEM}]


def _refuse(code: Code, why: str, st: Status, action: str, rl: Role, **params) -> TransitionError:
    mine = allowed_actions(st, rl)
    anyone = allowed_actions(st)
    if not anyone:
        tail = f"{st.value!r} is final: nothing is allowed from it"
    else:
        tail = (f"from {st.value!r} a {rl.value} may: {', '.join(mine) or 'nothing'}"
                f" (any role: {', '.join(anyone)})")
    return TransitionError(f"cannot {action} an incident in status {st.value!r}: {why}; {tail}", code=code,
                           status=st.value, action=action, role=rl.value, allowed=mine,
                           anyone=_by_people(anyone), final=not anyone, **params)


def refusal(code: Code, status: Status | str, action: str, why: str, *, cls: type[TransitionError] = TransitionError,
            **params) -> TransitionError:
    """A refusal of `action` on an incident in `status` for a reason beyond the table (scope, routing, clock...)."""
    st = Status(status)
    return cls(f"cannot {action} an incident in status {st.value!r}: {why}", code=code, status=st.value,
               action=action, **params)


def out_of_scope(status: Status | str, action: str, role: Role | str, where: str | None,
                 scope: str) -> TransitionError:
    """A supervisor acting on an incident outside its street or community (the same words for a preview)."""
    return refusal(Code.OUT_OF_SCOPE, status, action,
                   f"it lies in {where or 'no community'}, outside this supervisor's scope {scope}",
                   role=Role(role).value, where=where or None, scope=scope)


def check(status: Status | str, action: str, role: Role | str, *, is_owner: bool = True,
          family: str | None = None, note: str | None = None) -> Transition:
    """Validate one transition for a role; return its table row or raise TransitionError."""
    st = Status(status)
    try:
        rl = Role(role)
    except ValueError:
        raise TransitionError(f"unknown role {role!r} (incident is {st.value!r}); roles are: "
                              f"{', '.join(r.value for r in Role)}", code=Code.UNKNOWN_ROLE, status=st.value,
                              action=action, role=str(role), roles=[r.value for r in Role if r is not Role.SYSTEM]
                              ) from None
    if action not in _BY_ACTION:
        anyone = allowed_actions(st)
        raise TransitionError(f"unknown action {action!r} for an incident in status {st.value!r}; "
                              f"allowed from {st.value!r}: {', '.join(anyone) or 'nothing'}",
                              code=Code.UNKNOWN_ACTION, status=st.value, action=action, role=rl.value,
                              allowed=allowed_actions(st, rl), anyone=_by_people(anyone), final=not anyone)
    t = _BY_ACTION[action]
    if st not in t.from_statuses:
        raise _refuse(Code.WRONG_STATUS, f"{action} is only allowed from {', '.join(_ordered(t.from_statuses))}",
                      st, action, rl, from_statuses=_ordered(t.from_statuses))
    if rl not in t.roles:
        raise _refuse(Code.WRONG_ROLE, f"role {rl.value} may not {action}", st, action, rl)
    if rl in t.owner_roles and not is_owner:
        raise _refuse(Code.NOT_OWNER, f"a {rl.value} may only {action} own tasks", st, action, rl)
    if rl is Role.MAINTENANCE and family != MAINTENANCE_FAMILY:
        raise _refuse(Code.MAINTENANCE_ONLY, f"maintenance may only act on maintenance cases, not {family or 'unknown'}",
                      st, action, rl, family=family)
    if t.needs_note and not (note and note.strip()):
        raise _refuse(Code.NEEDS_NOTE, f"{action} needs a reason (note)", st, action, rl)
    return t


def _ordered(statuses: Iterable[Status]) -> list[str]:
    order = list(Status)
    return [s.value for s in sorted(statuses, key=order.index)]


def next_level(current: Level | str, escalation: Sequence[str]) -> Level | None:
    """The next rung above `current` among the matter's escalation rungs; None at the top."""
    here = LADDER.index(Level(current))
    rungs = sorted({Level(r) for r in escalation}, key=LADDER.index)
    for rung in rungs:
        if LADDER.index(rung) > here:
            return rung
    return None
