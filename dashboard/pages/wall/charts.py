"""The wall's three Plotly charts, built as figure dicts from geodata.wall_repo rows.

Fonts are set at their 1920x1080 size; assets/wall.js scales every font to the screen, so a 4K wall
shows them twice as large, as it does all other text.
"""

from __future__ import annotations

from dashboard.i18n import t
from grid.camera_availability import AVAILABILITY_TARGET

FAMILIES = ("crime", "dispute", "hazard", "maintenance")
COLOURS = {"crime": "#ff4d4f", "dispute": "#faad14", "hazard": "#36cfc9", "maintenance": "#9254de"}
FONT = 24  # px at 1920 wide: the wall's smallest text
TEXT, MUTED, GRID = "#e6edf7", "#93a4c3", "#23314f"


def _layout(**extra) -> dict:
    base = {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
            "font": {"size": FONT, "color": TEXT, "family": "Noto Sans CJK SC, sans-serif"},
            "margin": {"l": 8, "r": 8, "t": 8, "b": 8, "pad": 0}, "showlegend": False}
    base.update(extra)
    return base


def _axis(**extra) -> dict:
    return {"gridcolor": GRID, "zeroline": False, "automargin": True, "tickfont": {"size": FONT, "color": MUTED},
            "fixedrange": True, **extra}


def hourly(rows: list[dict], lang: str, now_hour: int) -> dict:
    """Today's incidents per hour stacked by family; each family's 7-day mean of that hour dotted."""
    today = {f: [0] * 24 for f in FAMILIES}
    usual = {f: [0.0] * 24 for f in FAMILIES}
    for r in rows:
        if r["family"] in today:
            today[r["family"]][r["hour"]] = int(r["today"])
            usual[r["family"]][r["hour"]] = float(r["usual"])
    hours = list(range(24))
    data = []
    for f in FAMILIES:
        name = t(f"wall.family.{f}", lang)
        data.append({"type": "bar", "x": hours[:now_hour + 1], "y": today[f][:now_hour + 1], "name": name,
                     "marker": {"color": COLOURS[f]}, "legendgroup": f})
    for f in FAMILIES:
        data.append({"type": "scatter", "mode": "lines", "x": hours, "y": usual[f], "name": "",
                     "line": {"color": COLOURS[f], "dash": "dot", "width": 3, "shape": "spline"},
                     "legendgroup": f, "showlegend": False})
    return {"data": data, "layout": _layout(
        barmode="stack", bargap=0.15, showlegend=True,
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom", "font": {"size": FONT},
                "itemwidth": 30, "bgcolor": "rgba(0,0,0,0)"},
        xaxis=_axis(tickvals=[0, 6, 12, 18, 23], ticktext=["0", "6", "12", "18", "23"], range=[-0.6, 23.6]),
        yaxis=_axis(nticks=4, rangemode="tozero"))}


def on_time(rows: list[dict], lang: str) -> dict:
    """The daily on-time closure rate over the last 30 days, and the whole window's rate as a line."""
    days = [r["day"].isoformat() for r in rows]
    rates = [100.0 * r["on_time"] / r["closed"] if r["closed"] else None for r in rows]
    closed = sum(r["closed"] for r in rows)
    overall = 100.0 * sum(r["on_time"] for r in rows) / closed if closed else None
    data = [{"type": "scatter", "mode": "lines+markers", "x": days, "y": rates, "name": "",
             "line": {"color": "#2f80ed", "width": 3}, "marker": {"size": 6}, "connectgaps": True}]
    shapes, notes = [], []
    if overall is not None:
        shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": overall, "y1": overall,
                       "line": {"color": MUTED, "dash": "dash", "width": 2}})
        notes.append({"xref": "paper", "x": 1, "y": overall, "yanchor": "top", "xanchor": "right",
                      "text": f"{overall:.1f}%", "showarrow": False, "font": {"size": FONT, "color": MUTED}})
    low = min([v for v in rates if v is not None] + [90.0])
    return {"data": data, "layout": _layout(
        shapes=shapes, annotations=notes,
        xaxis=_axis(type="date", nticks=3, tickformat="%m-%d", showgrid=False),
        yaxis=_axis(range=[max(0.0, low - 5), 101], nticks=4, ticksuffix="%"))}


def cameras(rows: list[dict], lang: str) -> dict:
    """Camera availability per street (7 days) as bars, red under the Sharp Eyes 98 % target."""
    rows = sorted([r for r in rows if r["rate"] is not None], key=lambda r: r["rate"])
    target = 100 * AVAILABILITY_TARGET
    rates = [100 * r["rate"] for r in rows]
    names = [(r["name"] or r["code"]).removesuffix("街道") for r in rows]
    colours = ["#52c41a" if v >= target else "#ff4d4f" for v in rates]
    low = max(0.0, min(rates + [target]) - 3)
    # Bars start at the axis' left end, so a street far under target is a long red bar, not a sliver.
    data = [{"type": "bar", "orientation": "h", "x": [v - low for v in rates], "base": low, "y": names,
             "marker": {"color": colours},
             "text": [f"{v:.1f}%" for v in rates], "textposition": "auto", "insidetextanchor": "end",
             "textfont": {"size": FONT}, "insidetextfont": {"size": FONT, "color": "#0b1220"},
             "outsidetextfont": {"size": FONT, "color": TEXT}, "cliponaxis": False, "constraintext": "none", "name": ""}]
    return {"data": data, "layout": _layout(
        bargap=0.2,
        shapes=[{"type": "line", "x0": target, "x1": target, "yref": "paper", "y0": 0, "y1": 1,
                 "line": {"color": "#ffd666", "width": 3, "dash": "dash"}}],
        xaxis=_axis(range=[low, 100.5], nticks=3, ticksuffix="%"),
        yaxis=_axis(showgrid=False))}
