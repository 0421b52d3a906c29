"""Indicators for any period, and the printable period report: self-contained HTML for A4, with an SVG map."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
import psycopg
import shapely

from geodata import analysis_repo as repo
from grid.indicators import COLUMNS, indicators, red_black_ranking
from grid.lattice import project
from grid.trends import CST
from workers.analysis_compute import LEVEL_KEYS

LEVEL_NAMES = {"street": "街道 (street)", "community": "社区 (community)", "sub_grid": "综治网格 (sub-grid)",
               "worker": "网格员 (grid worker)"}
COLUMN_NAMES = {
    "code": "编码 (code)", "name": "名称 (name)", "incidents": "事件 (incidents)", "closed": "结案 (closed)",
    "due": "应结 (due)", "on_time": "按时 (on time)", "on_time_rate": "按时率 (on-time rate)",
    "mean_dispatch_min": "分拨 分钟 (to dispatch, min)", "mean_accept_min": "签收 分钟 (to accept, min)",
    "mean_resolve_min": "处置 分钟 (to resolve, min)", "returned": "退回 (returned)",
    "escalated": "升级 (escalated)", "density_per_km2": "密度 每平方公里 (per km²)",
    "day": "日期 (CST day)", "cameras": "摄像机 (cameras)", "camera_code": "摄像机 (camera)",
    "camera_name": "名称 (name)", "community_code": "社区 (community)",
    "online_rate": "在线率 (online)", "available_rate": "可用率 (online + degraded)",
    "offline_hours": "离线 小时 (offline hours)", "known_share": "已诊断 (diagnosed time)",
    "camera_online_rate": "摄像机在线率 (camera online)",
    "camera_available_rate": "摄像机可用率 (camera available)",
}
#: What period_indicators adds for area levels: cameras with diagnosed time, and their availability.
CAMERA_COLUMNS = ("cameras", "camera_online_rate", "camera_available_rate")
#: Columns of `availability_rates`, after the group keys.
AVAILABILITY_COLUMNS = ("cameras", "online_rate", "available_rate", "offline_hours", "known_share")


@dataclass(frozen=True)
class Period:
    """[start, end) in CST, from whole days."""

    start: pd.Timestamp
    end: pd.Timestamp

    @classmethod
    def from_days(cls, first_day: str, last_day: str) -> Period:
        """The CST days first_day..last_day inclusive (YYYY-MM-DD)."""
        start = pd.Timestamp(first_day).tz_localize(CST)
        end = pd.Timestamp(last_day).tz_localize(CST) + pd.Timedelta(days=1)
        if end <= start:
            raise ValueError(f"empty period: {first_day} .. {last_day}")
        return cls(start, end)

    def label(self) -> str:
        """The period as 'YYYY-MM-DD – YYYY-MM-DD' (inclusive, CST)."""
        last = self.end - pd.Timedelta(days=1)
        return f"{self.start.date().isoformat()} – {last.date().isoformat()}"


def period_indicators(conn: psycopg.Connection, period: Period, level: str,
                      incidents: pd.DataFrame | None = None, cameras: pd.DataFrame | None = None) -> pd.DataFrame:
    """Indicators per group of ``level`` for incidents created in the period, with names.

    Areas (street, community, sub-grid) also get their cameras' availability over the period
    (CAMERA_COLUMNS; ``cameras`` is a `camera_availability` frame, loaded when not given).
    """
    if level not in LEVEL_KEYS:
        raise ValueError(f"level must be one of {sorted(LEVEL_KEYS)}")
    df = incidents if incidents is not None else period_incidents(conn, period)
    key = LEVEL_KEYS[level]
    table = indicators(df, key, start=period.start, end=period.end, as_of=min(period.end, pd.Timestamp.now(tz=CST)))
    names = repo.area_names(conn)
    table = table.rename(columns={key: "code"})
    table.insert(1, "name", [names.get((level, c), "") for c in table["code"]])
    if level == "worker":
        return table
    cams = cameras if cameras is not None else camera_availability(conn, period)
    rates = availability_rates(cams, [key]).rename(columns={
        key: "code", "online_rate": "camera_online_rate", "available_rate": "camera_available_rate"})
    table = table.merge(rates.loc[:, ["code", *CAMERA_COLUMNS]], on="code", how="left")
    table["cameras"] = table["cameras"].fillna(0).astype(int)
    return table


def camera_availability(conn: psycopg.Connection, period: Period, as_of: datetime | None = None) -> pd.DataFrame:
    """Seconds per camera and CST day of the period by health (`analysis_repo.camera_availability`)."""
    now = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp.now(tz=CST)
    return repo.camera_availability(conn, period.start.to_pydatetime(), period.end.to_pydatetime(),
                                    now.to_pydatetime())


def availability_rates(cams: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Time-weighted camera availability per group of ``keys`` (AVAILABILITY_COLUMNS).

    ``online_rate`` = online / diagnosed time, ``available_rate`` = (online + degraded) / diagnosed
    time: a degraded camera (frozen, covered, blurred, moved) still sends a picture a person may use,
    but the analytics cannot trust it, so both figures are kept. Diagnosed time leaves out 'unknown'
    (never diagnosed, before the log begins, not yet happened): counting it as down would blame
    cameras for the system's own blind spot. Pooled over camera-time, so a camera diagnosed for six
    hours of a day weighs six hours; ``cameras`` counts those with any diagnosed time,
    ``known_share`` is the diagnosed share of all camera-time.
    """
    frame = cams.assign(known_s=cams["online_s"] + cams["degraded_s"] + cams["offline_s"])
    out = frame.groupby(keys, sort=True)[["online_s", "degraded_s", "offline_s", "unknown_s", "known_s"]].sum()
    seen = frame[frame["known_s"] > 0].groupby(keys, sort=True)["camera_code"].nunique()
    out["cameras"] = seen.reindex(out.index, fill_value=0).astype(int)
    denom = out["known_s"].where(out["known_s"] > 0)
    out["online_rate"] = out["online_s"] / denom
    out["available_rate"] = (out["online_s"] + out["degraded_s"]) / denom
    out["offline_hours"] = out["offline_s"] / 3600.0
    total = (out["known_s"] + out["unknown_s"]).where(lambda v: v > 0)
    out["known_share"] = out["known_s"] / total
    return out.reset_index().loc[:, [*keys, *AVAILABILITY_COLUMNS]]


def period_incidents(conn: psycopg.Connection, period: Period) -> pd.DataFrame:
    """The incidents created in the period, cancelled ones left out (what the indicators count)."""
    df = repo.load_incidents(conn, period.start.to_pydatetime(), period.end.to_pydatetime())
    return df[df["status"] != "cancelled"]


def _fmt(v, col: str) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if col.endswith("_rate") or col == "known_share":
        return f"{100 * float(v):.1f} %"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):,.1f}"
    return html.escape(str(v))


def table_html(df: pd.DataFrame, columns, caption: str, limit: int | None = None) -> str:
    """An HTML table of ``columns`` with bilingual headers."""
    rows = df.head(limit) if limit else df
    head = "".join(f"<th>{html.escape(COLUMN_NAMES.get(c, c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r[c], c)}</td>" for c in columns) + "</tr>"
                   for _, r in rows.iterrows())
    return f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _colour(t: float) -> str:
    # Light yellow to deep red; readable in greyscale print as light to dark.
    lo, hi = np.array([255, 245, 200]), np.array([165, 15, 21])
    r, g, b = (lo + (hi - lo) * float(np.clip(t, 0, 1))).astype(int)
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
        t = (v - vmin) / span
        fill = _colour(1 - t if low_is_bad else t) if np.isfinite(v) else "#dddddd"
        paths.append(f'<path d="{" ".join(d)}" fill="{fill}" stroke="#333" stroke-width="0.2">'
                     f"<title>{html.escape(str(name))} {code}</title></path>")
        pt = geom.representative_point()
        lx, ly = project([pt.x], [pt.y])
        labels.append(f'<text x="{(lx[0] - x0) * scale + 2:.1f}" y="{(y1 - ly[0]) * scale + 2:.1f}" '
                      f'font-size="2.2" text-anchor="middle">{html.escape(str(name))}</text>')
    legend = []
    for i, t in enumerate(np.linspace(0, 1, 5)):
        ly = 10 + i * 7
        shade = _colour(1 - t if low_is_bad else t)
        legend.append(f'<rect x="{map_w + 6}" y="{ly}" width="5" height="5" fill="{shade}" stroke="#333" '
                      f'stroke-width="0.2"/><text x="{map_w + 13}" y="{ly + 4}" font-size="2.6">'
                      f"{html.escape(fmt(vmin + t * span))}</text>")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}mm" '
            f'height="{height}mm" font-family="sans-serif"><text x="{width - 1}" y="5" font-size="2.8" '
            f'text-anchor="end">{html.escape(title)}</text>{"".join(paths)}{"".join(labels)}{"".join(legend)}</svg>')


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
"""


def render_report(conn: psycopg.Connection, period: Period, *, generated_at: datetime | None = None,
                  shade: str = "on_time_rate") -> str:
    """The period report: summary, map, indicators per level, red/black lists, camera availability, warnings."""
    df = period_incidents(conn, period)
    cams = camera_availability(conn, period)
    tables = {lvl: period_indicators(conn, period, lvl, df, cams) for lvl in LEVEL_KEYS}
    geometry = repo.load_geometry(conn)
    comms = geometry.communities
    ctab = tables["community"].set_index("code")
    area_km2 = pd.Series(shapely.area(_metric(comms["geom"])) / 1e6, index=comms["code"].to_numpy())
    ctab["density_per_km2"] = ctab["incidents"] / area_km2.reindex(ctab.index)
    if shade == "density":
        svg = map_svg(comms, ctab["density_per_km2"], "事件密度 (incidents per km²)")
    else:
        svg = map_svg(comms, ctab["on_time_rate"] * 100, "按时结案率 % (on-time rate)", fmt=lambda v: f"{v:.1f} %",
                      low_is_bad=True)
    cols = ["code", "name", *COLUMNS]
    total = indicators(df.assign(_all="all"), "_all", start=period.start, end=period.end).iloc[0] if len(df) else None
    parts = [f"<h1>坪山区 分析研判 期间报告 (Pingshan period report)</h1><p class='meta'>期间 (period): "
             f"{period.label()} (CST) · 生成 (generated): {pd.Timestamp(generated_at or datetime.now().astimezone()).tz_convert(CST):%Y-%m-%d %H:%M} CST</p>"]
    if total is not None:
        parts.append(table_html(pd.DataFrame([total]).assign(code="全区", name="district"), cols, "全区汇总 (district total)"))
    parts.append(f"<div class='map'>{svg}</div>")
    for lvl, limit in (("street", None), ("community", None)):
        parts.append(f"<h2>{LEVEL_NAMES[lvl]}</h2>" + table_html(tables[lvl], cols, LEVEL_NAMES[lvl], limit))
    parts.append("<h2 class='pb'>红黑榜 (red/black ranking)</h2>")
    for lvl in ("street", "community", "worker"):
        t = tables[lvl].assign(code=tables[lvl]["code"])
        rank = red_black_ranking(t, "code", n=5, min_due=1 if lvl == "street" else 10)
        for lst, title in (("red", "红榜 (best)"), ("black", "黑榜 (worst)")):
            sel = rank[rank["list"] == lst].merge(t[["code", "name"]], on="code", how="left")
            parts.append(table_html(sel, ["code", "name", "rank", "on_time_rate", "due", "incidents"],
                                    f"{LEVEL_NAMES[lvl]} {title}"))
    parts.append(availability_html(cams, repo.area_names(conn)))
    parts.append("<h2>综治网格 (sub-grids, 20 lowest on-time rates)</h2>")
    worst = tables["sub_grid"].sort_values(["on_time_rate", "due"], ascending=[True, False], na_position="last")
    parts.append(table_html(worst, cols, LEVEL_NAMES["sub_grid"], 20))
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
        t = availability_rates(cams, [key]).rename(columns={key: "code"})
        t.insert(1, "name", [names.get((level, c), "") for c in t["code"]])
        parts.append(table_html(t, ["code", "name", *cols], f"{LEVEL_NAMES[level]} (period)"))
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
