"""A `charts.Chart` as a static SVG for the printed report.

Why hand-built rather than Plotly's own export: Plotly's static images need kaleido, which drives a Chrome
per render, is not installed here and makes the report depend on a browser; matplotlib is not a dependency
either. These charts are bars, a target line and labels, which plain SVG draws in a few dozen lines,
offline and byte-for-byte the same every time. Only <rect>, <line> and <text>: the district map is the
report's only <path>s. Each bar carries its series, street code and value (data-*) and a <title>, so a
reader (or a test) can check a bar against the tables.
"""

from __future__ import annotations

import html
import math

from dashboard.pages.reports.charts import TARGET_COLOUR, Chart

W, H = 640.0, 250.0
LEFT, RIGHT, TOP, BOTTOM = 46.0, 10.0, 34.0, 30.0


def _count_ticks(v: float) -> list[float]:
    # Three to five whole, round steps (1, 2 or 5 x 10^n) up to the first one at or above the tallest stack.
    if v <= 0:
        return [0.0, 1.0]
    rough = v / 4
    mag = 10 ** math.floor(math.log10(rough))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= rough)
    step = max(step, 1.0)
    return [k * step for k in range(int(math.ceil(v / step)) + 1)]


def _fmt(v: float, percent: bool) -> str:
    return f"{100 * v:.1f} %" if percent else f"{v:,.0f}"


def _text_width(text: str, size: float) -> float:
    # Wide (CJK) characters take a full em, Latin ones a little over half.
    return sum(size if ord(c) > 0x2E80 else 0.58 * size for c in text)


def _esc(s) -> str:
    return html.escape(str(s), quote=True)


def svg(chart: Chart) -> str:
    """The chart as an inline SVG (no scripts, no external references), sized to the printed column."""
    n = max(len(chart.categories), 1)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    if chart.percent:
        ticks = [k / 4 for k in range(5)]
    else:
        totals = [sum(s.values[i] or 0 for s in chart.series) for i in range(len(chart.categories))]
        ticks = _count_ticks(max(totals, default=0))
    top = ticks[-1]
    y = lambda v: TOP + plot_h * (1 - v / top)  # noqa: E731 - a scale, read like one
    out = []
    for v in ticks:  # the value axis, its grid lines faint so the bars lead
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ccc" '
                   f'stroke-width="0.6"/><text x="{LEFT - 4}" y="{y(v) + 3.5:.1f}" font-size="10" '
                   f'text-anchor="end">{_esc(f"{100 * v:.0f} %" if chart.percent else f"{v:,.0f}")}</text>')
    slot = plot_w / n
    group = slot * 0.72
    bar_w = group if chart.stacked else group / max(len(chart.series), 1)
    for i, (code, name) in enumerate(zip(chart.codes, chart.categories)):
        x0 = LEFT + slot * i + (slot - group) / 2
        base = 0.0
        for j, s in enumerate(chart.series):
            v = s.values[i]
            bx = x0 if chart.stacked else x0 + j * bar_w
            tip = f"{name} · {s.name}: {_fmt(v, chart.percent) if v is not None else '–'}"
            if v == 0 and chart.stacked:
                continue  # an empty part of a stack: nothing to draw, its total still says it
            if v is None:
                out.append(f'<text x="{bx + bar_w / 2:.1f}" y="{y(0) - 3:.1f}" font-size="10" text-anchor="middle">'
                           f'–<title>{_esc(tip)}</title></text>')
                continue
            lo, hi = (base, base + v) if chart.stacked else (0.0, v)
            out.append(f'<rect x="{bx:.1f}" y="{y(hi):.1f}" width="{bar_w:.1f}" height="{y(lo) - y(hi):.1f}" '
                       f'fill="{s.colour}" data-series="{_esc(s.key)}" data-category="{_esc(code)}" '
                       f'data-value="{v:.6g}"><title>{_esc(tip)}</title></rect>')
            if chart.percent:
                out.append(f'<text x="{bx + bar_w / 2:.1f}" y="{y(hi) - 2:.1f}" font-size="8.5" '
                           f'text-anchor="middle">{_esc(_fmt(v, True))}</text>')
            base += v if chart.stacked else 0.0
        if chart.stacked:
            out.append(f'<text x="{x0 + group / 2:.1f}" y="{y(base) - 3:.1f}" font-size="10" '
                       f'text-anchor="middle">{_esc(_fmt(base, False))}</text>')
        out.append(f'<text x="{x0 + group / 2:.1f}" y="{H - BOTTOM + 14:.1f}" font-size="10.5" '
                   f'text-anchor="middle">{_esc(name)}</text>')
    if chart.target is not None:
        ty = y(chart.target)
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{TARGET_COLOUR}" '
                   f'stroke-width="1.2" stroke-dasharray="5 3" data-target="{chart.target:.6g}"/>')
    out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#333" stroke-width="0.8"/>')
    # The legend across the top, left to right, the target last (its label there never covers a bar's);
    # a long legend (bilingual names) shrinks rather than runs off.
    keys = [(s.name, s.colour, False) for s in chart.series]
    keys += [(chart.target_label, TARGET_COLOUR, True)] if chart.target is not None else []
    widths = [24 + _text_width(name, 10.5) for name, _, _ in keys]
    size = 10.5 * min(1.0, (W - LEFT - RIGHT) / max(sum(widths), 1.0))
    lx = LEFT
    for (name, colour, dashed), w in zip(keys, widths):
        mark = (f'<line x1="{lx:.1f}" x2="{lx + 10:.1f}" y1="{TOP - 17}" y2="{TOP - 17}" stroke="{colour}" '
                f'stroke-width="1.5" stroke-dasharray="3 2"/>' if dashed else
                f'<rect x="{lx:.1f}" y="{TOP - 22}" width="10" height="10" fill="{colour}"/>')
        out.append(f'{mark}<text x="{lx + 14:.1f}" y="{TOP - 13}" font-size="{size:.1f}">{_esc(name)}</text>')
        lx += w * size / 10.5
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W:.0f} {H:.0f}" role="img" '
            f'aria-label="{_esc(chart.title)}" data-chart="{_esc(chart.key)}" font-family="sans-serif">'
            f'{"".join(out)}</svg>')


def figure_html(chart: Chart) -> str:
    """The chart with its title as an HTML <figure>, kept on one printed page."""
    return f"<figure class='chart'><figcaption>{_esc(chart.title)}</figcaption>{svg(chart)}</figure>"
