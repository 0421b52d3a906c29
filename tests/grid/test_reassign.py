"""Pure planning of supervisor operations: who may, what the grid rules refuse, what follows."""

from __future__ import annotations

import pytest

from grid import routing
from grid.reassign import (BaseGrid, Move, OpenIncident, Operator, ReassignError, SubGrid, GridWorkerInfo, check_operator,
                           check_scope, plan_assign, plan_move_base, workload)
from grid.refusals import Code
from tests.grid.refusal_checks import assert_refusal

C1, C2 = "440310001001", "440310002001"
SG1, SG2, SG_OTHER = C1 + "01", C1 + "02", C2 + "01"
BASE = C1 + "001"
DISPATCHER = Operator("disp", "dispatcher")
SUPERVISOR = Operator("sup", "supervisor", "440310001")


def _assignment(primary=None, backup=None, on_duty=True):
    return routing.Assignment(routing.GridWorker(primary, on_duty) if primary else None,
                              routing.GridWorker(backup) if backup else None)


def _incidents():
    return [
        OpenIncident("i-dispatched", "dispatched", "worker", "W001", SG1),
        OpenIncident("i-accepted", "accepted", "worker", "W001", SG1),
        OpenIncident("i-progress", "in_progress", "worker", "W002", SG1),  # already with the new worker
        OpenIncident("i-reported", "reported", "verification", None, SG1),
        OpenIncident("i-resolved", "resolved", "worker", "W001", SG1),
        OpenIncident("i-returned", "returned", "community", None, SG1),
    ]


def test_move_plan_redispatches_working_cases_to_the_new_primary():
    plan = plan_move_base(DISPATCHER, BaseGrid(BASE, C1, SG1), SubGrid(SG1, C1, 2), SubGrid(SG2, C1, 2),
                          _incidents(), _assignment("W002"), {"W001": 5, "W002": 1})
    moves = {m.incident_id: m for m in plan.moves}
    assert {i for i, m in moves.items() if m.redispatch} == {"i-dispatched", "i-accepted"}
    assert moves["i-dispatched"].to_worker == "W002" and moves["i-dispatched"].to_queue == "worker"
    assert not moves["i-progress"].redispatch  # already with W002: nothing to do
    assert moves["i-resolved"].to_worker == "W001"  # done work waits for verification where it is
    assert moves["i-reported"].to_queue == "verification"
    assert plan.workload == {"W001": (5, 3), "W002": (1, 3)}
    assert plan.data["from_sub_grid"] == SG1 and plan.data["to_sub_grid"] == SG2
    assert "2 of 6 open incidents re-dispatched" in plan.summary


def test_move_plan_without_available_worker_goes_to_the_community_queue():
    plan = plan_move_base(DISPATCHER, BaseGrid(BASE, C1, SG1), SubGrid(SG1, C1, 2), SubGrid(SG2, C1, 2),
                          _incidents()[:1], _assignment("W002", on_duty=False), {"W001": 1})
    (move,) = plan.moves
    assert (move.redispatch, move.to_worker, move.to_queue) == (True, None, "community")
    assert plan.workload == {"W001": (1, 0)}


@pytest.mark.parametrize("op, base, source, target, message, code, params", [
    (DISPATCHER, BaseGrid(BASE, C1, SG1), SubGrid(SG1, C1, 2), SubGrid(SG_OTHER, C2, 3),
     f"base grid {BASE} lies in community {C1}; sub-grid {SG_OTHER} belongs to community {C2}",
     Code.OP_CROSSES_COMMUNITY, {"base_grid": BASE, "community": C1, "sub_grid": SG_OTHER, "sub_grid_community": C2}),
    (DISPATCHER, BaseGrid(BASE, C1, SG1), SubGrid(SG1, C1, 1), SubGrid(SG2, C1, 2),
     f"base grid {BASE} is the last base grid of sub-grid {SG1}: moving it would leave {SG1} empty",
     Code.OP_LAST_BASE_GRID, {"base_grid": BASE, "sub_grid": SG1}),
    (DISPATCHER, BaseGrid(BASE, C1, SG1), SubGrid(SG1, C1, 2), SubGrid(SG1, C1, 2),
     f"base grid {BASE} is already in sub-grid {SG1}", Code.OP_ALREADY_IN_SUB_GRID, {"sub_grid": SG1}),
    (Operator("sup2", "supervisor", "440310002"), BaseGrid(BASE, C1, SG1), SubGrid(SG1, C1, 2), SubGrid(SG2, C1, 2),
     f"sup2 is a supervisor of 440310002: may not move base grid {BASE} in {C1}, outside that scope",
     Code.OP_OUT_OF_SCOPE, {"user": "sup2", "scope": "440310002", "area": C1}),
    (Operator("w", "grid_worker", None, "W001"), BaseGrid(BASE, C1, SG1), SubGrid(SG1, C1, 2), SubGrid(SG2, C1, 2),
     "w is a grid_worker: only admin, dispatcher, supervisor may move base grids",
     Code.OP_NOT_OPERATOR, {"role": "grid_worker", "roles": ["admin", "dispatcher", "supervisor"]}),
    (Operator("bot", "system"), BaseGrid(BASE, C1, SG1), SubGrid(SG1, C1, 2), SubGrid(SG2, C1, 2),
     "the system role cannot be claimed", Code.OP_SYSTEM_ROLE, {"user": "bot"}),
    (Operator("x", "mayor"), BaseGrid(BASE, C1, SG1), SubGrid(SG1, C1, 2), SubGrid(SG2, C1, 2),
     "x: unknown role 'mayor'", Code.OP_UNKNOWN_ROLE, {"role": "mayor"}),
])
def test_move_refusals_name_the_codes(op, base, source, target, message, code, params):
    with pytest.raises(ReassignError) as err:
        plan_move_base(op, base, source, target, [], _assignment("W002"), {})
    assert message in str(err.value)
    assert_refusal(err.value, code, **params)


def test_supervisor_inside_scope_may_move():
    plan = plan_move_base(SUPERVISOR, BaseGrid(BASE, C1, SG1), SubGrid(SG1, C1, 2), SubGrid(SG2, C1, 2),
                          [], _assignment("W002"), {})
    assert plan.moves == () and plan.target == BASE


def test_assign_replacement_moves_only_the_replaced_workers_cases():
    incidents = [OpenIncident("a", "accepted", "worker", "W001", SG1),
                 OpenIncident("b", "resolved", "worker", "W001", SG1),
                 OpenIncident("c", "dispatched", "worker", "W001", SG2)]  # another sub-grid: stays
    plan = plan_assign(DISPATCHER, SubGrid(SG1, C1, 2), GridWorkerInfo("W004", C1), "primary",
                       _assignment("W001", "W003"), incidents, {"W001": 2, "W004": 0})
    assert [(m.incident_id, m.redispatch, m.to_worker) for m in plan.moves] == [("a", True, "W004"),
                                                                                ("b", False, "W001")]
    assert plan.workload == {"W001": (2, 1), "W004": (0, 1)}
    assert plan.data["replaced"] == "W001" and plan.data["role"] == "primary"
    assert plan.summary.startswith(f"replace W001 by W004 as primary of sub-grid {SG1}")


def test_assign_to_a_vacant_backup_moves_nothing():
    plan = plan_assign(DISPATCHER, SubGrid(SG2, C1, 2), GridWorkerInfo("W003", C1), "backup",
                       _assignment("W002"), [], {"W003": 0})
    assert plan.moves == () and plan.data["replaced"] is None
    assert plan.workload == {"W003": (0, 0)}


@pytest.mark.parametrize("op, worker, role, message, code, params", [
    (DISPATCHER, GridWorkerInfo("W001", C1), "primary", f"grid worker W001 is already the primary of sub-grid {SG1}",
     Code.OP_ALREADY_ASSIGNED, {"worker": "W001", "assignment_role": "primary", "sub_grid": SG1}),
    (DISPATCHER, GridWorkerInfo("W003", C1), "primary", f"grid worker W003 is the backup of sub-grid {SG1}",
     Code.OP_HOLDS_OTHER_ROLE, {"worker": "W003", "other_role": "backup"}),
    (DISPATCHER, GridWorkerInfo("W009", C2), "primary", f"grid worker W009 works for community {C2}; "
                                                    f"sub-grid {SG1} belongs to community {C1}",
     Code.OP_WORKER_OTHER_COMMUNITY, {"community": C2, "sub_grid_community": C1}),
    (DISPATCHER, GridWorkerInfo("W008", C1, active=False), "backup", "grid worker W008 is retired",
     Code.OP_WORKER_RETIRED, {"worker": "W008"}),
    (DISPATCHER, GridWorkerInfo("W004", C1), "chief", "assignment role must be primary or backup",
     Code.OP_BAD_ASSIGNMENT_ROLE, {"assignment_role": "chief"}),
    (Operator("sup2", "supervisor", "440310002001"), GridWorkerInfo("W004", C1), "primary",
     f"sup2 is a supervisor of 440310002001: may not assign workers of sub-grid {SG1} in {C1}",
     Code.OP_OUT_OF_SCOPE, {"area": C1}),
    (Operator("wall", "wall"), GridWorkerInfo("W004", C1), "primary", "wall is a wall: only",
     Code.OP_NOT_OPERATOR, {"user": "wall", "role": "wall"}),
])
def test_assign_refusals(op, worker, role, message, code, params):
    with pytest.raises(ReassignError) as err:
        plan_assign(op, SubGrid(SG1, C1, 2), worker, role, _assignment("W001", "W003"), [], {})
    assert message in str(err.value)
    assert_refusal(err.value, code, **params)


@pytest.mark.parametrize("scope, area, ok", [
    (None, C1, True), ("440310001", C1, True), (C1, SG1, True), (C1, C2, False), ("440310002", BASE, False),
])
def test_scope_is_a_code_prefix(scope, area, ok):
    op = Operator("s", "supervisor", scope)
    if ok:
        check_scope(op, area, "act")
    else:
        with pytest.raises(ReassignError, match="outside that scope"):
            check_scope(op, area, "act")


def test_dispatcher_and_admin_are_not_scoped():
    for role in ("dispatcher", "admin"):
        op = Operator("x", role, "440310009")
        check_operator(op, "act")
        check_scope(op, C1, "act")  # the scope column only binds supervisors


def test_workload_ignores_relabels_and_counts_unknown_workers_from_zero():
    moves = [Move("a", "accepted", "W1", "W2", "worker", True, ""), Move("b", "resolved", "W1", "W1", "worker", False, ""),
             Move("c", "dispatched", None, "W3", "worker", True, "")]
    assert workload({"W1": 4}, moves) == {"W1": (4, 3), "W2": (0, 1), "W3": (0, 1)}
