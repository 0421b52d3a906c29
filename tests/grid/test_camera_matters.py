"""One camera contract: what video reports (rule kinds, health checks) has one matter each, in grid's table.

video/ may not import grid/, so the two sides are held together here: grid's list of quality checks is
video's Health model, every rule kind video knows has a matter in RULE_MATTERS, every such matter is in
the demo's matters list, and docs/cameras.md prints the same table.
"""

import re
from pathlib import Path
from typing import get_args

import pytest

from geodata.demo.matters import BY_CODE, MATTERS
from grid.camera_matters import QUALITY_CHECKS, RULE_MATTERS, matter_for
from video.config import Health, RuleKind
from video.quality import CHECKS

DOC = Path(__file__).resolve().parents[2] / "docs" / "cameras.md"


def test_grid_and_video_name_the_same_health_checks_in_the_same_order():
    assert QUALITY_CHECKS == tuple(Health.model_fields) == CHECKS


def test_the_table_holds_exactly_the_rule_kinds_and_the_health_checks():
    assert set(RULE_MATTERS) == set(get_args(RuleKind)) | set(QUALITY_CHECKS)


@pytest.mark.parametrize("kind", [*get_args(RuleKind), *QUALITY_CHECKS])
def test_every_kind_has_a_matter_of_the_demo_list(kind):
    assert RULE_MATTERS[kind] in BY_CODE


def test_health_checks_are_maintenance_and_the_demo_marks_exactly_the_camera_matters():
    assert {BY_CODE[RULE_MATTERS[c]].family for c in QUALITY_CHECKS} == {"maintenance"}
    assert {m.code for m in MATTERS if m.camera} == set(RULE_MATTERS.values())


def test_a_rules_own_matter_wins_over_the_table():
    assert matter_for("crowd", RULE_MATTERS) == "crime_crowd"
    assert matter_for("crowd", RULE_MATTERS, "dispute_neighbour") == "dispute_neighbour"


def test_docs_print_the_one_table():
    text = DOC.read_text(encoding="utf-8")
    assert "grid/camera_matters.py" in text
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| `([a-z_]+)` \|$", text, re.MULTILINE))
    assert rows == RULE_MATTERS
