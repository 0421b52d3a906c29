"""Supervisor and dispatcher operations: verify, dispatch, move a base grid, assign a worker.

Each operation loads the facts, asks `grid.reassign` (or `grid.lifecycle`) for a plan, and either
returns it as a preview (nothing written) or carries it out in one transaction: the grid change, every
incident that follows it through `geodata.transitions.apply_transition`, and one `audit_log` row. The
live feed is published only after the commit.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from geodata import users
from geodata.queries import q
from geodata.transitions import (IncidentNotFound, TransitionResult, apply_transition, check_target_worker,
                                 events_of, load_assignment, publish_result)
from grid import reassign, routing
from grid.lifecycle import Role, Status, check, out_of_scope
from grid.reassign import Move, Operator, Plan, ReassignError, system_role
from grid.refusals import Code

logger = logging.getLogger(__name__)

__all__ = ["Outcome", "ReassignError", "assign_grid_worker", "cancel_false_alarm", "dispatch", "do_action",
           "incident_detail", "list_incidents", "load_operator", "move_base_grid", "verify"]

_DESK = frozenset({Role.DISPATCHER.value, Role.SUPERVISOR.value, Role.ADMIN.value})


@dataclass
class Outcome:
    """A previewed or committed operation: its plan, the audit row and the transitions it made."""

    plan: Plan
    preview: bool
    audit_id: int | None = None
    results: list[TransitionResult] = field(default_factory=list)
    published: int = 0


def load_operator(conn: psycopg.Connection, username: str) -> Operator:
    """The account acting: role, scope and worker come from app_user; unknown or disabled is refused."""
    user = users.get_user(conn, username)
    if user is None:
        raise ReassignError(f"no user {username!r}", Code.OP_NO_USER, user=username)
    if user.disabled:
        raise ReassignError(f"user {username!r} is disabled", Code.OP_USER_DISABLED, user=username)
    if user.role == Role.SYSTEM:
        raise system_role(username, f"user {username!r}: the system role cannot be claimed")
    return Operator(user.username, user.role, user.scope_code, user.worker_code)


def _workload(conn: psycopg.Connection, codes: Iterable[str | None]) -> dict[str, int]:
    wanted = sorted({c for c in codes if c})
    rows = conn.execute(q("op_workload"), {"codes": wanted}).fetchall()
    found = {r["worker_code"]: int(r["open"]) for r in rows}
    return {c: found.get(c, 0) for c in wanted}


def _open(rows) -> list[reassign.OpenIncident]:
    return [reassign.OpenIncident(r["id"], r["status"], r["queue"], r["worker_code"], r["sub_grid_code"])
            for r in rows]


def _sub_grid(conn: psycopg.Connection, code: str) -> reassign.SubGrid:
    row = conn.execute(q("op_sub_grid"), {"code": code}).fetchone()
    if row is None:
        raise ReassignError(f"no sub-grid {code}", Code.OP_NO_SUB_GRID, sub_grid=code)
    return reassign.SubGrid(row["code"], row["community_code"], int(row["base_grid_count"]))


def _require_reason(reason: str | None, preview: bool) -> None:
    if not preview and not (reason and reason.strip()):
        raise ReassignError("a reason is required (it is written to the audit log)", Code.OP_REASON_REQUIRED)


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    # Datetimes and UUIDs become text, as in incident_event.data.
    return json.loads(json.dumps(data, default=str))


def _audit(conn: psycopg.Connection, op: Operator, plan: Plan, reason: str | None,
           results: list[TransitionResult]) -> int:
    data = {**plan.as_dict(), "role": op.role, "scope": op.scope_code,
            "incident_events": [r.event_id for r in results]}
    row = conn.execute(q("op_audit_insert"), {"actor": op.username, "action": plan.action, "target": plan.target,
                                              "reason": reason, "data": Jsonb(_jsonable(data))}).fetchone()
    return int(row["id"])


def _redispatch(conn: psycopg.Connection, op: Operator, moves: Iterable[Move], note: str,
                data: dict[str, Any]) -> list[TransitionResult]:
    out = []
    for m in moves:
        if not m.redispatch:
            continue
        target_queue = None if m.to_worker else m.to_queue
        out.append(apply_transition(conn, m.incident_id, "redispatch", op.username, op.role, note=note,
                                    target_worker=m.to_worker, target_queue=target_queue,
                                    scope=op.scope_code, data={**data, "why": m.why}))
    return out


def _finish(outcome: Outcome, live) -> Outcome:
    """Publish a committed outcome's transitions; a Redis failure never undoes a commit."""
    if live is None or outcome.preview:
        return outcome
    for result in outcome.results:
        try:
            outcome.published += publish_result(live, result)
        except Exception as exc:  # noqa: BLE001 - the change is committed; the wall catches up on refresh
            logger.warning("live publish failed for %s: %s", result.incident_id, exc)
            break
    return outcome


def _commit_check(exc: psycopg.errors.CheckViolation) -> ReassignError:
    # The deferred grid triggers judge at commit; their (English) message names the codes, which any language shows.
    detail = exc.diag.message_primary or str(exc)
    return ReassignError(f"the grid rules refused it: {detail}", Code.OP_GRID_RULES, detail=detail,
                         codes=list(dict.fromkeys(re.findall(r"\b\d{12,15}\b", detail))))


# ---- grid operations ---------------------------------------------------------------------------

def move_base_grid(conn: psycopg.Connection, op: Operator, base_code: str, sub_grid_code: str, *,
                   reason: str | None = None, preview: bool = False, live=None) -> Outcome:
    """Move a base grid to another sub-grid of its community; its open incidents follow (or preview)."""
    _require_reason(reason, preview)
    try:
        with conn.transaction():
            base_row = conn.execute(q("op_base_grid"), {"code": base_code}).fetchone()
            if base_row is None:
                raise ReassignError(f"no base grid {base_code}", Code.OP_NO_BASE_GRID, base_grid=base_code)
            if not preview:
                conn.execute(q("op_lock_sub_grids"), {"codes": [base_row["sub_grid_code"], sub_grid_code]})
            base = reassign.BaseGrid(base_row["code"], base_row["community_code"], base_row["sub_grid_code"])
            source, target = _sub_grid(conn, base.sub_grid_code), _sub_grid(conn, sub_grid_code)
            incidents = _open(conn.execute(q("op_open_incidents_of_base_grid"), {"code": base.code}))
            assignment = load_assignment(conn, target.code)
            involved = [i.worker_code for i in incidents]
            involved += [w.code for w in (assignment.primary, assignment.backup) if w is not None]
            plan = reassign.plan_move_base(op, base, source, target, incidents, assignment,
                                           _workload(conn, involved))
            if preview:
                return Outcome(plan, True)
            conn.execute(q("op_move_base_grid"), {"code": base.code, "sub_grid": target.code})
            conn.execute(q("op_relabel_open_incidents"), {"code": base.code, "sub_grid": target.code})
            results = _redispatch(conn, op, plan.moves, reason or "", {"operation": plan.action,
                                                                      "base_grid": base.code})
            outcome = Outcome(plan, False, _audit(conn, op, plan, reason, results), results)
    except psycopg.errors.CheckViolation as exc:
        raise _commit_check(exc) from None
    logger.info("%s: %s", op.username, plan.summary)
    return _finish(outcome, live)


def assign_grid_worker(conn: psycopg.Connection, op: Operator, sub_grid_code: str, worker_code: str, *,
                  backup: bool = False, reason: str | None = None, preview: bool = False, live=None) -> Outcome:
    """Make a worker a sub-grid's primary (or backup); history kept, open tasks follow (or preview)."""
    _require_reason(reason, preview)
    role = "backup" if backup else "primary"
    with conn.transaction():
        if not preview:
            conn.execute(q("op_lock_sub_grids"), {"codes": [sub_grid_code]})
        sub = _sub_grid(conn, sub_grid_code)
        w = conn.execute(q("op_worker"), {"code": worker_code}).fetchone()
        if w is None:
            raise ReassignError(f"no grid worker {worker_code}", Code.OP_NO_WORKER, worker=worker_code)
        worker = reassign.GridWorkerInfo(w["code"], w["community_code"], w["active"], w["on_duty"])
        current = load_assignment(conn, sub.code)
        holder = current.primary if role == "primary" else current.backup
        incidents: list[reassign.OpenIncident] = []
        if holder is not None:
            incidents = _open(conn.execute(q("op_open_incidents_of_worker_in_sub_grid"),
                                           {"sub_grid": sub.code, "worker": holder.code}))
        load = _workload(conn, [worker.code, holder.code if holder else None])
        plan = reassign.plan_assign(op, sub, worker, role, current, incidents, load)
        if preview:
            return Outcome(plan, True)
        ended = conn.execute(q("op_end_assignment"), {"sub_grid": sub.code, "role": role}).fetchone()
        added = conn.execute(q("op_add_assignment"), {"sub_grid": sub.code, "worker": worker.code, "role": role,
                                                      "by": op.username, "reason": reason}).fetchone()
        results = _redispatch(conn, op, plan.moves, reason or "", {"operation": plan.action, "sub_grid": sub.code})
        plan = Plan(plan.action, plan.target, plan.summary, plan.moves, plan.workload,
                    {**plan.data, "ended_assignment": ended["id"] if ended else None,
                     "new_assignment": added["id"]})
        outcome = Outcome(plan, False, _audit(conn, op, plan, reason, results), results)
    logger.info("%s: %s", op.username, plan.summary)
    return _finish(outcome, live)


# ---- incident operations -----------------------------------------------------------------------

def _incident(conn: psycopg.Connection, incident_id: str) -> dict[str, Any]:
    try:
        uuid.UUID(str(incident_id))
    except ValueError:
        raise IncidentNotFound(f"no incident {incident_id!r} (an incident id is a UUID)") from None
    row = conn.execute(q("op_incident_brief"), {"id": incident_id}).fetchone()
    if row is None:
        raise IncidentNotFound(f"no incident {incident_id}")
    return row


def _plan_transition(conn: psycopg.Connection, op: Operator, row: dict[str, Any], action: str, note: str | None,
                     target_worker: str | None, target_queue: str | None) -> Plan:
    """Preview of one incident transition: checked against the table, scope and routing."""
    check(row["status"], action, op.role, is_owner=row["worker_code"] == (op.worker_code or op.username),
          family=row["family"], note=note)
    where = row["community_code"] or row["street_code"] or ""
    if op.role == Role.SUPERVISOR and op.scope_code and not where.startswith(op.scope_code):
        # The builder apply_transition uses, so a preview and a refusal read the same.
        raise out_of_scope(row["status"], action, op.role, where, op.scope_code)
    to_worker, to_queue, why = row["worker_code"], row["queue"], action
    if action in ("verify", "dispatch", "redispatch"):
        if target_worker:
            # The same check apply_transition makes, so a preview refuses what the action would.
            check_target_worker(conn, row, row["status"], action, target_worker,
                                op.scope_code if op.role == Role.SUPERVISOR else None)
            to_worker, to_queue, why = target_worker, routing.Queue.WORKER.value, "named worker"
        elif target_queue:
            to_worker, to_queue, why = None, target_queue, f"{target_queue} queue"
        else:
            location = routing.Location(row["base_grid_code"], row["sub_grid_code"], row["community_code"],
                                        row["street_code"], row["outside"])
            d = routing.responsible(location, load_assignment(conn, row["sub_grid_code"]))
            to_worker, to_queue, why = d.worker_code, d.queue.value, d.reason
    elif action in ("cancel", "close"):
        to_queue = None
    move = Move(row["id"], row["status"], row["worker_code"], to_worker, to_queue, True, why)
    before = _workload(conn, [row["worker_code"], to_worker])
    counted = Status(row["status"]) in reassign.WORKING
    after = dict(before)
    if counted and row["worker_code"]:
        after[row["worker_code"]] -= 1
    if to_worker and action in ("verify", "dispatch", "redispatch"):
        after[to_worker] = after.get(to_worker, 0) + 1
    load = {w: (before.get(w, 0), after.get(w, 0)) for w in sorted(set(before) | set(after))}
    return Plan(action, row["id"], f"{action} incident {row['id']} ({row['status']}): {why}", (move,), load)


def do_action(conn: psycopg.Connection, op: Operator, incident_id: str, action: str, *, note: str | None = None,
              target_worker: str | None = None, target_queue: str | None = None, reset_clock: bool = False,
              preview: bool = False, live=None) -> Outcome:
    """Any transition on one incident by an account; desk actions are also written to audit_log."""
    if op.role == Role.SYSTEM:
        raise system_role(op.username, f"{op.username}: the system role cannot be claimed by an account")
    with conn.transaction():
        row = _incident(conn, incident_id)
        plan = _plan_transition(conn, op, row, action, note, target_worker, target_queue)
        if preview:
            return Outcome(plan, True)
        result = apply_transition(conn, row["id"], action, op.username, op.role, note=note,
                                  target_worker=target_worker, target_queue=target_queue,
                                  reset_clock=reset_clock, actor_worker=op.worker_code, scope=op.scope_code)
        audit_id = _audit(conn, op, plan, note, [result]) if op.role in _DESK else None
        outcome = Outcome(plan, False, audit_id, [result])
    return _finish(outcome, live)


def verify(conn: psycopg.Connection, op: Operator, incident_id: str, *, note: str | None = None,
           target_worker: str | None = None, preview: bool = False, live=None) -> Outcome:
    """Confirm a camera event from the verification queue and dispatch it (routing or a named worker)."""
    return do_action(conn, op, incident_id, "verify", note=note, target_worker=target_worker,
                     preview=preview, live=live)


def cancel_false_alarm(conn: psycopg.Connection, op: Operator, incident_id: str, *, note: str,
                       preview: bool = False, live=None) -> Outcome:
    """Cancel a camera event as a false alarm; the note (reason) is required."""
    return do_action(conn, op, incident_id, "cancel", note=note, preview=preview, live=live)


def dispatch(conn: psycopg.Connection, op: Operator, incident_id: str, *, target_worker: str | None = None,
             target_queue: str | None = None, note: str | None = None, reset_clock: bool = False,
             preview: bool = False, live=None) -> Outcome:
    """Dispatch a waiting case, or re-dispatch one being worked on, chosen by its current status."""
    with conn.transaction():
        status = Status(_incident(conn, incident_id)["status"])
    action = "redispatch" if status in reassign.WORKING else "dispatch"
    return do_action(conn, op, incident_id, action, note=note, target_worker=target_worker,
                     target_queue=target_queue, reset_clock=reset_clock, preview=preview, live=live)


# ---- reads for the CLI -------------------------------------------------------------------------

def list_incidents(conn: psycopg.Connection, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """The newest incidents, optionally of one status."""
    if status is not None:
        Status(status)
    with conn.transaction():
        return conn.execute(q("op_incident_list"), {"status": status, "limit": limit}).fetchall()


def incident_detail(conn: psycopg.Connection, incident_id: str) -> dict[str, Any]:
    """One incident with its reports and every history step."""
    with conn.transaction():
        _incident(conn, incident_id)
        row = conn.execute(q("op_incident_detail"), {"id": incident_id}).fetchone()
        row["reports"] = conn.execute(q("op_incident_reports"), {"id": incident_id}).fetchall()
        row["events"] = events_of(conn, incident_id)
    return row
