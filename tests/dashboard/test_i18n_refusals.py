"""Every refusal code grid/ can raise has a Chinese and an English text that formats with its parameters."""

from __future__ import annotations

import re

import pytest

from dashboard import i18n
from grid import routing
from grid.lifecycle import ACTIONS, LADDER, Role, Status, TransitionError, check
from grid.reassign import ReassignError
from grid.refusals import PARAMS, Code

# One plausible value per parameter name. Codes and names that are shown as they are use digits only,
# so whatever Latin text is left in a Chinese sentence must be an untranslated word.
SAMPLES = {
    "action": "close", "status": "dispatched", "role": "dispatcher", "allowed": ["redispatch", "cancel"],
    "anyone": ["accept", "redispatch", "return"], "final": False, "from_statuses": ["resolved"],
    "actions": ["verify", "dispatch"], "roles": ["dispatcher", "supervisor", "admin"], "family": "dispute",
    "level": "street", "expected": "community", "escalation": ["community", "street", "district"],
    "queue": "community", "assignment_role": "primary", "other_role": "backup",
    "where": "440310001001", "scope": "440310002", "area": "440310001001", "ref": "0/1", "worker": "0001",
    "user": "0007", "base_grid": "440310001001002", "sub_grid": "44031000100102", "community": "440310001001",
    "sub_grid_community": "440310002001", "incident_community": "440310001002", "codes": ["44031000100101"], "warning": 17, "matter": "DSP-NEIGHBOR",
    "detail": "sub-grid 44031000100101 has no base grid",
}
# Parameters whose sample is an English sentence by nature (the database's words, a legacy refusal).
ENGLISH_BY_NATURE = {"detail"}


def _latin_left(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{2,}", text)


@pytest.mark.parametrize("code", list(Code))
def test_every_code_has_both_languages_and_formats_with_its_parameters(code):
    zh, en = i18n.REFUSALS[code.value]
    assert zh.strip() and en.strip()
    # A template may only name parameters the code declares: anything else would fail at run time.
    for template in (zh, en):
        assert set(re.findall(r"\{(\w+)", template)) <= set(PARAMS[code]), template
    params = {name: SAMPLES[name] for name in PARAMS[code]}
    text_zh = i18n.refusal(code, params, "zh", default="DEFAULT")
    text_en = i18n.refusal(code, params, "en", default="DEFAULT")
    assert text_zh != "DEFAULT" and text_en != "DEFAULT"
    if not set(PARAMS[code]) & ENGLISH_BY_NATURE:
        assert _latin_left(text_zh) == [], text_zh
    assert re.search(r"[\u4e00-\u9fff]", text_zh), text_zh  # Chinese, not the English sentence passed through
    assert not re.search(r"[\u4e00-\u9fff]", text_en), text_en


def test_the_catalogue_knows_exactly_the_codes():
    assert set(i18n.REFUSALS) == {c.value for c in Code}
    assert set(PARAMS) == set(Code)
    assert set(SAMPLES) >= {name for names in PARAMS.values() for name in names}


def test_every_value_a_refusal_can_name_has_a_label():
    # Refusals list actions, statuses, roles, levels and queues: a new table row needs its words too.
    missing = [f"{prefix}.{v}" for prefix, values in [
        ("action", ACTIONS), ("status", [s.value for s in Status]), ("role", [r.value for r in Role]),
        ("level", [lv.value for lv in LADDER]), ("queue", [q.value for q in routing.Queue]),
    ] for v in values if f"{prefix}.{v}" not in i18n.CATALOGUE]
    assert missing == []


def test_a_refusal_of_the_table_reads_wholly_in_each_language():
    with pytest.raises(TransitionError) as info:
        check("dispatched", "close", "dispatcher")
    zh = i18n.refused(info.value, "zh")
    assert zh == ("操作被拒绝：事件当前为“已分拨”，不能“核查结案”：只能在已处置状态下进行。调度员在此状态下可以："
                  "重新分拨、取消、督办升级（所有角色可做：重新分拨、接收、退回、取消、督办升级）")
    en = i18n.refused(info.value, "en")
    assert en == ("Refused: cannot close an incident that is dispatched: only allowed from resolved; from here "
                  "the dispatcher role may: re-dispatch, cancel, escalate (any role: re-dispatch, accept, return, "
                  "cancel, escalate)")
    assert str(info.value).startswith("cannot close an incident in status 'dispatched'")  # logs stay English


def test_a_final_status_says_so_instead_of_an_empty_list():
    with pytest.raises(TransitionError) as info:
        check("closed", "reopen", "supervisor", note="again")
    assert i18n.refusal(info.value.code, info.value.params, "zh").endswith("“已结案”为终态，不能再进行任何操作")
    assert i18n.refusal(info.value.code, info.value.params, "en").endswith("closed is final: nothing is allowed from it")


def test_operation_refusals_translate_their_roles():
    err = ReassignError("w1 is a grid_worker: only admin, dispatcher, supervisor may move base grids",
                        Code.OP_NOT_OPERATOR, user="w1", role="grid_worker", roles=["admin", "dispatcher", "supervisor"])
    assert i18n.refusal(err.code, err.params, "zh") == "w1 的角色是网格员：只有管理员、调度员、网格督导可以进行此操作"
    held = ReassignError("x", Code.OP_HOLDS_OTHER_ROLE, worker="W003", other_role="backup", sub_grid="44031000100101")
    assert "备岗" in i18n.refusal(held.code, held.params, "zh")


@pytest.mark.parametrize("lang, expected", [("zh", "该操作不被允许"), ("en", "cannot fly: no wings")])
def test_a_refusal_without_its_own_code_falls_back(lang, expected):
    # A raise site that gave no code: English readers get its sentence, Chinese readers no English at all.
    err = TransitionError("cannot fly: no wings")
    assert i18n.refusal(err.code, err.params, lang) == expected
    assert i18n.refusal("transition.not_a_code", {}, lang, default="fallback") == "fallback"
