"""Analysis results (分析研判) as the wall and the console show them: scoped layers, warnings, red/black lists."""

from __future__ import annotations

import logging

from dash import html

from dashboard import data
from dashboard.access import SessionUser
from dashboard.components import fmt_time
from dashboard.i18n import label, t
from dashboard.maps import feature_collection
from geodata import analysis_repo

logger = logging.getLogger(__name__)

FAMILIES = ("crime", "dispute", "hazard")
LATTICES = ("square200", "sub_grid")
WINDOW_DAYS = 30
DISTRICT_CODE_LEN = 6
# Hot in reds, cold in blues, stronger for higher confidence (the usual Gi* map colours).
CLASS_COLOURS = {"hot_99": "#d7191c", "hot_95": "#f46d43", "hot_90": "#fdae61",
                 "cold_90": "#abd9e9", "cold_95": "#74add1", "cold_99": "#2c7bb6"}
# Emerging classes: one hue per pattern; hot patterns warm, cold ones cool (drawn as outlines).
PATTERN_COLOURS = {
    "new_hot": "#ff00ff", "consecutive_hot": "#ff7a45", "intensifying_hot": "#ff1744",
    "persistent_hot": "#ffd600", "diminishing_hot": "#ffab91", "sporadic_hot": "#f48fb1",
    "oscillating_hot": "#ce93d8", "historical_hot": "#bcaaa4",
    "new_cold": "#00e5ff", "consecutive_cold": "#40c4ff", "intensifying_cold": "#2979ff",
    "persistent_cold": "#69f0ae", "diminishing_cold": "#b2ebf2", "sporadic_cold": "#80cbc4",
    "oscillating_cold": "#9fa8da", "historical_cold": "#90a4ae",
}


def code_in_scope(user: SessionUser, code: str | None) -> bool:
    """True when an area code (street, community, sub-grid) lies in the user's area or contains it."""
    if user.district_wide:
        return True
    if not code:
        return False
    return code.startswith(user.scope_code) or user.scope_code.startswith(code)


def hotspot_layer(conn, user: SessionUser, display, family: str | None = None, lattice: str = "square200",
                  window_days: int = WINDOW_DAYS) -> tuple[dict, list[str]]:
    """Hot and cold cells as a FeatureCollection (colour by class) and the classes present.

    With no family, every family's cells are drawn and a cell hot for several keeps its strongest z.
    """
    rows = data.hotspot_cells(conn, user, lattice, family, window_days)
    best: dict[str, dict] = {}
    for r in rows:  # already ordered by |z| descending: the first row of a cell is its strongest
        best.setdefault(r["cell"], r)
    fc = feature_collection(best.values(), "geojson", display, lambda r: {
        "cell": r["cell"], "family": r["family"], "cls": r["class"], "z": round(float(r["z"]), 2),
        "colour": CLASS_COLOURS.get(r["class"], "#888")})
    present = [c for c in CLASS_COLOURS if any(r["class"] == c for r in best.values())]
    return fc, present


def emerging_layer(conn, user: SessionUser, display, family: str | None = None,
                   lattice: str = "square200") -> tuple[dict, list[str]]:
    """Emerging-hot-spot cells as a FeatureCollection (colour by pattern) and the patterns present."""
    rows = data.emerging_cells(conn, user, lattice, family)
    best: dict[str, dict] = {}
    for r in rows:
        best.setdefault(r["cell"], r)
    fc = feature_collection(best.values(), "geojson", display, lambda r: {
        "cell": r["cell"], "family": r["family"], "pattern": r["pattern"],
        "colour": PATTERN_COLOURS.get(r["pattern"], "#ffffff")})
    present = [p for p in PATTERN_COLOURS if any(r["pattern"] == p for r in best.values())]
    return fc, present


def open_warnings(conn, user: SessionUser, limit: int = 50) -> list[dict]:
    """Open early warnings in the user's area, rising and repeat first, newest first."""
    rows = analysis_repo.warnings(conn, "open", limit=500)
    return [w for w in rows if code_in_scope(user, w["community_code"] or w["street_code"]
                                             or w["sub_grid_code"])][:limit]


def warning_text(w: dict, lang: str) -> str:
    """One warning as a sentence: what, where and how much."""
    d = w.get("details") or {}
    matter = (w.get("matter_name_en") if lang == "en" else w.get("matter_name")) or w.get("matter_code") or ""
    if w["kind"] == "rising":
        what = t("warning.rising", lang, matter=matter, current=d.get("current", "?"),
                 expected=d.get("expected_per_week", "?"))
    elif w["kind"] == "repeat":
        what = t("warning.repeat", lang, matter=matter, count=d.get("count", "?"), days=d.get("days", "?"),
                 radius=d.get("radius_m", "?"))
    else:
        what = t("warning.camera_blind", lang)
    return f"{w.get('community_name') or w.get('area_code') or ''} · {what}"


def red_black(conn, user: SessionUser, level: str, n: int = 3) -> dict[str, list[dict]]:
    """District-wide red (best) and black (worst) lists of the latest run for a level, in the user's area."""
    rows = [r for r in analysis_repo.ranking(conn, level)
            if len(r["within_code"]) == DISTRICT_CODE_LEN and code_in_scope(user, r["code"])]
    return {lst: [r for r in rows if r["list"] == lst][:n] for lst in ("red", "black")}


def computed_label(conn, lang: str, tz: str) -> str:
    """When the shown results were computed, or that there are none yet."""
    run = analysis_repo.latest_run(conn)
    if run is None:
        return t("analysis.no_run", lang)
    return t("analysis.computed", lang, at=fmt_time(run["computed_at"], tz, True))


def make_legend(page: str, classes: list[str], patterns: list[str], lang: str) -> html.Div:
    """Legend of the hot/cold classes (filled) and emerging patterns (outlined) on the map now."""
    items = [html.Span([html.I(style={"background": CLASS_COLOURS[c]}), label("class", c, lang)],
                       className="gw-legend-item") for c in classes]
    items += [html.Span([html.I(className="gw-legend-ring", style={"borderColor": PATTERN_COLOURS[p]}),
                         label("pattern", p, lang)], className="gw-legend-item") for p in patterns]
    return html.Div(items, className="gw-legend gw-analysis-legend", id=f"{page}-legend-items")


def make_warning_list(page: str, warnings: list[dict], lang: str, tz: str, *, actions: bool) -> html.Ul:
    """Open warnings; on the console each has make-case and dismiss buttons."""
    if not warnings:
        return html.Ul([html.Li(t("analysis.no_warnings", lang))], className="gw-warnings", id=f"{page}-warning-list")
    items = []
    for w in warnings:
        parts = [html.Span(fmt_time(w["created_at"], tz, True), className="gw-ticker-time"),
                 html.Span(warning_text(w, lang), className=f"gw-warning-{w['kind']}")]
        if actions:
            parts += [html.Button(t("analysis.make_case", lang), n_clicks=0,
                                  id={"type": f"{page}-warning-case", "index": w["id"]}),
                      html.Button(t("analysis.dismiss", lang), n_clicks=0, className="gw-secondary",
                                  id={"type": f"{page}-warning-dismiss", "index": w["id"]})]
        items.append(html.Li(parts, **{"data-warning-id": str(w["id"]), "data-kind": w["kind"]}))
    return html.Ul(items, className="gw-warnings", id=f"{page}-warning-list")


def make_red_black(page: str, lists_by_level: dict[str, dict[str, list[dict]]], lang: str) -> html.Table:
    """Red and black lists side by side, one block of rows per level (street, community)."""
    rows = []
    for level, lists in lists_by_level.items():
        rows.append(html.Tr(html.Th(t(f"reports.level.{level}", lang), colSpan=2)))
        for i in range(max(len(lists["red"]), len(lists["black"]), 1)):
            cells = []
            for lst in ("red", "black"):
                r = lists[lst][i] if i < len(lists[lst]) else None
                text = "—" if r is None else f"{r['rank']}. {r['name'] or r['code']} {_pct(r['on_time_rate'])}"
                cells.append(html.Td(text, className=f"gw-{lst}"))
            rows.append(html.Tr(cells))
    head = html.Tr([html.Th(t("analysis.red", lang), className="gw-red"),
                    html.Th(t("analysis.black", lang), className="gw-black")])
    return html.Table([html.Thead(head), html.Tbody(rows)], className="gw-redblack", id=f"{page}-redblack-table")


def _pct(v) -> str:
    return "—" if v is None else f"{100 * float(v):.1f}%"
