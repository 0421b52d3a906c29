"""The selected camera's counts on /cameras (issue 14): crossings per line and zone peaks, last 24 h.

Read from `camera_count` (geodata/camera_counts.py), which the camera worker writes per 5-minute
bucket and, while a bucket is open, with its partial counts every 30 s: polling the table every 30 s
moves the chart as the live `camera_counts` messages do, with no second path to keep in step.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dash
import plotly.graph_objects as go
from dash import Input, Output, dcc, html
from plotly.subplots import make_subplots

from dashboard import access, context
from dashboard.i18n import label, t
from geodata import camera_counts
from geodata.camera_counts import CountRow

PAGE = "cameras"
WINDOW = timedelta(hours=24)
# In, out: the same hue per line, full and pale, so a pair reads as one line's two directions.
PALETTE = ("#5b8ff9", "#e8534f", "#1fa39a", "#e0a100", "#8e5cd9", "#c2703d", "#9aa5b8", "#3f9d5a")
SHOWN, HIDDEN = {"height": "420px"}, {"height": "420px", "display": "none"}
GRAPH_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def make_counts_panel(lang: str) -> html.Div:
    """The chart under the editor, drawn by `cameras_counts` for the selected camera."""
    return html.Div([
        html.H2(t("cameras.counts", lang)),
        html.Div(id="cameras-counts-none", className="gw-note", hidden=True),
        dcc.Graph(id="cameras-counts-chart", config=GRAPH_CONFIG, style=HIDDEN),
    ], id="cameras-counts")


def _series_name(name: str, cls: str, what: str, lang: str) -> str:
    return f"{name} · {label('count_class', cls, lang)} · {what}"


def counts_figure(rows: list[CountRow], lang: str, tz: str) -> go.Figure:
    """Crossings in and out per line and class (bars), zone peaks per class (lines), in local time."""
    local = ZoneInfo(tz)
    # Plotly draws a datetime's wall-clock digits: hand it the center's local time, not UTC.
    when = {r.bucket_start: r.bucket_start.astimezone(local).replace(tzinfo=None) for r in rows}
    crossings: dict[tuple[str, str, str], dict] = defaultdict(dict)
    peaks: dict[tuple[str, str], dict] = defaultdict(dict)
    for r in rows:
        if r.kind == "line":
            crossings[(r.name, r.cls, r.direction)][when[r.bucket_start]] = r.count
        else:
            peaks[(r.name, r.cls)][when[r.bucket_start]] = r.count
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.14, row_heights=[0.6, 0.4],
                        subplot_titles=(t("cameras.counts_crossings", lang), t("cameras.counts_peaks", lang)))
    lines = sorted({(n, c) for n, c, _ in crossings})
    for i, (name, cls) in enumerate(lines):
        colour = PALETTE[i % len(PALETTE)]
        for direction, opacity in (("in", 1.0), ("out", 0.5)):
            points = sorted(crossings.get((name, cls, direction), {}).items())
            fig.add_trace(go.Bar(
                x=[p[0] for p in points], y=[p[1] for p in points], marker_color=colour, opacity=opacity,
                name=_series_name(name, cls, t(f"cameras.counts_{direction}", lang), lang),
                meta=f"line:{name}:{cls}:{direction}"), row=1, col=1)
    for i, (name, cls) in enumerate(sorted(peaks)):
        points = sorted(peaks[(name, cls)].items())
        fig.add_trace(go.Scatter(
            x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers", line_shape="hv",
            line_color=PALETTE[(i + len(lines)) % len(PALETTE)], name=f"{name} · {label('count_class', cls, lang)}",
            meta=f"zone:{name}:{cls}"), row=2, col=1)
    fig.update_layout(
        template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", barmode="group",
        margin={"l": 44, "r": 12, "t": 36, "b": 28}, legend={"orientation": "h", "y": -0.12, "font": {"size": 12}},
        font={"family": "Noto Sans CJK SC, Noto Sans SC, sans-serif", "size": 13})
    fig.update_yaxes(tickformat=",d", rangemode="tozero")
    return fig


@dash.callback(
    Output("cameras-counts-chart", "figure"), Output("cameras-counts-none", "children"),
    Output("cameras-counts-none", "hidden"), Output("cameras-counts-chart", "style"),
    Input("cameras-selected", "data"), Input("cameras-interval", "n_intervals"),
)
@access.guard(PAGE)
def cameras_counts(code, _tick):
    """The selected camera's last 24 h of counts, re-read every 30 s (the worker stores partial buckets)."""
    lang, tz = context.lang(), context.cfg().timezone
    if not code or not isinstance(code, str):
        return counts_figure([], lang, tz), "", True, HIDDEN
    now = datetime.now(timezone.utc)
    with context.pool().connection() as conn:
        # The oldest bucket shown starts 24 h ago; the newest is the open one, which may start in a minute.
        rows = camera_counts.series(conn, code, now - WINDOW, now + timedelta(seconds=camera_counts.BUCKET_S))
    if not rows:
        # Empty axes would read as "counted, none"; the note says what is missing instead.
        return counts_figure([], lang, tz), t("cameras.counts_none", lang), False, HIDDEN
    return counts_figure(rows, lang, tz), "", True, SHOWN
