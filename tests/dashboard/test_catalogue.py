"""One catalogue: every key the code asks for exists in both languages; grid rule codes are covered."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard import i18n
from dashboard.maps import Display
from grid.rules import MESSAGES

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def test_every_key_used_in_code_is_in_the_catalogue():
    used = set()
    for path in DASHBOARD.rglob("*.py"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z_0-9]+)["']""", path.read_text(encoding="utf-8")))
    assert len(used) > 50
    assert sorted(used - set(i18n.CATALOGUE)) == []


def test_both_languages_everywhere():
    for key, (zh, en) in i18n.CATALOGUE.items():
        assert zh and en, key
        assert re.findall(r"\{(\w+)", zh) == re.findall(r"\{(\w+)", en) or set(re.findall(r"\{(\w+)", zh)) == set(
            re.findall(r"\{(\w+)", en)), key


def test_grid_rule_codes_are_translated():
    assert set(i18n.VIOLATIONS) == set(MESSAGES)
    text = i18n.violation("overlaps_sibling", {"other": "440310001001002", "area_m2": 12.345}, lang="zh")
    assert text == "与 440310001001002 重叠 12.3 平方米"
    assert i18n.violation("no_such_code", {}, default="english default") == "english default"


@pytest.mark.parametrize("key,lang,params,expected", [
    ("wall.stale", "zh", {"n": 7}, "数据已 7 秒未更新"),
    ("wall.stale", "en", {"n": 7}, "data 7 s old"),
    ("field.pending", "zh", {"n": 2}, "待发送 2 条"),
    ("no.such_key", "en", {}, "no.such_key"),
])
def test_lookup(key, lang, params, expected):
    assert i18n.t(key, lang, **params) == expected


def test_printed_labels_are_the_catalogues_pairs():
    # The paper says what the screen says: the on-time rate is 按期结案率 on both.
    assert i18n.bilingual("col.on_time_rate") == "按期结案率 (on-time rate)"
    assert i18n.bilingual("col.on_time_rate", "%") == "按期结案率 % (on-time rate)"
    assert i18n.bilingual("reports.level.sub_grid") == "综治网格 (sub-grid)"
    assert i18n.bilingual("col.mean_dispatch_min") == "平均分拨（分钟） (mean to dispatch, min)"


def test_display_shift_for_gcj02_tiles():
    plain, gcj = Display("wgs84"), Display("gcj02")
    assert plain.point(114.35, 22.70) == (114.35, 22.70)
    lon, lat = gcj.point(114.35, 22.70)
    # GCJ-02 moves Shenzhen a few hundred metres (east about 0.005 deg, north about -0.003 deg)
    assert 0.003 < lon - 114.35 < 0.007 and -0.005 < lat - 22.70 < 0.0
    back = gcj.to_wgs84(lon, lat)
    assert abs(back[0] - 114.35) < 1e-6 and abs(back[1] - 22.70) < 1e-6
    moved = gcj.message({"type": "incident", "lon": 114.35, "lat": 22.70, "id": "x"})
    assert (moved["lon"], moved["lat"]) == (lon, lat) and moved["id"] == "x"
    square = '{"type":"Polygon","coordinates":[[[114.3,22.6],[114.4,22.6],[114.4,22.7],[114.3,22.6]]]}'
    assert gcj.geojson_geom(square)["coordinates"][0][0][0] == pytest.approx(114.3 + (lon - 114.35), abs=5e-4)
