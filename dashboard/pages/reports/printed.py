"""The printable period reports (self-contained HTML for A4, no scripts): the district's and an area's, each with
an SVG map and the /reports page's charts as inline SVG (`charts_html`).

Headers and headings are the catalogue's pairs printed as 'zh (en)' (`i18n.bilingual`), so the paper says
what the screen says.
"""

from __future__ import annotations

import html
from datetime import datetime

import numpy as np
import pandas as pd
import psycopg
import shapely

from dashboard.access import SessionUser
from dashboard.analysis_view import code_in_scope
from dashboard.i18n import bilingual, t
from dashboard.pages.reports import chart_svg, charts
from dashboard.pages.reports import data as reports_data
from geodata import analysis_repo, reports_repo
from grid.camera_availability import AVAILABILITY_COLUMNS, availability_rates
from grid.indicators import COLUMNS, LEVEL_KEYS, indicators, red_black_ranking
from grid.lattice import project
from grid.period import Period
from grid.trends import CST


def _fmt(v, col: str) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if col.endswith("_rate") or col == "known_share":
        return f"{100 * float(v):.1f} %"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):,.1f}"
    return html.escape(str(v))


def table_html(df: pd.DataFrame, columns, caption: str, limit: int | None = None) -> str:
    """An HTML table of ``columns`` with bilingual headers from the catalogue's ``col.*`` pairs."""
    rows = df.head(limit) if limit else df
    head = "".join(f"<th>{html.escape(bilingual(f'col.{c}'))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r[c], c)}</td>" for c in columns) + "</tr>"
                   for _, r in rows.iterrows())
    return f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _colour(tone: float) -> str:
    # Light yellow to deep red; readable in greyscale print as light to dark.
    lo, hi = np.array([255, 245, 200]), np.array([165, 15, 21])
    r, g, b = (lo + (hi - lo) * float(np.clip(tone, 0, 1))).astype(int)
    return f"#{r:02x}{g:02x}{b:02x}"


def map_svg(communities: pd.DataFrame, values: pd.Series, title: str, *, width: float = 170.0,
            height: float = 115.0, fmt=lambda v: f"{v:.0f}", low_is_bad: bool = False) -> str:
    """A static SVG (mm units) of community shapes shaded by ``values`` (indexed by code), with a legend.

    Darker means worse: high density, or with ``low_is_bad`` a low rate.
    """
    geoms = np.asarray(communities["geom"], dtype=object)
    if len(geoms) == 0:
        return "<p>无社区边界 (no community shapes)</p>"
    coords = shapely.get_coordinates(geoms)
    x, y = project(coords[:, 0], coords[:, 1])
    x0, x1, y0, y1 = x.min(), x.max(), y.min(), y.max()
    map_w = width - 30.0
    scale = min(map_w / max(x1 - x0, 1.0), (height - 4.0) / max(y1 - y0, 1.0))
    vals = values.reindex(communities["code"]).to_numpy(float)
    finite = vals[np.isfinite(vals)]
    vmin, vmax = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
    span = vmax - vmin if vmax > vmin else 1.0
    paths, labels = [], []
    for geom, code, name, v in zip(geoms, communities["code"], communities["name"], vals):
        d = []
        for poly in shapely.get_parts(geom):
            for ring in [poly.exterior, *poly.interiors]:
                c = np.asarray(ring.coords)
                px, py = project(c[:, 0], c[:, 1])
                sx, sy = (px - x0) * scale + 2.0, (y1 - py) * scale + 2.0
                d.append("M" + "L".join(f"{a:.2f},{b:.2f}" for a, b in zip(sx, sy)) + "Z")
        tone = (v - vmin) / span
        fill = _colour(1 - tone if low_is_bad else tone) if np.isfinite(v) else "#dddddd"
        paths.append(f'<path d="{" ".join(d)}" fill="{fill}" stroke="#333" stroke-width="0.2">'
                     f"<title>{html.escape(str(name))} {code}</title></path>")
        pt = geom.representative_point()
        lx, ly = project([pt.x], [pt.y])
        labels.append(f'<text x="{(lx[0] - x0) * scale + 2:.1f}" y="{(y1 - ly[0]) * scale + 2:.1f}" '
                      f'font-size="2.2" text-anchor="middle">{html.escape(str(name))}</text>')
    legend = []
    for i, tone in enumerate(np.linspace(0, 1, 5)):
        ly = 10 + i * 7
        shade = _colour(1 - tone if low_is_bad else tone)
        legend.append(f'<rect x="{map_w + 6}" y="{ly}" width="5" height="5" fill="{shade}" stroke="#333" '
                      f'stroke-width="0.2"/><text x="{map_w + 13}" y="{ly + 4}" font-size="2.6">'
                      f"{html.escape(fmt(vmin + tone * span))}</text>")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}mm" '
            f'height="{height}mm" font-family="sans-serif"><text x="{width - 1}" y="5" font-size="2.8" '
            f'text-anchor="end">{html.escape(title)}</text>{"".join(paths)}{"".join(labels)}{"".join(legend)}</svg>')


def charts_html(incidents: pd.DataFrame, streets: pd.DataFrame) -> str:
    """The /reports page's charts (`charts.report_charts`, the one source of both) as inline SVG figures."""
    figs = "".join(chart_svg.figure_html(c) for c in charts.report_charts(incidents, streets, bilingual))
    return f"<h2>{html.escape(bilingual('reports.charts'))}</h2><div class='charts'>{figs}</div>"


def _rate_map(communities: pd.DataFrame, on_time_rate: pd.Series) -> str:
    # The on-time rate in per cent, low rates dark: the map both printed reports open with.
    return map_svg(communities, on_time_rate * 100, bilingual("col.on_time_rate", "%"), fmt=lambda v: f"{v:.1f} %",
                   low_is_bad=True)


_CSS = """
@page { size: A4 portrait; margin: 15mm 12mm; }
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; font-size: 9pt; color: #111; }
h1 { font-size: 15pt; margin: 0 0 2mm; } h2 { font-size: 11.5pt; margin: 6mm 0 2mm; border-bottom: 0.3mm solid #444; }
table { border-collapse: collapse; width: 100%; margin-bottom: 4mm; page-break-inside: auto; }
caption { text-align: left; font-weight: bold; margin-bottom: 1mm; }
th, td { border: 0.2mm solid #888; padding: 0.6mm 1.2mm; text-align: right; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; white-space: nowrap; }
thead { display: table-header-group; } tr { page-break-inside: avoid; }
th { background: #eee; } .meta { color: #444; } .map { page-break-inside: avoid; margin: 2mm 0; }
.red td:first-child { border-left: 1.2mm solid #b00; } .black td:first-child { border-left: 1.2mm solid #000; }
section { page-break-before: auto; } .pb { page-break-before: always; }
.chart { margin: 2mm 0 4mm; page-break-inside: avoid; } .chart svg { width: 100%; height: auto; }
.chart figcaption { font-weight: bold; margin-bottom: 1mm; }
"""


def render_report(conn: psycopg.Connection, period: Period, *, generated_at: datetime | None = None,
                  shade: str = "on_time_rate") -> str:
    """The district's period report: summary, map, indicators per level, red/black lists, camera availability."""
    df = reports_repo.period_incidents(conn, period)
    cams = reports_repo.camera_availability(conn, period)
    tables = {lvl: reports_repo.period_indicators(conn, period, lvl, df, cams) for lvl in LEVEL_KEYS}
    geometry = analysis_repo.load_geometry(conn)
    comms = geometry.communities
    ctab = tables["community"].set_index("code")
    area_km2 = pd.Series(shapely.area(_metric(comms["geom"])) / 1e6, index=comms["code"].to_numpy())
    ctab["density_per_km2"] = ctab["incidents"] / area_km2.reindex(ctab.index)
    if shade == "density":
        svg = map_svg(comms, ctab["density_per_km2"], "事件密度 (incidents per km²)")
    else:
        svg = _rate_map(comms, ctab["on_time_rate"])
    cols = ["code", "name", *COLUMNS]
    total = indicators(df.assign(_all="all"), "_all", start=period.start, end=period.end).iloc[0] if len(df) else None
    parts = [f"<h1>坪山区 分析研判 期间报告 (Pingshan period report)</h1><p class='meta'>期间 (period): "
             f"{period.label()} (CST) · 生成 (generated): {pd.Timestamp(generated_at or datetime.now().astimezone()).tz_convert(CST):%Y-%m-%d %H:%M} CST</p>"]
    if total is not None:
        parts.append(table_html(pd.DataFrame([total]).assign(code="全区", name="district"), cols, "全区汇总 (district total)"))
    parts.append(f"<div class='map'>{svg}</div>")
    parts.append(charts_html(df, tables["street"]))
    for lvl, limit in (("street", None), ("community", None)):
        level_name = bilingual(f"reports.level.{lvl}")
        parts.append(f"<h2>{level_name}</h2>" + table_html(tables[lvl], cols, level_name, limit))
    parts.append("<h2 class='pb'>红黑榜 (red/black ranking)</h2>")
    for lvl in ("street", "community", "worker"):
        table = tables[lvl].assign(code=tables[lvl]["code"])
        rank = red_black_ranking(table, "code", n=5, min_due=1 if lvl == "street" else 10)
        for lst, title in (("red", "红榜 (best)"), ("black", "黑榜 (worst)")):
            sel = rank[rank["list"] == lst].merge(table[["code", "name"]], on="code", how="left")
            parts.append(table_html(sel, ["code", "name", "rank", "on_time_rate", "due", "incidents"],
                                    f"{bilingual(f'reports.level.{lvl}')} {title}"))
    parts.append(availability_html(cams, analysis_repo.area_names(conn)))
    parts.append("<h2>综治网格 (sub-grids, 20 lowest on-time rates)</h2>")
    worst = tables["sub_grid"].sort_values(["on_time_rate", "due"], ascending=[True, False], na_position="last")
    parts.append(table_html(worst, cols, bilingual("reports.level.sub_grid"), 20))
    body = "\n".join(parts)
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>坪山区 期间报告 "
            f"{period.label()}</title><style>{_CSS}</style></head><body>{body}</body></html>")


def availability_html(cams: pd.DataFrame, names: dict[tuple[str, str], str], worst: int = 10) -> str:
    """The report's camera availability: per CST day, per street and community, the least available cameras."""
    head = "<h2>摄像机可用率 (camera availability)</h2>"
    if cams.empty or not (cams["online_s"] + cams["degraded_s"] + cams["offline_s"]).any():
        return head + ("<p>本期无摄像机健康记录 (no camera health was logged in this period: the camera worker "
                       "logs every change of a camera's health in camera_health_log).</p>")
    note = ("<p class='meta'>按摄像机时长加权，未诊断时段不计 (weighted by camera-time; time with unknown health "
            "is left out). 在线率 = online / diagnosed; 可用率 = (online + degraded) / diagnosed.</p>")
    cols = list(AVAILABILITY_COLUMNS)
    parts = [head, note, table_html(availability_rates(cams, ["day"]), ["day", *cols], "每日 全区 (per CST day, district)")]
    for level, key in (("street", "street_code"), ("community", "community_code")):
        rates = availability_rates(cams, [key]).rename(columns={key: "code"})
        rates.insert(1, "name", [names.get((level, c), "") for c in rates["code"]])
        parts.append(table_html(rates, ["code", "name", *cols], f"{bilingual(f'reports.level.{level}')} (period)"))
    # Every camera, also one standing outside the grid (no community): it is still a blind spot.
    low = availability_rates(cams.fillna({"community_code": ""}), ["camera_code", "camera_name", "community_code"])
    low = low.sort_values(["online_rate", "camera_code"], na_position="last")
    parts.append(table_html(low, ["camera_code", "camera_name", "community_code", *cols],
                            f"在线率最低的 {worst} 台 (the {worst} least available cameras)", worst))
    return "".join(parts)


def _metric(geoms) -> np.ndarray:
    # Areas in km² need metres: reproject each shape's coordinates to UTM 50N.
    geoms = np.asarray(geoms, dtype=object)
    return shapely.transform(geoms, lambda c: np.column_stack(project(c[:, 0], c[:, 1])))


_AREA_CSS = """@page { size: A4 portrait; margin: 14mm 12mm; }
body { font-family: "Noto Sans CJK SC", sans-serif; font-size: 9.5pt; color: #000; }
h1 { font-size: 15pt; } h2 { font-size: 12pt; margin-top: 6mm; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0; page-break-inside: auto; }
th, td { border: 0.2mm solid #999; padding: 0.8mm 1.2mm; text-align: right; }
th:nth-child(-n+2), td:nth-child(-n+2) { text-align: left; } caption { text-align: left; font-weight: bold; }
tr { page-break-inside: avoid; } .map svg { width: 170mm; height: auto; }
.chart { margin: 2mm 0 4mm; page-break-inside: avoid; } .chart svg { width: 100%; height: auto; }
.chart figcaption { font-weight: bold; margin-bottom: 1mm; }"""


def print_html(conn, user: SessionUser, p: Period) -> str:
    """The printable period report: the district report for district-wide users, else one of the user's area."""
    if user.district_wide:
        return render_report(conn, p)
    parts = [f"<h1>{html.escape(user.scope_code)} 期间报告 (period report)</h1>",
             f"<p>期间 (period): {html.escape(p.label())} (CST)</p>"]
    incidents = reports_repo.period_incidents(conn, p)
    cams = reports_repo.camera_availability(conn, p)
    comm = reports_data.indicators(conn, user, p, "community", incidents, cams)
    geometry = analysis_repo.load_geometry(conn).communities
    shapes = geometry[[code_in_scope(user, c) for c in geometry["code"]]]
    if len(shapes):
        parts.append("<div class='map'>" + _rate_map(shapes, comm.set_index("code")["on_time_rate"]) + "</div>")
    streets = reports_data.indicators(conn, user, p, "street", incidents, cams)
    parts.append(charts_html(incidents, streets))
    tables = {"community": comm, "street": streets}
    for level in reports_data.LEVELS:
        table = tables[level] if level in tables else reports_data.indicators(conn, user, p, level, incidents, cams)
        parts.append(table_html(table, reports_data.columns(table), t(f"reports.level.{level}", "zh")))
        parts.append(table_html(reports_data.ranking(table, level), list(reports_data.RANK_COLUMNS),
                                "红黑榜 (red/black)"))
    parts.append(table_html(reports_data.camera_days(cams, user), list(reports_data.DAY_COLUMNS),
                            t("reports.cameras", "zh")))
    return (f"<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>期间报告 {html.escape(p.label())}"
            f"</title><style>{_AREA_CSS}</style></head><body>{''.join(parts)}</body></html>")
