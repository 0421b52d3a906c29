"""The wall's map layers taking turns, each with its own legend; a storm keeps clusters few and apart."""

from __future__ import annotations

import math

from dash import html

from dashboard.i18n import label, t

# The order the wall shows them in; assets/wall.js turns them every TURN_S seconds.
TURNS = ("live", "analysis", "cameras", "workers")
TURN_S = 15
FAMILY_COLOURS = {"crime": "#ff4d4f", "dispute": "#faad14", "hazard": "#36cfc9", "maintenance": "#9254de"}
HEALTH_COLOURS = {"online": "#52c41a", "degraded": "#faad14", "offline": "#ff4d4f", "unknown": "#8c8c8c"}
# Cells for clusters: ~400 m in quiet times; wider as open incidents grow, so that a storm of tens of
# thousands still gives some tens of circles with room between them rather than a lattice.
BASE_CELL_DEG = 0.004
QUIET_OPEN = 300
MAX_CELL_FACTOR = 5.0
MAX_CLUSTERS = 300


def cluster_cell(open_count: int) -> float:
    """The cell size (degrees) for this many open incidents."""
    if open_count <= QUIET_OPEN:
        return BASE_CELL_DEG
    return BASE_CELL_DEG * min(MAX_CELL_FACTOR, math.sqrt(open_count / QUIET_OPEN))


def _swatch(colour: str, text: str, ring: bool = False) -> html.Span:
    style = {"borderColor": colour} if ring else {"background": colour}
    return html.Span([html.I(className="gw-legend-ring" if ring else "", style=style), text],
                     className="gw-legend-item")


def live_legend(lang: str) -> list:
    """Families by colour, what the number and the red ring mean."""
    return [_swatch(c, t(f"wall.family.{f}", lang)) for f, c in FAMILY_COLOURS.items()] + [
        html.Span(t("wall.legend.cluster", lang), className="gw-legend-item"),
        _swatch("#ff4d4f", t("wall.legend.overdue", lang), ring=True)]


def camera_legend(cams: list[dict], lang: str) -> list:
    """Health colours with how many cameras are in each."""
    counts = {h: 0 for h in HEALTH_COLOURS}
    for c in cams:
        counts[c["health"] if c["health"] in counts else "unknown"] += 1
    return [_swatch(HEALTH_COLOURS[h], f"{label('health', h, lang)} {n}") for h, n in counts.items() if n] + [
        html.Span(t("wall.legend.coverage", lang), className="gw-legend-item")]


def worker_legend(workers: list[dict], lang: str) -> list:
    """On duty and off duty, counted."""
    on = sum(1 for w in workers if w["on_duty"])
    return [_swatch("#95de64", t("wall.legend.on_duty", lang, n=on)),
            _swatch("#595959", t("wall.legend.off_duty", lang, n=len(workers) - on))]
