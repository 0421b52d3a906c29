"""The line editor's pure parts: refusals of video.config in the operator's words, and the form's writes."""

from __future__ import annotations

import pytest

from dashboard.pages.cameras.line_check import check_lines
from dashboard.pages.cameras.line_form import clamp_sel, pick_options, with_form


def line(name="gate", points=((0.5, 0.1), (0.5, 0.9)), in_side=(0.8, 0.5), **extra) -> dict:
    return {"name": name, "points": [list(p) for p in points], "in_side": list(in_side), **extra}


@pytest.mark.parametrize("lines,lang,refusal", [
    ([line(in_side=(0.5, 0.5))], "zh", "计数线“gate”：“进”一侧的点不能落在线上"),
    ([line(in_side=(0.5, 0.5))], "en", "line “gate”: the in-side point must lie off the line"),
    ([line(points=((0.2, 0.2), (0.2, 0.2)))], "zh", "计数线“gate”：计数线自相交或长度为零"),
    ([line(points=((0.1, 0.1), (0.9, 0.9), (0.9, 0.1), (0.1, 0.9)))], "en",
     "line “gate”: the line crosses itself or has no length"),
    ([line(points=((0.2, 0.2),))], "zh", "计数线“gate”：计数线至少需要 2 个点"),
    ([line(points=((0.2, 0.2), (1.3, 0.2)))], "zh", "计数线“gate”第 2 个点：坐标不能大于 1"),
    ([line(in_side=(0.8, -0.5))], "en", "line “gate”: the coordinate must be at least 0"),
    ([line(classes=[])], "zh", "计数线“gate”：至少选择一种计数对象（行人或车辆）"),
    ([line(classes=["bicycle"])], "en", "line “gate”: the counted classes is not one of the allowed values"),
    ([line(name="")], "zh", "计数线“#1”：名称不能为空"),
    ([line(), line()], "zh", "计数线名称重复：gate"),
    ([line(), line(), line(name="b"), line(name="b")], "en", "line names must be unique; repeated: b, gate"),
    ([line(name=f"l{i}") for i in range(17)], "zh", "最多 16 条计数线"),
    ("gate", "zh", "计数线须为列表，每条是一个对象"),
    ([line(colour="red")], "en", "line “gate”: unknown key colour"),
    ([{"name": "gate", "points": [[0.5, 0.1], [0.5, 0.9]]}], "zh", "计数线“gate”：缺少“进”一侧"),
])
def test_bad_lines_are_refused_in_the_operators_words(lines, lang, refusal):
    assert check_lines(lines, lang) == (None, refusal)


def test_good_lines_come_back_as_the_config_stores_them():
    clean, why = check_lines([line(), line(name="exit", classes=["vehicle"])], "zh")
    assert why is None
    assert clean == [{"name": "gate", "points": [[0.5, 0.1], [0.5, 0.9]], "in_side": [0.8, 0.5],
                      "classes": ["person", "vehicle"]},
                     {"name": "exit", "points": [[0.5, 0.1], [0.5, 0.9]], "in_side": [0.8, 0.5],
                      "classes": ["vehicle"]}]


def test_the_form_writes_name_and_classes_into_the_line_on_show_only():
    lines = [line(), line(name="exit")]
    changed = with_form(lines, 1, "east exit", ["vehicle", "person", "bicycle"])
    assert changed[0] == lines[0] and lines[1]["name"] == "exit"  # the input list is not touched
    assert changed[1] == {**lines[1], "name": "east exit", "classes": ["person", "vehicle"]}
    assert with_form(lines, None, "x", []) is None and with_form(lines, 2, "x", []) is None
    assert pick_options([line(), {"name": ""}], "en") == [{"label": "gate", "value": 0},
                                                         {"label": "#2 (unnamed)", "value": 1}]
    assert [clamp_sel(s, lines) for s in (None, 1, 5, "0")] == [0, 1, 0, 0]
    assert clamp_sel(0, []) is None
