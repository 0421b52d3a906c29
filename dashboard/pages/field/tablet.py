"""The tablet's JSON beyond the plain task list: where a task is, its photos, and the open cases a new
report would merge into (the nearby-case prompt). The Flask routes in dashboard/routes.py serve them."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import flask

from dashboard import access, context, data, numbers
from dashboard.components import matter_name
from dashboard.i18n import label, t
from grid import merging

logger = logging.getLogger(__name__)

MAX_PHOTOS = 12


def place(row: dict, lang: str) -> str:
    """Street · community · base grid of a row, in the language (names fall back to Chinese)."""
    parts = []
    for key in ("street", "community"):
        name = (row.get(f"{key}_en") if lang == "en" else None) or row.get(key)
        if name:
            parts.append(name)
    if row.get("base_grid"):
        parts.append(f"{row['base_grid']} ({row['base_grid_code']})" if row.get("base_grid_code") else row["base_grid"])
    return " · ".join(parts)


def stored_photos(refs) -> list[str]:
    """Media paths this server keeps (Open311 links are not photos to show), at most MAX_PHOTOS."""
    return [m for m in (refs or []) if isinstance(m, str) and "://" not in m][:MAX_PHOTOS]


def not_duplicate_of(raw: str | None) -> list[str] | None:
    """The case ids of the form field `not_duplicate_of` (comma-separated UUIDs); None when malformed."""
    if not raw:
        return []
    out = []
    for part in raw.split(","):
        try:
            out.append(numbers.uuid_text(part.strip(), "not_duplicate_of"))
        except numbers.BadNumber:
            return None
    if len(out) > merging.MAX_NOT_DUPLICATE_OF:
        return None
    return sorted(set(out))


def nearby(user: access.SessionUser, matter: str, lon: float, lat: float, lang: str,
           now: datetime | None = None) -> list[dict]:
    """The open cases a report of `matter` at lon/lat (WGS84) would merge into, nearest first, among the
    cases the worker may see; each with what the worker needs to recognise it."""
    now = now or datetime.now(timezone.utc)
    with context.pool().connection() as conn:
        rows = data.field_nearby_cases(conn, user.worker_code, matter, lon, lat, now)
    if not rows:
        return []
    rule = merging.MergeRule(float(rows[0]["merge_radius_m"]), float(rows[0]["merge_window_min"]))
    by_id = {r["id"]: r for r in rows}
    report = merging.Report(matter, lon, lat, now)
    hits = merging.duplicates(report, [merging.Candidate(r["id"], r["matter_code"], r["status"], r["lon"], r["lat"],
                                                         r["last_report_at"]) for r in rows], rule)
    out = []
    for cand in hits[:merging.MAX_NOT_DUPLICATE_OF]:
        r = by_id[cand.incident_id]
        out.append({"id": r["id"], "matter": matter_name(r, lang), "status": r["status"],
                    "status_label": label("status", r["status"], lang), "description": r["description"] or "",
                    "distance_m": round(merging.distance_m(lon, lat, r["lon"], r["lat"]), 1),
                    "report_count": r["report_count"], "place": place(r, lang),
                    "last_report_at": r["last_report_at"].isoformat(),
                    "photos": stored_photos(r["media"])[:1], "pos": list(context.display().point(r["lon"], r["lat"]))})
    return out


@access.route_guard("/field/api/nearby")
def nearby_view():
    """GET matter, lon, lat (crs=display for a map tap on GCJ-02 tiles): the nearby-case prompt's cases."""
    user = context.user()
    args = flask.request.args
    lang = context.lang()
    if not args.get("lon") or not args.get("lat"):
        return flask.jsonify({"ok": False, "error": t("field.need_position", lang), "code": "field.need_position"}), 400
    try:
        # ASCII digits only: float() would read "１１４.３" too (dashboard/numbers.py).
        lon, lat = numbers.decimal(args.get("lon"), "lon"), numbers.decimal(args.get("lat"), "lat")
    except numbers.BadNumber as exc:
        return flask.jsonify({"ok": False, "error": t(exc.key, lang, **exc.params), "code": exc.key}), 400
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return flask.jsonify({"ok": False, "error": t("field.need_position", lang), "code": "field.need_position"}), 400
    if args.get("crs") == "display":
        lon, lat = context.display().to_wgs84(lon, lat)
    matter = args.get("matter") or ""
    if not matter or len(matter) > 64:
        return flask.jsonify({"ok": False, "error": t("field.need_matter", lang), "code": "field.need_matter"}), 400
    cases = nearby(user, matter, lon, lat, lang)
    logger.info("nearby cases for %s at %.5f,%.5f (%s): %s", user.username, lon, lat, matter, len(cases))
    return flask.jsonify({"ok": True, "cases": cases})
