"""The line editor's save check: counting lines validated as video.config validates a camera, refusals in the user's language.

Same reasoning as zone_check.py: the camera worker loads `camera.config` through `CameraConfig`, so the
editor saves only lines that model accepts, and names the line and the problem when it refuses.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from dashboard.i18n import t
from dashboard.pages.cameras.zone_check import _ENVELOPE, _what
from video.config import CameraConfig

logger = logging.getLogger(__name__)

def check_lines(lines, lang: str) -> tuple[list[dict] | None, str | None]:
    """The lines as the camera config stores them, or None and the first refusal as a sentence in `lang`."""
    try:
        cfg = CameraConfig.model_validate({**_ENVELOPE, "lines": lines})
    except ValidationError as exc:
        errors = [e for e in exc.errors() if e["loc"][:1] == ("lines",)]
        if not errors:  # cannot happen with the fixed envelope; refuse rather than save blind
            logger.error("line check failed outside the lines: %s", exc)
            return None, str(exc).splitlines()[0]
        return None, describe(errors[0], lines, lang)
    return [ln.model_dump() for ln in cfg.lines], None


def _line_name(lines, i) -> str:
    try:
        return str(lines[i].get("name") or "") or "#" + str(i + 1)
    except (AttributeError, IndexError, KeyError, TypeError):
        return "#" + str(i + 1)


def describe(err: dict, lines, lang: str) -> str:
    """One pydantic error of `lines` as '<where>: <what>' in `lang`, naming the line."""
    loc, kind = err["loc"][1:], err["type"]
    if not loc:
        if kind == "value_error":  # the camera-level check: line names unique
            names = [_line_name(lines, i) for i in range(len(lines))]
            twice = sorted({n for n in names if names.count(n) > 1})
            return t("cameras.err_line_names_twice", lang, names=(", " if lang == "en" else "、").join(twice))
        if kind == "too_long":
            return t("cameras.err_lines_many", lang, n=(err.get("ctx") or {}).get("max_length", 16))
        return t("cameras.err_lines_not_list", lang)
    where = t("cameras.err_line", lang, line=_line_name(lines, loc[0]))
    field = loc[1] if len(loc) > 1 and isinstance(loc[1], str) else "line"
    if kind == "value_error":
        # video.config's own validators: the field they sit on says which check it was.
        key = {"points": "cameras.err_line_simple", "line": "cameras.err_line_side"}.get(field)
        if key:
            return t("cameras.err_at", lang, where=where, what=t(key, lang))
    if kind == "too_short" and field in ("points", "classes"):
        key = "cameras.hint_line_min2" if field == "points" else "cameras.err_line_classes"
        return t("cameras.err_at", lang, where=where, what=t(key, lang))
    if kind == "too_long" and field == "points":
        return t("cameras.err_at", lang, where=where,
                 what=t("cameras.err_many_vertices", lang, n=(err.get("ctx") or {}).get("max_length", 16)))
    if field in ("points", "in_side") and len(loc) > 2:
        if field == "points":
            where = t("cameras.err_line_point", lang, line=_line_name(lines, loc[0]), n=loc[2] + 1)
        field = "vertex"
    return t("cameras.err_at", lang, where=where, what=_what(kind, field, err, lang))
