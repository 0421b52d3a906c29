"""The charts of a reporting period: one set of figures, drawn by Plotly on /reports and as SVG on paper.

`report_charts` is the only place that turns a period's data into figures; the page draws its `Chart`s
with `figure` and the printed report with `chart_svg.svg`, so screen and paper cannot disagree.
Everything is per street (the district has six): the issue asks for cases per street, and a per-level
chart of 300 sub-grids or workers would be a table drawn badly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from grid.camera_availability import AVAILABILITY_TARGET

#: Task families in the order of the three tasks, camera maintenance last; colours read on dark and white.
FAMILY_COLOURS = {"crime": "#e8534f", "dispute": "#e0a100", "hazard": "#1fa39a", "maintenance": "#8e5cd9"}
OTHER_COLOURS = ("#5b8ff9", "#9aa5b8", "#c2703d")
ON_TIME_COLOUR = "#3f9d5a"
CAMERA_COLOURS = {"camera_online_rate": "#2f80ed", "camera_available_rate": "#7fb3f5"}
TARGET_COLOUR = "#d4380d"


@dataclass(frozen=True)
class Series:
    """One set of bars: a value per category (None where there is nothing to measure)."""

    key: str
    name: str
    values: tuple[float | None, ...]
    colour: str


@dataclass(frozen=True)
class Chart:
    """A bar chart over the streets: stacked counts, or rates (0..1) against an optional target."""

    key: str
    title: str
    codes: tuple[str, ...]
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    stacked: bool = False
    percent: bool = False
    target: float | None = None
    target_label: str = ""


def _value(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def report_charts(incidents: pd.DataFrame, streets: pd.DataFrame, label: Callable[[str], str]) -> tuple[Chart, ...]:
    """Cases per street by family, on-time closure and camera availability per street.

    ``streets`` is the street-level indicators table as shown (already kept to the user's area);
    ``incidents`` the period's cases (reports_repo.period_incidents), counted only in those streets so
    each stack adds up to the table's 'incidents'. ``label`` names a catalogue key (screen or paper form).
    """
    codes = tuple(str(c) for c in streets["code"])
    names = tuple(str(n or c) for c, n in zip(streets["code"], streets["name"]))
    mine = incidents[incidents["street_code"].isin(codes)]
    counts = pd.crosstab(mine["street_code"], mine["family"]).reindex(index=list(codes), fill_value=0)
    known = [f for f in FAMILY_COLOURS if f in counts.columns]
    families = known + sorted(f for f in counts.columns if f not in FAMILY_COLOURS)
    others = iter(OTHER_COLOURS * 4)
    cases = Chart("cases", label("reports.chart.cases"), codes, names, tuple(
        Series(f, label(f"family.{f}"), tuple(float(v) for v in counts[f]), FAMILY_COLOURS.get(f) or next(others))
        for f in families), stacked=True)
    on_time = Chart("on_time", label("reports.chart.on_time"), codes, names, (
        Series("on_time_rate", label("col.on_time_rate"), tuple(_value(v) for v in streets["on_time_rate"]),
               ON_TIME_COLOUR),), percent=True)
    cams = streets if "camera_online_rate" in streets.columns else streets.assign(
        camera_online_rate=float("nan"), camera_available_rate=float("nan"))
    cameras = Chart("cameras", label("reports.chart.cameras"), codes, names, tuple(
        Series(col, label(f"col.{col}"), tuple(_value(v) for v in cams[col]), colour)
        for col, colour in CAMERA_COLOURS.items()), percent=True, target=AVAILABILITY_TARGET,
        target_label=f"{label('reports.chart.target')} {100 * AVAILABILITY_TARGET:.0f} %")
    return cases, on_time, cameras


def figure(chart: Chart, empty_text: str = "") -> go.Figure:
    """The chart as a Plotly figure for the dark dashboard (``empty_text`` when there is no street to show)."""
    if not chart.categories:
        return empty_figure(chart.title, empty_text)
    fig = go.Figure()
    for s in chart.series:
        fig.add_trace(go.Bar(
            x=list(chart.categories), y=list(s.values), name=s.name, marker_color=s.colour,
            customdata=list(chart.codes), meta=s.key,
            # Inside a tall bar (above a full one it would run into the legend), above a short one, so a 0 %
            # still says so.
            texttemplate="%{y:.1%}" if chart.percent else None, textangle=0,
            textposition=[("inside" if (v or 0) >= 0.5 else "outside") for v in s.values] if chart.percent else None,
            hovertemplate=f"%{{x}} · {s.name}: " + ("%{y:.1%}" if chart.percent else "%{y:,.0f}") + "<extra></extra>"))
    if chart.target is not None:
        # Named in the legend rather than by an annotation, which would sit on the bars' own labels.
        fig.add_hline(y=chart.target, line_dash="dash", line_color=TARGET_COLOUR, showlegend=True,
                      name=chart.target_label)
    fig.update_layout(
        template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
        # The title pinned to the top and the legend under it, with room for the legend to wrap to a second
        # row on a 1280 px screen rather than run over the title or the bars' labels.
        title={"text": chart.title, "font": {"size": 16}, "x": 0, "xanchor": "left", "y": 1, "yref": "container",
               "yanchor": "top", "pad": {"t": 6}},
        barmode="stack" if chart.stacked else "group", margin={"l": 48, "r": 12, "t": 76, "b": 28},
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0, "font": {"size": 12},
                "traceorder": "normal"},  # the three tasks in their order, not the stack's bottom-up
        font={"family": "Noto Sans CJK SC, Noto Sans SC, sans-serif", "size": 13}, uniformtext_minsize=10)
    if chart.percent:
        fig.update_yaxes(tickformat=".0%", range=[0, 1.2])  # headroom for the labels over full bars
    else:
        fig.update_yaxes(tickformat=",d", rangemode="tozero")
    return fig


def empty_figure(title: str = "", text: str = "") -> go.Figure:
    """No chart, only a title and a note: what a bad or empty period shows, never the last period's figures."""
    fig = go.Figure()
    fig.update_layout(template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      title={"text": title, "font": {"size": 16}, "x": 0, "xanchor": "left"},
                      xaxis={"visible": False}, yaxis={"visible": False},
                      annotations=[{"text": text, "showarrow": False, "font": {"size": 15}}] if text else [])
    return fig
