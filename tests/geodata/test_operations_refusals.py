"""Every refusal the database-side checks give (geodata.transitions, geodata.operations) carries its code.

Against real PostGIS: each case sets up the incident it needs, is refused, writes nothing, and its
code and parameters say it for people (the dashboard renders them; English stays in `str()`).
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from dashboard.i18n import refusal
from geodata import operations
from geodata.transitions import StaleTransition, apply_transition
from grid.reassign import Operator
from grid.refusals import Code, Refusal
from tests.geodata.test_operations import B1, C1, SG1, SG2, _counts, _incident, shared, shared_url  # noqa: F401
from tests.grid.refusal_checks import assert_refusal


def _outside(conn) -> str:
    """A citizen report beyond the district: no grid codes, waiting on the district queue."""
    iid = uuid.uuid4()
    with conn.transaction():
        conn.execute("INSERT INTO incident (id, matter_code, source, status, priority, queue, geom, outside, "
                     "observed_at) VALUES (%s, 'DSP-NEIGHBOR', 'open311', 'reported', 2, 'district', "
                     "ST_SetSRID(ST_MakePoint(113.9, 22.5), 4326), true, now())", (iid,))
    return str(iid)


def _set(conn, iid: str, assignments: str) -> str:
    with conn.transaction():
        conn.execute(f"UPDATE incident SET {assignments} WHERE id = %s", (iid,))
    return iid


def _op(conn, user: str) -> Operator:
    return operations.load_operator(conn, user)


STALE = {Code.LEVEL_MOVED, Code.NO_CLOCK, Code.NOT_DUE}
# (case, code, expected params, setup -> the refused call). Each lambda gets the connection.
CASES = [
    ("verify off the verification queue", Code.NOT_ON_VERIFICATION, {"queue": "district", "status": "reported"},
     lambda c: operations.verify(c, _op(c, "disp"), _incident(c, status="reported", worker=None, queue="district"))),
    ("reset the clock without a reason", Code.RESET_NEEDS_NOTE, {"action": "redispatch"},
     lambda c: operations.dispatch(c, _op(c, "disp"), _incident(c), target_worker="W002", reset_clock=True)),
    ("dispatch to a worker who does not exist", Code.NO_ACTIVE_WORKER, {"worker": "W404"},
     lambda c: operations.dispatch(c, _op(c, "disp"), _incident(c), target_worker="W404")),
    ("dispatch to the verification queue", Code.QUEUE_NEEDS_WORKER, {"queue": "verification"},
     lambda c: operations.dispatch(c, _op(c, "disp"), _incident(c), target_queue="verification")),
    ("community queue for a case in no community", Code.NO_COMMUNITY, {"action": "dispatch"},
     lambda c: operations.dispatch(c, _op(c, "disp"), _outside(c), target_queue="community")),
    ("route a case outside the district", Code.OUTSIDE_DISTRICT, {"status": "reported"},
     lambda c: operations.dispatch(c, _op(c, "disp"), _outside(c))),
    ("preview outside a supervisor's scope", Code.OUT_OF_SCOPE, {"where": C1, "scope": "440310002"},
     lambda c: operations.do_action(c, _op(c, "sup_street2"), _incident(c), "redispatch", preview=True)),
    ("transition outside a supervisor's scope", Code.OUT_OF_SCOPE, {"where": C1, "scope": "440310002"},
     lambda c: apply_transition(c, _incident(c), "redispatch", "sup_street2", "supervisor", scope="440310002")),
    ("evidence outside the media directory", Code.BAD_MEDIA, {"ref": "../secret.jpg", "role": "grid_worker"},
     lambda c: apply_transition(c, _incident(c), "accept", "w1", "grid_worker", media=["../secret.jpg"],
                                actor_worker="W001")),
    ("escalate past the top of the ladder", Code.TOP_OF_LADDER,
     {"level": "district", "escalation": ["community", "street"]},
     lambda c: operations.do_action(c, _op(c, "disp"), _set(c, _incident(c), "level = 'district'"), "escalate")),
    ("escalate a level that moved", Code.LEVEL_MOVED, {"level": "grid", "expected": "street"},
     lambda c: apply_transition(c, _incident(c), "escalate", "deadlines", "system", expect_level="street")),
    ("warn a case with no clock", Code.NO_CLOCK, {"action": "warn"},
     lambda c: apply_transition(c, _set(c, _incident(c, status="returned", worker=None, queue="community"),
                                        "dispatched_at = NULL, due_at = NULL"), "warn", "deadlines", "system")),
    ("warn a case not yet due", Code.NOT_DUE, {"action": "warn", "status": "dispatched"},
     lambda c: apply_transition(c, _incident(c), "warn", "deadlines", "system")),
    ("an account claiming the system role", Code.OP_SYSTEM_ROLE, {"user": "bot"},
     lambda c: operations.do_action(c, Operator("bot", "system"), _incident(c), "close")),
    ("no such account", Code.OP_NO_USER, {"user": "nobody"}, lambda c: _op(c, "nobody")),
    ("a disabled account", Code.OP_USER_DISABLED, {"user": "gone"}, lambda c: _op(c, "gone")),
    ("a move without a reason", Code.OP_REASON_REQUIRED, {},
     lambda c: operations.move_base_grid(c, _op(c, "disp"), B1, SG2, reason=" ")),
    ("no such base grid", Code.OP_NO_BASE_GRID, {"base_grid": C1 + "999"},
     lambda c: operations.move_base_grid(c, _op(c, "disp"), C1 + "999", SG2, reason="try")),
    ("no such sub-grid", Code.OP_NO_SUB_GRID, {"sub_grid": C1 + "77"},
     lambda c: operations.move_base_grid(c, _op(c, "disp"), B1, C1 + "77", reason="try")),
    ("no such grid worker", Code.OP_NO_WORKER, {"worker": "W404"},
     lambda c: operations.assign_grid_worker(c, _op(c, "disp"), SG1, "W404", reason="try")),
    # The console passes the browser's worker code: the server checks where that worker works.
    ("dispatch to a worker outside the supervisor's area", Code.WORKER_OUT_OF_SCOPE,
     {"worker": "W009", "community": "440310002001", "scope": C1},
     lambda c: operations.dispatch(c, _op(c, "sup_c1"), _incident(c), target_worker="W009")),
    ("preview a dispatch outside the supervisor's area", Code.WORKER_OUT_OF_SCOPE, {"worker": "W009", "scope": C1},
     lambda c: operations.dispatch(c, _op(c, "sup_c1"), _incident(c), target_worker="W009", preview=True)),
    ("transition to a worker outside the supervisor's area", Code.WORKER_OUT_OF_SCOPE, {"worker": "W009"},
     lambda c: apply_transition(c, _incident(c), "redispatch", "sup_c1", "supervisor", target_worker="W009",
                                scope=C1)),
    ("dispatch to a worker of another community", Code.WORKER_OTHER_COMMUNITY,
     {"worker": "W009", "community": "440310002001", "incident_community": C1},
     lambda c: operations.dispatch(c, _op(c, "disp"), _incident(c), target_worker="W009")),
]


@pytest.mark.parametrize("case, code, params, call", CASES, ids=[c[0] for c in CASES])
def test_refusal_carries_its_code_and_writes_nothing(shared, case, code, params, call):
    before = _counts(shared)
    with pytest.raises(Refusal) as err:
        call(shared)
    shared.rollback()
    # Only the setup's own incident may be new: the refused change itself wrote nothing.
    after = _counts(shared)
    assert (after["audit"], after["events"], after["assignments"], after["grid"]) == (
        before["audit"], before["events"], before["assignments"], before["grid"])
    assert_refusal(err.value, code, **params)
    # The deadline worker tells a benign race from a real refusal by class; codes do not change that.
    assert isinstance(err.value, StaleTransition) == (code in STALE)
    # What the desk reads: the code renders in Chinese, the English sentence is only for the log.
    zh = refusal(err.value.code, err.value.params, "zh")
    assert zh != code.value and "cannot" not in zh and str(err.value) not in zh


def test_a_grid_rule_refused_at_commit_names_its_codes(shared):
    # The deferred triggers speak English; the codes in their message are what any language can show.
    with pytest.raises(psycopg.errors.CheckViolation) as db_err:
        with shared.transaction():
            shared.execute("UPDATE base_grid SET sub_grid_code = %s WHERE sub_grid_code = %s", (SG2, SG1))
    err = operations._commit_check(db_err.value)
    assert str(err) == f"the grid rules refused it: sub-grid {SG1} has no base grid"
    assert_refusal(err, Code.OP_GRID_RULES, codes=[SG1], detail=f"sub-grid {SG1} has no base grid")
    assert refusal(err.code, err.params, "zh") == f"网格规则不允许此调整（涉及 {SG1}）"
