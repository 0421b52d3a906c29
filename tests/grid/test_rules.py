"""grid.rules: each rule as a table of (input, expected violation code), and a district-sized grid."""

import numpy as np
import pytest
import shapely
import shapely.affinity

from grid import rules

C1 = "440310001001"
COMMUNITY = shapely.box(114.30, 22.65, 114.32, 22.67)
D = 1e-5  # about 1 m


def box(x0, y0, x1, y1):
    return shapely.box(x0, y0, x1, y1)


def codes_of(violations):
    return [v.code for v in violations]


@pytest.mark.parametrize(
    "level, code, name, parent, expected",
    [
        ("district", "440310", "坪山区", None, []),
        ("district", "44031", "坪山区", None, ["bad_code_format"]),
        ("street", "440310001", "坪山街道", "440310", []),
        ("street", "4403100011", "坪山街道", "440310", ["bad_code_format"]),
        ("community", "440310001001", "六和", "440310001", []),
        ("community", "440310001001", "六和", "440310002", ["parent_mismatch"]),
        ("community", "44031000100A", "六和", "440310001", ["bad_code_format"]),
        ("base_grid", "440310001001001", "网格", C1, []),
        ("base_grid", "44031000100101", "网格", C1, ["bad_code_format"]),
        ("sub_grid", "44031000100101", "综治网格", C1, []),
        ("sub_grid", "440310001001001", "综治网格", C1, ["bad_code_format"]),
        ("base_grid", None, "网格", C1, ["missing_field"]),
        ("base_grid", "440310001001001", None, C1, ["missing_field"]),
        ("base_grid", "440310001001001", "网格", None, ["missing_field"]),
    ],
)
def test_code_rules(level, code, name, parent, expected):
    found = rules.check_codes(level, [code], [name], [parent] if level != "district" else None)
    assert codes_of(found) == expected
    for v in found:
        assert v.params["index"] == 0 and v.message.startswith("feature 0")


def test_duplicate_codes_are_reported_once_per_repeat():
    found = rules.check_codes("base_grid", [C1 + "001", C1 + "002", C1 + "001"], ["a", "b", "c"], [C1] * 3)
    assert [(v.code, v.params["index"]) for v in found] == [("duplicate_code", 2)]


@pytest.mark.parametrize(
    "geom, expected, reason_part",
    [
        (box(114.30, 22.65, 114.31, 22.66), None, None),
        (shapely.MultiPolygon([box(114.30, 22.65, 114.31, 22.66)]), None, None),
        (shapely.Polygon(), "empty_geometry", None),
        (None, "empty_geometry", None),
        (shapely.Point(114.3, 22.6), "not_polygon", None),
        (shapely.LineString([(114.3, 22.6), (114.4, 22.7)]), "not_polygon", None),
        (shapely.Polygon([(114.30, 22.65), (114.31, 22.66), (114.31, 22.65), (114.30, 22.66)]),
         "invalid_geometry", "Self-intersection"),
    ],
)
def test_geometry_rules(geom, expected, reason_part):
    found = rules.check_geometries([geom])
    assert codes_of(found) == ([expected] if expected else [])
    if reason_part:
        assert reason_part in found[0].params["reason"] and reason_part in found[0].message


@pytest.mark.parametrize(
    "geom, expected, reason_part",
    [
        (box(114.30, 22.65, 114.31, 22.66), None, None),
        (box(812_000, 2_510_000, 813_000, 2_511_000), "coordinates_out_of_range", None),  # projected metres
        (box(114.30, 95.0, 114.31, 95.1), "coordinates_out_of_range", None),
        (box(22.65, 114.30, 22.66, 114.31), "coordinates_out_of_range", None),  # swapped: lat 114 is impossible
        (box(22.65, 80.30, 22.66, 80.31), "wrong_crs_suspected", "swapped"),  # swapped yet in range
        (box(2.35, 48.85, 2.36, 48.86), "wrong_crs_suspected", "outside China"),
    ],
)
def test_coordinate_rules(geom, expected, reason_part):
    found = rules.check_coordinates([geom])
    assert codes_of(found) == ([expected] if expected else [])
    if reason_part:
        assert reason_part in found[0].params["reason"]


@pytest.mark.parametrize(
    "geom, expected",
    [
        (box(114.30, 22.65, 114.31, 22.66), []),
        (box(114.30 - 0.5 * D, 22.65, 114.31, 22.66), []),  # half a metre out: within tolerance
        (box(114.30 - 5 * D, 22.65, 114.31, 22.66), ["outside_parent"]),  # five metres out
        (box(114.40, 22.65, 114.41, 22.66), ["outside_parent"]),
    ],
)
def test_inside_parent(geom, expected):
    found = rules.check_inside_parent("base_grid", [C1 + "001"], [C1], [geom], {C1: COMMUNITY})
    assert codes_of(found) == expected
    if expected:
        assert found[0].params["parent"] == C1 and found[0].params["outside_m2"] > 0


def test_unknown_parent_is_reported():
    found = rules.check_inside_parent("base_grid", [C1 + "001"], ["440310009009"],
                                      [box(114.30, 22.65, 114.31, 22.66)], {C1: COMMUNITY})
    assert codes_of(found) == ["parent_missing"]
    assert found[0].params["parent"] == "440310009009"


@pytest.mark.parametrize(
    "second, parent, expected",
    [
        (box(114.31, 22.65, 114.32, 22.66), C1, []),  # shares an edge
        # Half a metre along a 1.1 km edge is about 600 m²: an overlap, not a slip.
        (box(114.31 - 0.5 * D, 22.65, 114.32, 22.66), C1, ["overlaps_sibling"]),
        (box(114.305, 22.65, 114.315, 22.66), C1, ["overlaps_sibling"]),
        (box(114.302, 22.652, 114.303, 22.653), C1, ["overlaps_sibling"]),  # contained
        (box(114.305, 22.65, 114.315, 22.66), "440310001002", []),  # other community: not a sibling
    ],
)
def test_sibling_overlap(second, parent, expected):
    first = box(114.30, 22.65, 114.31, 22.66)
    found = rules.check_overlaps([C1 + "001", C1 + "002"], [C1, parent], [first, second])
    assert codes_of(found) == expected
    if expected:
        assert {found[0].params["value"], found[0].params["other"]} == {C1 + "001", C1 + "002"}


def test_tiny_overlap_is_tolerated():
    first = box(114.30, 22.65, 114.31, 22.66)
    corner = box(114.31 - 0.5 * D, 22.66 - 0.5 * D, 114.32, 22.67)  # about 0.3 m²
    assert rules.check_overlaps([C1 + "001", C1 + "002"], [C1, C1], [first, corner]) == []


def test_overlap_with_a_stored_sibling():
    found = rules.check_overlaps([C1 + "003"], [C1], [box(114.305, 22.65, 114.315, 22.66)],
                                 other_codes=[C1 + "001"], other_parents=[C1],
                                 other_geoms=[box(114.30, 22.65, 114.31, 22.66)])
    assert [(v.code, v.params["index"], v.params["other"]) for v in found] == [("overlaps_sibling", 0, C1 + "001")]


def test_children_left_outside_a_new_parent_shape():
    found = rules.check_children_inside("community", [C1], [box(114.30, 22.65, 114.31, 22.67)], "base_grid",
                                        [C1 + "001", C1 + "002"], [C1, C1],
                                        [box(114.30, 22.65, 114.31, 22.66), box(114.31, 22.65, 114.32, 22.66)])
    assert [(v.code, v.params["child"]) for v in found] == [("children_outside", C1 + "002")]


def tiles(community, x0, n=4):
    return [(f"{community}{k + 1:03d}", box(x0 + k * 0.005, 22.65, x0 + (k + 1) * 0.005, 22.66)) for k in range(n)]


@pytest.mark.parametrize(
    "sub_polys, expected",
    [
        ([box(114.30, 22.64, 114.31, 22.67), box(114.31, 22.64, 114.32, 22.67)], []),
        ([box(114.30, 22.64, 114.315, 22.67)], ["base_grid_uncovered"]),  # last tile's centroid outside
        # The last tile's centroid is in both; the second polygon then gets no base grid of its own.
        ([box(114.30, 22.64, 114.32, 22.67), box(114.315, 22.64, 114.32, 22.67)],
         ["ambiguous_sub_grid", "sub_grid_empty"]),
        ([box(114.30, 22.64, 114.32, 22.67), box(114.33, 22.64, 114.34, 22.67)], ["sub_grid_empty"]),
    ],
)
def test_sub_grid_assignment(sub_polys, expected):
    base = tiles(C1, 114.30)
    subs = [f"{C1}{k + 1:02d}" for k in range(len(sub_polys))]
    result = rules.assign_base_grids([c for c, _ in base], [C1] * 4, [g for _, g in base],
                                     subs, [C1] * len(subs), sub_polys)
    assert sorted(codes_of(result.violations)) == expected
    if not expected:
        assert result.sub_grid_of == {C1 + "001": C1 + "01", C1 + "002": C1 + "01",
                                      C1 + "003": C1 + "02", C1 + "004": C1 + "02"}


def test_sub_grid_polygon_of_another_community_does_not_take_a_base_grid():
    base = tiles(C1, 114.30, n=2)
    result = rules.assign_base_grids([c for c, _ in base], [C1, C1], [g for _, g in base],
                                     ["44031000100201"], ["440310001002"], [box(114.30, 22.64, 114.31, 22.67)],
                                     required_communities=set())
    assert codes_of(result.violations) == ["crosses_community", "crosses_community", "sub_grid_empty"]
    assert result.sub_grid_of == {}


def test_feature_lines_group_reasons_by_feature():
    found = rules.check_codes("base_grid", [C1 + "01", None], [None, "b"], [C1, C1])
    lines = rules.feature_lines(found)
    assert len(lines) == 2
    assert lines[0].startswith(f"feature 0 ({C1}01): ") and "name" in lines[0] and "not a base_grid code" in lines[0]
    assert lines[1].startswith("feature 1: ") and "'code'" in lines[1]


def test_violation_params_render_in_another_language():
    v = rules.violation("outside_parent", index=3, value=C1 + "004", parent=C1, parent_level="community",
                        outside_m2=12.5, tolerance_m=1.0)
    zh = "第{index}个要素 {value} 超出所属社区 {parent}".format(**v.params)
    assert zh == f"第3个要素 {C1}004 超出所属社区 {C1}"
    assert v.message == f"feature 3 ({C1}004): lies outside its community {C1} by 12.5 m² (tolerance 1 m)"


def test_1500_base_grids_find_exactly_the_one_planted_overlap():
    communities, codes, parents, geoms = {}, [], [], []
    for c in range(24):
        x0, y0 = 114.26 + (c % 6) * 0.03, 22.61 + (c // 6) * 0.04
        cc = f"440310{c // 4 + 1:03d}{c % 4 + 1:03d}"
        communities[cc] = box(x0, y0, x0 + 0.03, y0 + 0.04)
        for k in range(63):
            i, j = k % 7, k // 7
            codes.append(f"{cc}{k + 1:03d}")
            parents.append(cc)
            geoms.append(box(x0 + i * 0.03 / 7, y0 + j * 0.04 / 9, x0 + (i + 1) * 0.03 / 7, y0 + (j + 1) * 0.04 / 9))
    geoms[5] = shapely.affinity.translate(geoms[5], 0.001)  # one planted overlap
    found = (rules.check_codes("base_grid", codes, codes, parents) + rules.check_geometries(geoms)
             + rules.check_coordinates(geoms) + rules.check_inside_parent("base_grid", codes, parents, geoms, communities)
             + rules.check_overlaps(codes, parents, np.asarray(geoms, dtype=object)))
    assert len(codes) == 1512
    assert [(v.code, v.params["value"], v.params["other"]) for v in found] == [("overlaps_sibling", codes[5], codes[6])]
