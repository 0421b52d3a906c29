"""The zone editor's pure parts: refusals of video.config put in the operator's words, and the rule form."""

from __future__ import annotations

import pytest

from dashboard.pages.cameras.editor import make_zone_form
from dashboard.pages.cameras.zone_check import check_zones
from dashboard.pages.cameras.zone_form import RULE_KINDS, apply_form, control_id, form_ids, form_values
from grid.camera_matters import RULE_MATTERS
from video.config import RuleKind

SQUARE = [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4], [0.1, 0.4]]
BOW_TIE = [[0.1, 0.1], [0.4, 0.4], [0.4, 0.1], [0.1, 0.4]]


def zone(name="gate", polygon=SQUARE, rules=None, **extra) -> dict:
    return {"name": name, "polygon": polygon, "rules": rules if rules is not None else [{"kind": "intrusion"}], **extra}


@pytest.mark.parametrize("zones,lang,refusal", [
    ([zone(polygon=BOW_TIE)], "zh", "区域“gate”：多边形的边相互交叉或面积为零，请调整顶点"),
    ([zone(polygon=BOW_TIE)], "en", "zone “gate”: the polygon crosses itself or has no area; move its vertices"),
    ([zone(polygon=[[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]])], "zh", "区域“gate”：多边形的边相互交叉或面积为零，请调整顶点"),
    ([zone(polygon=[[0.1, 0.1], [0.2, 0.2]])], "zh", "区域“gate”：至少需要 3 个顶点"),
    ([zone(polygon=[[0.1, 0.1], [1.2, 0.1], [0.4, 0.4]])], "zh", "区域“gate”第 2 个顶点：坐标不能大于 1"),
    ([zone(polygon=[[0.1, -0.1], [0.4, 0.1], [0.4, 0.4]])], "en",
     "vertex 1 of zone “gate”: the coordinate must be at least 0"),
    ([zone(), zone()], "zh", "区域名称重复：gate"),
    ([zone(name="")], "zh", "区域“#1”：名称不能为空"),
    ([zone(rules=[{"kind": "intrusion"}, {"kind": "intrusion"}])], "zh", "区域“gate”：同一种规则只能设置一次"),
    ([zone(rules=[{"kind": "crowd", "seconds": "abc"}])], "zh", "区域“gate”的“人员聚集”规则：持续秒数须为数字"),
    ([zone(rules=[{"kind": "crowd", "min_people": 1}])], "zh", "区域“gate”的“人员聚集”规则：最少人数不能小于 2"),
    ([zone(rules=[{"kind": "loitering", "min_people": 3}])], "zh",
     "区域“gate”的“徘徊”规则：只有人群聚集规则可设置最少人数"),
    ([zone(rules=[{"kind": "loitering", "seconds": 90000}])], "en",
     "the loitering rule of zone “gate”: the seconds must be at most 86400"),
    ([zone(rules=[{"kind": "fire"}])], "zh", "区域“gate”的“fire”规则：规则类型不是可选的值"),
    ([zone(rules=[{"kind": "crowd", "colour": "red"}])], "zh", "区域“gate”的“人员聚集”规则：未知字段 colour"),
    ([zone(note="x")], "zh", "区域“gate”：未知字段 note"),
    ({"gate": SQUARE}, "zh", "区域须为列表，每个区域是一个对象"),
])
def test_refusals_name_the_zone_in_the_users_language(zones, lang, refusal):
    assert check_zones(zones, lang) == (None, refusal)


def test_accepted_zones_come_back_as_the_config_stores_them():
    clean, why = check_zones([zone(rules=[{"kind": "crowd", "min_people": 8, "seconds": 20}])], "zh")
    assert why is None
    assert clean == [{"name": "gate", "polygon": SQUARE,
                      "rules": [{"kind": "crowd", "seconds": 20.0, "min_people": 8, "dispatch": "manual"}]}]


def test_form_lists_every_rule_kind_of_the_config():
    assert RULE_KINDS == ("intrusion", "loitering", "crowd", "object_left", "vehicle_stopped")
    assert set(RULE_KINDS) == set(RuleKind.__args__)
    assert len(form_ids()) == len(form_values(None)) == 4 * len(RULE_KINDS) + 1


def _form(**controls) -> list:
    """Form values in form_ids() order: everything off, then the given id suffixes set."""
    values = dict(zip(form_ids(), form_values(None)))
    values.update({f"cameras-rule-{k.replace('__', '-')}": v for k, v in controls.items()})
    return [values[i] for i in form_ids()]


@pytest.mark.parametrize("rules,controls,expected", [
    # Ticking a kind adds it at the end; the kept rule keeps its place and its other keys.
    ([{"kind": "loitering", "seconds": 45}], {"loitering__on": ["on"], "loitering__seconds": "45",
                                              "crowd__on": ["on"], "crowd__people": "8"},
     [{"kind": "loitering", "seconds": 45}, {"kind": "crowd", "min_people": 8}]),
    # Unticking removes it; blank seconds means the kind's default (the key is left out).
    ([{"kind": "intrusion", "seconds": 3}, {"kind": "crowd"}], {"crowd__on": ["on"], "crowd__seconds": " "},
     [{"kind": "crowd"}]),
    # Auto dispatch, a matter code, a fractional duration.
    ([], {"object_left__on": ["on"], "object_left__auto": ["auto"], "object_left__matter": " hazard_dump ",
          "object_left__seconds": "7.5"},
     [{"kind": "object_left", "seconds": 7.5, "matter": "hazard_dump", "dispatch": "auto"}]),
    # Text that is no number is kept as typed, for the save check to refuse by name.
    ([], {"vehicle_stopped__on": ["on"], "vehicle_stopped__seconds": "two minutes"},
     [{"kind": "vehicle_stopped", "seconds": "two minutes"}]),
])
def test_apply_form(rules, controls, expected):
    assert apply_form(zone(rules=rules), _form(**controls))["rules"] == expected


def test_form_round_trip_keeps_rules():
    rules = [{"kind": "crowd", "seconds": 20.0, "min_people": 8, "dispatch": "auto", "matter": "crime_crowd"},
             {"kind": "intrusion"}]
    z = zone(rules=rules)
    again = apply_form(z, form_values(z))
    assert again == {**z, "rules": [{"kind": "crowd", "seconds": 20, "matter": "crime_crowd", "min_people": 8,
                                     "dispatch": "auto"}, {"kind": "intrusion"}]}
    assert check_zones([again], "zh")[1] is None


def test_matter_placeholders_are_the_domains_table():
    form = make_zone_form("en", editable=True)
    placeholders = {c.id: getattr(c, "placeholder", None) for c in form._traverse() if getattr(c, "id", None)}
    shown = {kind: placeholders[control_id(kind, "matter")] for kind in RULE_KINDS}
    assert shown == {kind: RULE_MATTERS[kind] for kind in RULE_KINDS}
