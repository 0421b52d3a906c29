"""The zone editor's rule form: one row of controls per rule kind, to and from a zone's `rules` list.

Pure functions, so the page callback only routes values. Text fields keep what the operator typed
when it is not a number: the save check then refuses it with a sentence, instead of the form
silently falling back to a default.
"""

from __future__ import annotations

from typing import get_args

from video.config import RuleKind

RULE_KINDS: tuple[str, ...] = get_args(RuleKind)
# Controls per kind, in the order the page lists them (their ids: cameras-rule-<kind>-<control>).
CONTROLS = ("on", "seconds", "auto", "matter")
PEOPLE_KIND = "crowd"  # the only kind with min_people (video.config.Rule)


def control_id(kind: str, control: str) -> str:
    """The component id of one control of one rule kind."""
    return f"cameras-rule-{kind}-{control}"


def form_ids() -> list[str]:
    """Every rule-form component id, in the order the callback passes their values."""
    return [control_id(k, c) for c in CONTROLS for k in RULE_KINDS] + [control_id(PEOPLE_KIND, "people")]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def form_values(zone: dict | None) -> list:
    """The form's values for `zone` (no zone: everything off and empty), in form_ids() order."""
    rules = {r.get("kind"): r for r in (zone or {}).get("rules") or [] if isinstance(r, dict)}
    values: dict[str, list] = {c: [] for c in CONTROLS}
    for kind in RULE_KINDS:
        rule = rules.get(kind)
        values["on"].append(["on"] if rule is not None else [])
        values["seconds"].append(_text((rule or {}).get("seconds")))
        values["auto"].append(["auto"] if (rule or {}).get("dispatch") == "auto" else [])
        values["matter"].append(_text((rule or {}).get("matter")))
    people = (rules.get(PEOPLE_KIND) or {}).get("min_people")
    return [v for c in CONTROLS for v in values[c]] + [_text(people)]


def _number(text):
    """A typed number as int or float; blank is None (the kind's default); other text is kept for the check."""
    text = str(text if text is not None else "").strip()
    if not text:
        return None
    try:
        num = float(text)
    except ValueError:
        return text
    return int(num) if num.is_integer() else num


def apply_form(zone: dict, values: list) -> dict:
    """`zone` with its rules rebuilt from the form values (form_ids() order); other zone keys untouched."""
    n = len(RULE_KINDS)
    by_control = {c: values[i * n:(i + 1) * n] for i, c in enumerate(CONTROLS)}
    people = values[len(CONTROLS) * n]
    before = {r.get("kind"): r for r in zone.get("rules") or [] if isinstance(r, dict)}
    # Kept rules stay where they were; newly ticked kinds go to the end, in the form's order.
    order = list(dict.fromkeys([r.get("kind") for r in zone.get("rules") or [] if isinstance(r, dict)]
                               + list(RULE_KINDS)))
    rules = []
    for kind in order:
        if kind not in RULE_KINDS:
            rules.append(before[kind])  # an unknown kind typed in the JSON view: the check will name it
            continue
        i = RULE_KINDS.index(kind)
        if "on" not in (by_control["on"][i] or []):
            continue
        # Start from the stored rule so keys the form does not show survive (and get checked).
        rule = {k: v for k, v in (before.get(kind) or {}).items()
                if k not in ("seconds", "dispatch", "matter", "min_people")}
        rule["kind"] = kind
        for key, value in (("seconds", _number(by_control["seconds"][i])),
                           ("matter", str(by_control["matter"][i] or "").strip() or None),
                           ("min_people", _number(people) if kind == PEOPLE_KIND else None)):
            if value is not None:
                rule[key] = value
        if "auto" in (by_control["auto"][i] or []):
            rule["dispatch"] = "auto"
        rules.append(rule)
    return {**zone, "rules": rules}
