"""The transition table: every allowed pair works, every other pair is refused with a useful message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grid.lifecycle import (ACTIONS, FINAL_STATUSES, LADDER, TRANSITIONS, Level, Role, Status,
                            TransitionError, allowed_actions, check, next_level, out_of_scope, refusal, transition)
from grid.refusals import Code
from tests.grid.refusal_checks import assert_refusal

NOTE = "checked on site"

ALLOWED = [(t.action, st, role) for t in TRANSITIONS for st in sorted(t.from_statuses) for role in sorted(t.roles)]
REFUSED_ROLE = [(t.action, st, role) for t in TRANSITIONS for st in sorted(t.from_statuses)
                for role in Role if role not in t.roles]
REFUSED_STATUS = [(t.action, st) for t in TRANSITIONS for st in Status if st not in t.from_statuses]


def _family(role: Role) -> str:
    return "maintenance" if role is Role.MAINTENANCE else "hazard"


@pytest.mark.parametrize(("action", "status", "role"), ALLOWED)
def test_every_allowed_transition_passes(action, status, role):
    t = check(status, action, role, is_owner=True, family=_family(role), note=NOTE)
    assert t.action == action
    expected = t.to_status or status
    assert t.target(status) is expected


@pytest.mark.parametrize(("action", "status"), REFUSED_STATUS)
def test_every_pair_outside_the_table_is_refused(action, status):
    with pytest.raises(TransitionError) as info:
        check(status, action, Role.ADMIN, family="maintenance", note=NOTE)
    msg = str(info.value)
    assert f"'{status.value}'" in msg
    assert info.value.status == status.value
    assert info.value.allowed == tuple(allowed_actions(status, Role.ADMIN))
    # The same refusal for people: code and parameters, the statuses it needs in table order.
    params = assert_refusal(info.value, Code.WRONG_STATUS, action=action, status=status.value, role="admin",
                            allowed=allowed_actions(status, Role.ADMIN), final=status in FINAL_STATUSES)
    assert params["from_statuses"] == [s.value for s in Status if s in transition(action).from_statuses]
    if status in FINAL_STATUSES:
        assert "final" in msg
    else:
        # The message lists what is allowed from here.
        for other in allowed_actions(status):
            assert other in msg


@pytest.mark.parametrize(("action", "status", "role"), REFUSED_ROLE)
def test_every_role_outside_the_table_is_refused(action, status, role):
    with pytest.raises(TransitionError) as info:
        check(status, action, role, family=_family(role), note=NOTE)
    assert f"'{status.value}'" in str(info.value)
    assert f"role {role.value} may not {action}" in str(info.value)
    assert_refusal(info.value, Code.WRONG_ROLE, action=action, status=status.value, role=role.value)


def test_table_covers_the_loop_and_every_status_is_reachable():
    assert set(ACTIONS) >= {"dispatch", "redispatch", "accept", "start", "resolve", "close", "return",
                            "cancel", "escalate", "verify", "warn", "overdue", "reopen"}
    reachable = {Status.REPORTED} | {t.to_status for t in TRANSITIONS if t.to_status}
    assert reachable == set(Status)
    assert allowed_actions(Status.CLOSED) == [] and allowed_actions(Status.CANCELLED) == []


@pytest.mark.parametrize(("status", "action", "role", "fragment"), [
    (Status.RESOLVED, "close", Role.GRID_WORKER, "role grid_worker may not close"),
    (Status.DISPATCHED, "accept", Role.WALL, "a wall may: nothing"),
    (Status.DISPATCHED, "accept", Role.SUPERVISOR, "a supervisor may: redispatch, cancel, escalate"),
    (Status.DISPATCHED, "warn", Role.DISPATCHER, "role dispatcher may not warn"),
    (Status.REPORTED, "dispatch", Role.GRID_WORKER, "role grid_worker may not dispatch"),
])
def test_wrong_role_is_refused_naming_status_and_role(status, action, role, fragment):
    with pytest.raises(TransitionError) as info:
        check(status, action, role, family="hazard", note=NOTE)
    assert f"'{status.value}'" in str(info.value)
    assert fragment in str(info.value)
    assert info.value.role == role.value


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_no_role_but_admin_and_desk_may_close(role):
    if role in (Role.DISPATCHER, Role.SUPERVISOR):
        assert check(Status.RESOLVED, "close", role).to_status is Status.CLOSED
    else:
        with pytest.raises(TransitionError, match="may not close"):
            check(Status.RESOLVED, "close", role, family="maintenance")


def test_grid_worker_acts_only_on_own_tasks():
    assert check(Status.DISPATCHED, "accept", Role.GRID_WORKER, is_owner=True).to_status is Status.ACCEPTED
    with pytest.raises(TransitionError, match="only accept own tasks") as info:
        check(Status.DISPATCHED, "accept", Role.GRID_WORKER, is_owner=False)
    assert_refusal(info.value, Code.NOT_OWNER, allowed=["accept", "return"])


def test_maintenance_only_on_maintenance_cases():
    assert check(Status.DISPATCHED, "accept", "maintenance", family="maintenance").action == "accept"
    with pytest.raises(TransitionError, match="maintenance cases, not dispute") as info:
        check(Status.DISPATCHED, "accept", "maintenance", family="dispute")
    assert_refusal(info.value, Code.MAINTENANCE_ONLY, family="dispute", role="maintenance")


@pytest.mark.parametrize(("status", "action", "role"), [
    (Status.IN_PROGRESS, "return", Role.GRID_WORKER),
    (Status.DISPATCHED, "cancel", Role.DISPATCHER),
    (Status.RESOLVED, "reopen", Role.SUPERVISOR),
])
@pytest.mark.parametrize("note", [None, "", "   "])
def test_return_cancel_reopen_need_a_reason(status, action, role, note):
    with pytest.raises(TransitionError, match="needs a reason") as info:
        check(status, action, role, note=note)
    assert_refusal(info.value, Code.NEEDS_NOTE, action=action, status=status.value)
    assert check(status, action, role, note="wrong community").action == action


def test_unknown_action_and_role_name_the_status():
    with pytest.raises(TransitionError, match="unknown action 'fly'.*'dispatched'.*accept") as info:
        check("dispatched", "fly", "dispatcher")
    assert_refusal(info.value, Code.UNKNOWN_ACTION, action="fly", allowed=["redispatch", "cancel", "escalate"])
    with pytest.raises(TransitionError, match="unknown role 'mayor'.*'dispatched'") as info:
        check("dispatched", "accept", "mayor")
    # The roles offered are those an account can have: `system` is never a login.
    assert_refusal(info.value, Code.UNKNOWN_ROLE, role="mayor", roles=[r.value for r in Role if r is not Role.SYSTEM])
    with pytest.raises(TransitionError, match="unknown action 'fly'; actions are") as info:
        transition("fly")
    assert_refusal(info.value, Code.NO_SUCH_ACTION, action="fly", actions=list(ACTIONS))


def test_what_others_may_do_leaves_out_the_workers_own_actions():
    with pytest.raises(TransitionError) as info:
        check(Status.DISPATCHED, "close", Role.SUPERVISOR)
    # The English keeps the whole table row; the people-facing list drops warn, overdue and the like.
    assert "warn" in str(info.value)
    anyone = info.value.params["anyone"]
    assert set(anyone) == {a for a in allowed_actions(Status.DISPATCHED)
                           if transition(a).roles - {Role.SYSTEM}}
    assert "accept" in anyone and "warn" not in anyone and "overdue" not in anyone
    assert info.value.params["final"] is False


def test_refusals_beyond_the_table_keep_the_sentence_and_carry_a_code():
    err = out_of_scope("dispatched", "redispatch", "supervisor", "440310001001", "440310002")
    assert str(err) == ("cannot redispatch an incident in status 'dispatched': it lies in 440310001001, outside "
                        "this supervisor's scope 440310002")
    assert_refusal(err, Code.OUT_OF_SCOPE, where="440310001001", scope="440310002", role="supervisor")
    nowhere = out_of_scope(Status.REPORTED, "dispatch", Role.SUPERVISOR, "", "440310002")
    assert "it lies in no community" in str(nowhere) and nowhere.params["where"] is None

    class Late(TransitionError):
        pass

    late = refusal(Code.NOT_DUE, "accepted", "warn", "not due", cls=Late)
    assert isinstance(late, Late) and str(late) == "cannot warn an incident in status 'accepted': not due"
    assert_refusal(late, Code.NOT_DUE, status="accepted", action="warn")


def test_a_refusal_without_a_code_still_carries_its_words():
    # Someone else's raise site that predates the codes: the dashboard can still show the English.
    err = TransitionError("cannot fly: no wings", status="dispatched", action="fly")
    assert_refusal(err, Code.REFUSED, detail="cannot fly: no wings")
    with pytest.raises(ValueError, match="not a valid Code"):
        TransitionError("x", code="transition.made_up")


@pytest.mark.parametrize(("current", "ladder", "expected"), [
    ("grid", ["community", "street", "district"], Level.COMMUNITY),
    ("community", ["community", "street", "district"], Level.STREET),
    ("street", ["community", "street", "district"], Level.DISTRICT),
    ("district", ["community", "street", "district"], None),
    ("grid", ["street", "district"], Level.STREET),
    ("community", ["district"], Level.DISTRICT),
    ("grid", [], None),
    ("grid", ["district", "community"], Level.COMMUNITY),
])
def test_escalation_ladder(current, ladder, expected):
    assert next_level(current, ladder) == expected


def test_ladder_order():
    assert [lv.value for lv in LADDER] == ["grid", "community", "street", "district"]


def _words(cell: str) -> set[str]:
    return {w.strip() for w in re.sub(r"\(.*?\)", "", cell).split(",") if w.strip()}


def _doc_rows() -> dict[str, tuple[set[str], str, set[str]]]:
    text = (Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\| `(\w+)` \| (.+?) \| (.+?) \| (.+?) \|", line)
        if m:
            rows[m.group(1)] = (_words(m.group(2)), m.group(3).strip(), _words(m.group(4)))
    return rows


def test_docs_table_matches_the_code():
    rows = _doc_rows()
    assert set(rows) == set(ACTIONS)
    for t in TRANSITIONS:
        froms, to, roles = rows[t.action]
        assert froms == {s.value for s in t.from_statuses}, t.action
        assert to == (t.to_status.value if t.to_status else "(unchanged)"), t.action
        assert roles == {r.value for r in t.roles}, t.action
