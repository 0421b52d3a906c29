"""Supervisor and dispatcher operations on the grid, decided without I/O.

Moving a base grid to another sub-grid and assigning a sub-grid's primary or backup worker are planned
here: who may do it (role and scope), whether the grid rules allow it, which open incidents follow and
how each affected worker's workload changes. `geodata.operations` loads the facts, asks for a plan,
shows it as a preview or carries it out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from grid import routing
from grid.lifecycle import Role, Status
from grid.refusals import Code, Refusal

# Roles that may reassign areas and dispatch; `system` never acts through an account.
OPERATOR_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})
# A worker owes these: the statuses that count as workload and that follow a worker on a change.
WORKING = frozenset({Status.DISPATCHED, Status.ACCEPTED, Status.IN_PROGRESS})
ASSIGNMENT_ROLES = ("primary", "backup")


class ReassignError(Refusal):
    """A refused operation; the message names the codes involved and why, `code` and `params` say it for people."""


@dataclass(frozen=True)
class Operator:
    """Who asks: an app_user account's name, role and scope (NULL scope = whole district)."""

    username: str
    role: str
    scope_code: str | None = None
    worker_code: str | None = None


@dataclass(frozen=True)
class BaseGrid:
    """A base grid as the move sees it."""

    code: str
    community_code: str
    sub_grid_code: str


@dataclass(frozen=True)
class SubGrid:
    """A sub-grid and how many base grids it holds now."""

    code: str
    community_code: str
    base_grid_count: int


@dataclass(frozen=True)
class GridWorkerInfo:
    """A grid worker as an assignment sees one."""

    code: str
    community_code: str | None
    active: bool = True
    on_duty: bool = True


@dataclass(frozen=True)
class OpenIncident:
    """An open incident that an operation may move."""

    id: str
    status: str
    queue: str | None
    worker_code: str | None
    sub_grid_code: str | None


@dataclass(frozen=True)
class Move:
    """One incident an operation touches: re-dispatched to a worker or queue, or only re-labelled."""

    incident_id: str
    status: str
    from_worker: str | None
    to_worker: str | None
    to_queue: str | None
    redispatch: bool
    why: str


@dataclass(frozen=True)
class Plan:
    """What an operation will do: the change, the incidents that follow, workload before and after."""

    action: str
    target: str
    summary: str
    moves: tuple[Move, ...] = ()
    workload: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    data: Mapping[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-ready form for audit_log.data and previews."""
        return {
            "action": self.action, "target": self.target, "summary": self.summary,
            "moves": [m.__dict__ for m in self.moves],
            "workload": {w: {"before": b, "after": a} for w, (b, a) in sorted(self.workload.items())},
            **self.data,
        }


def check_operator(op: Operator, what: str) -> None:
    """Refuse anyone but a dispatcher, supervisor or admin."""
    try:
        role = Role(op.role)
    except ValueError:
        raise ReassignError(f"{op.username}: unknown role {op.role!r}", Code.OP_UNKNOWN_ROLE,
                            user=op.username, role=op.role) from None
    if role is Role.SYSTEM:
        raise system_role(op.username, f"{op.username}: the system role cannot be claimed by an account")
    if role not in OPERATOR_ROLES:
        allowed = sorted(r.value for r in OPERATOR_ROLES)
        raise ReassignError(f"{op.username} is a {role.value}: only {', '.join(allowed)} may {what}",
                            Code.OP_NOT_OPERATOR, user=op.username, role=role.value, roles=allowed)


def system_role(username: str, message: str) -> ReassignError:
    """The refusal of an account claiming the workers' `system` role."""
    return ReassignError(message, Code.OP_SYSTEM_ROLE, user=username)


def check_scope(op: Operator, area_code: str, what: str) -> None:
    """Refuse a supervisor acting outside the street or community of its scope."""
    # Codes are hierarchical (community = street + 3 digits, sub-grid = community + 2, ...).
    if op.role == Role.SUPERVISOR and op.scope_code and not area_code.startswith(op.scope_code):
        raise ReassignError(f"{op.username} is a supervisor of {op.scope_code}: may not {what} in {area_code}, "
                            f"outside that scope", Code.OP_OUT_OF_SCOPE, user=op.username, scope=op.scope_code,
                            area=area_code)


def workload(before: Mapping[str, int], moves: Iterable[Move], extra: Iterable[str] = ()) -> dict[str, tuple[int, int]]:
    """Open tasks per affected worker, before and after the moves."""
    moves = list(moves)
    after = dict(before)
    touched = set(extra)
    for m in moves:
        # Only tasks the worker owes count; re-labelled incidents keep their worker.
        if not m.redispatch or m.from_worker == m.to_worker:
            continue
        for w, delta in ((m.from_worker, -1), (m.to_worker, +1)):
            if w is not None:
                after[w] = after.get(w, 0) + delta
                touched.add(w)
    return {w: (before.get(w, 0), after.get(w, 0)) for w in sorted(touched) if w}


def _follow(inc: OpenIncident, decision: routing.Decision, why: str) -> Move:
    """Where a working incident goes when its area changes hands; others are only re-labelled."""
    if Status(inc.status) in WORKING:
        worker = decision.worker_code
        queue = decision.queue.value
        changes = (worker, queue) != (inc.worker_code, inc.queue)
        return Move(inc.id, inc.status, inc.worker_code, worker, queue, changes,
                    f"{why}: {decision.reason}" if changes else f"{why}: already with {worker or queue}")
    # Reported, returned and resolved cases wait for the desk, not for a worker: they keep their hands.
    return Move(inc.id, inc.status, inc.worker_code, inc.worker_code, inc.queue, False,
                f"{why}: status {inc.status} keeps its queue")


def plan_move_base(op: Operator, base: BaseGrid, source: SubGrid, target: SubGrid,
                   incidents: Sequence[OpenIncident], target_assignment: routing.Assignment,
                   load: Mapping[str, int]) -> Plan:
    """Check and plan moving `base` into `target`; its open incidents follow the target's worker."""
    check_operator(op, "move base grids")
    check_scope(op, base.community_code, f"move base grid {base.code}")
    if target.code == base.sub_grid_code:
        raise ReassignError(f"base grid {base.code} is already in sub-grid {target.code}",
                            Code.OP_ALREADY_IN_SUB_GRID, base_grid=base.code, sub_grid=target.code)
    if target.community_code != base.community_code:
        raise ReassignError(f"base grid {base.code} lies in community {base.community_code}; sub-grid {target.code}"
                            f" belongs to community {target.community_code}: a base grid never crosses communities",
                            Code.OP_CROSSES_COMMUNITY, base_grid=base.code, community=base.community_code,
                            sub_grid=target.code, sub_grid_community=target.community_code)
    if source.base_grid_count <= 1:
        raise ReassignError(f"base grid {base.code} is the last base grid of sub-grid {source.code}: moving it "
                            f"would leave {source.code} empty", Code.OP_LAST_BASE_GRID, base_grid=base.code,
                            sub_grid=source.code)
    location = routing.Location(base.code, target.code, base.community_code, None, False)
    decision = routing.responsible(location, target_assignment)
    why = f"base grid {base.code} moved to sub-grid {target.code}"
    moves = tuple(_follow(i, decision, why) for i in incidents)
    return Plan(
        action="move_base_grid", target=base.code,
        summary=f"move base grid {base.code} from sub-grid {source.code} to {target.code} "
                f"({sum(m.redispatch for m in moves)} of {len(moves)} open incidents re-dispatched)",
        moves=moves, workload=workload(load, moves),
        data={"base_grid": base.code, "from_sub_grid": source.code, "to_sub_grid": target.code,
              "community": base.community_code},
    )


def plan_assign(op: Operator, sub_grid: SubGrid, worker: GridWorkerInfo, role: str, current: routing.Assignment,
                incidents: Sequence[OpenIncident], load: Mapping[str, int]) -> Plan:
    """Check and plan making `worker` the sub-grid's `role`; the replaced worker's open tasks follow."""
    check_operator(op, "assign grid workers")
    check_scope(op, sub_grid.community_code, f"assign workers of sub-grid {sub_grid.code}")
    if role not in ASSIGNMENT_ROLES:
        raise ReassignError(f"assignment role must be primary or backup, not {role!r}", Code.OP_BAD_ASSIGNMENT_ROLE,
                            assignment_role=role)
    if not worker.active:
        raise ReassignError(f"grid worker {worker.code} is retired (inactive) and cannot be assigned",
                            Code.OP_WORKER_RETIRED, worker=worker.code)
    if worker.community_code and worker.community_code != sub_grid.community_code:
        raise ReassignError(f"grid worker {worker.code} works for community {worker.community_code}; "
                            f"sub-grid {sub_grid.code} belongs to community {sub_grid.community_code}",
                            Code.OP_WORKER_OTHER_COMMUNITY, worker=worker.code, community=worker.community_code,
                            sub_grid=sub_grid.code, sub_grid_community=sub_grid.community_code)
    holder = current.primary if role == "primary" else current.backup
    other = current.backup if role == "primary" else current.primary
    other_role = "backup" if role == "primary" else "primary"
    if holder is not None and holder.code == worker.code:
        raise ReassignError(f"grid worker {worker.code} is already the {role} of sub-grid {sub_grid.code}",
                            Code.OP_ALREADY_ASSIGNED, worker=worker.code, assignment_role=role, sub_grid=sub_grid.code)
    if other is not None and other.code == worker.code:
        raise ReassignError(f"grid worker {worker.code} is the {other_role} of sub-grid {sub_grid.code}; "
                            f"assign another {other_role} first (one person cannot be both)",
                            Code.OP_HOLDS_OTHER_ROLE, worker=worker.code, other_role=other_role,
                            sub_grid=sub_grid.code)
    replaced = holder.code if holder is not None else None
    moves: tuple[Move, ...] = ()
    if replaced is not None:
        why = f"{replaced} replaced by {worker.code} as {role} of sub-grid {sub_grid.code}"
        decision = routing.Decision(True, routing.Queue.WORKER, worker.code, False, "new assignment")
        moves = tuple(_follow(i, decision, why) for i in incidents
                      if i.worker_code == replaced and i.sub_grid_code == sub_grid.code)
    verb = f"replace {replaced} by {worker.code}" if replaced else f"assign {worker.code}"
    return Plan(
        action="assign_worker", target=sub_grid.code,
        summary=f"{verb} as {role} of sub-grid {sub_grid.code} "
                f"({sum(m.redispatch for m in moves)} open incidents re-dispatched)",
        moves=moves, workload=workload(load, moves, extra=[worker.code, *([replaced] if replaced else [])]),
        data={"sub_grid": sub_grid.code, "role": role, "worker": worker.code, "replaced": replaced,
              "community": sub_grid.community_code},
    )
