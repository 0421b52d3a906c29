"""The zone editor's save check: zones validated as video.config validates a camera, refusals in the user's language.

The camera worker loads `camera.config` through `video.config.CameraConfig`; a zone list that model
refuses would leave the camera unanalysed, so the editor saves only what it accepts and says why not
in Chinese or English (pydantic's own messages are English and name list indexes, not zones).
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from dashboard.i18n import label, t
from video.config import CameraConfig

logger = logging.getLogger(__name__)

# Stand-ins for the identity fields: only the zones are under test, these can never be the reason.
_ENVELOPE = {"code": "zone-check", "url": "file:///zone-check", "lon": 0.0, "lat": 0.0}
# pydantic error type -> catalogue key of the sentence; their ctx limit fills {limit}.
_LIMITS = {"greater_than_equal": ("cameras.err_min", "ge"), "less_than_equal": ("cameras.err_max", "le"),
           "greater_than": ("cameras.err_above", "gt"), "less_than": ("cameras.err_below", "lt")}
_NUMBER_TYPES = {"float_parsing", "float_type", "int_parsing", "int_type", "int_from_float", "finite_number"}


def check_zones(zones, lang: str) -> tuple[list[dict] | None, str | None]:
    """The zones as the camera config stores them, or None and the first refusal as a sentence in `lang`."""
    try:
        cfg = CameraConfig.model_validate({**_ENVELOPE, "zones": zones})
    except ValidationError as exc:
        errors = [e for e in exc.errors() if e["loc"][:1] == ("zones",)]
        if not errors:  # cannot happen with the fixed envelope; refuse rather than save blind
            logger.error("zone check failed outside the zones: %s", exc)
            return None, str(exc).splitlines()[0]
        return None, describe(errors[0], zones, lang)
    return [z.model_dump(exclude_none=True) for z in cfg.zones], None


def _zone_name(zones, i) -> str:
    try:
        return str(zones[i].get("name") or "") or "#" + str(i + 1)
    except (AttributeError, IndexError, KeyError, TypeError):
        return "#" + str(i + 1)


def _rule_kind(zones, i, j, lang: str) -> str:
    try:
        return label("rule", zones[i]["rules"][j]["kind"], lang)
    except (AttributeError, IndexError, KeyError, TypeError):
        return "#" + str(j + 1)


def describe(err: dict, zones, lang: str) -> str:
    """One pydantic error of `zones` as '<where>: <what>' in `lang`, naming the zone, rule or vertex."""
    loc, kind = err["loc"][1:], err["type"]
    if not loc:
        if kind == "value_error":  # the camera-level check: zone names unique
            names = [_zone_name(zones, i) for i in range(len(zones))]
            twice = sorted({n for n in names if names.count(n) > 1})
            return t("cameras.err_names_twice", lang, names=(", " if lang == "en" else "、").join(twice))
        return t("cameras.err_not_list", lang)
    zone = _zone_name(zones, loc[0])
    where, field = t("cameras.err_zone", lang, zone=zone), (loc[1] if len(loc) > 1 else None)
    if field == "rules" and len(loc) > 2:
        where = t("cameras.err_rule", lang, zone=zone, rule=_rule_kind(zones, loc[0], loc[2], lang))
        field = loc[3] if len(loc) > 3 else "rule"
    elif field == "polygon" and len(loc) > 2:
        where, field = t("cameras.err_vertex", lang, zone=zone, n=loc[2] + 1), "vertex"
    elif field is None:
        field = "zone"
    return t("cameras.err_at", lang, where=where, what=_what(kind, field, err, lang))


def _what(kind: str, field: str, err: dict, lang: str) -> str:
    ctx = err.get("ctx") or {}
    # video.config's own validators raise value_error; the field they sit on says which check it was.
    if kind == "value_error":
        key = {"polygon": "cameras.err_self_cross", "rules": "cameras.err_rule_twice",
               "rule": "cameras.err_people_crowd"}.get(field)
        if key:
            return t(key, lang)
    name = label("cameras.field", field, lang)
    if kind in _LIMITS:
        key, bound = _LIMITS[kind]
        return t(key, lang, field=name, limit=f"{ctx.get(bound):g}")
    if kind in _NUMBER_TYPES:
        return t("cameras.err_number", lang, field=name)
    if kind == "too_short" and field == "polygon":
        return t("cameras.err_few_vertices", lang, n=ctx.get("min_length", 3))
    if kind == "too_long" and field == "polygon":
        return t("cameras.err_many_vertices", lang, n=ctx.get("max_length", 64))
    if kind == "string_too_short":
        return t("cameras.err_empty", lang, field=name)
    if kind == "string_too_long":
        return t("cameras.err_long", lang, field=name, n=ctx.get("max_length"))
    if kind == "literal_error":
        return t("cameras.err_choice", lang, field=name)
    if kind == "extra_forbidden":
        return t("cameras.err_unknown", lang, field=field)
    if kind == "missing":
        return t("cameras.err_missing", lang, field=name)
    # Anything else (a wrong JSON type from the power users' view): pydantic's sentence, still placed.
    return err["msg"]
