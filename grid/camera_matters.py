"""Which matter of the matters list a camera situation is filed under, by rule kind or quality check.

The one camera contract on the domain's side: video/ reports situations by rule kind (its
`video.config.RuleKind`) and health problems by check (the fields of `video.config.Health`); which
matter each becomes is decided here, and only here (tests/grid/test_camera_matters.py holds the two
sides together, since video/ may not import grid/).
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

#: The video quality checks, in the order video diagnoses them; each has a threshold in the camera's `health`.
QUALITY_CHECKS = ("offline", "frozen", "covered", "blurred", "moved")

#: Camera rule kind (and video quality check) -> the matter it raises unless the rule names its own.
#: The zone editor's placeholders and docs/cameras.md show this table.
RULE_MATTERS: dict[str, str] = {
    "intrusion": "crime_intrusion",
    "crowd": "crime_crowd",
    "loitering": "crime_loitering",
    "object_left": "hazard_object_left",
    "vehicle_stopped": "hazard_vehicle_stopped",
    "offline": "maint_camera_offline",
    "frozen": "maint_camera_frozen",
    "covered": "maint_camera_covered",
    "blurred": "maint_camera_blurred",
    "moved": "maint_camera_moved",
}


def resolve_matters(mapping: dict[str, str], known: dict[str, str]) -> dict[str, str]:
    """The mapping checked against the matters list (code -> family).

    A quality check whose matter is not in the list falls back to the first maintenance matter (a
    camera fault is a maintenance case wherever the list files it); a rule kind keeps its code and
    is logged, so ingest dead-letters its events with a reason instead of them vanishing here.
    """
    maintenance = sorted(code for code, family in known.items() if family == "maintenance")
    out = dict(mapping)
    for kind, code in mapping.items():
        if code in known:
            continue
        if kind in QUALITY_CHECKS and maintenance:
            logger.warning("matter %s for camera %s problems is not in the matters list; using %s",
                           code, kind, maintenance[0])
            out[kind] = maintenance[0]
        else:
            logger.error("matter %s for camera rule %s is not in the matters list", code, kind)
    return out


def matter_for(kind: str, mapping: dict[str, str], rule_matter: str | None = None) -> str:
    """The matter code of a situation: the rule's own, else the mapping's for its kind."""
    return rule_matter or mapping[kind]
