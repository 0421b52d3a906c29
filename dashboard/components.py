"""Shared widgets, made by make_* factories (pages stay small)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dash import html
from werkzeug.security import safe_join

from dashboard.i18n import label, t

# What the camera workers write (video/media.py): a .jpg snapshot and a .webm clip per situation.
IMAGE_EXT = (".jpg", ".jpeg", ".png")
CLIP_EXT = (".webm", ".mp4")


def fmt_time(ts: datetime | None, tz: str, with_date: bool = False) -> str:
    """A timestamp in the reporting zone, short."""
    if ts is None:
        return "—"
    local = ts.astimezone(ZoneInfo(tz))
    return local.strftime("%m-%d %H:%M" if with_date else "%H:%M:%S")


def make_kpi(page: str, key: str, value, lang: str, *, alert: bool = False) -> html.Div:
    """One big figure with its caption."""
    return html.Div([
        html.Div(value, className="gw-kpi-value", id=f"{page}-kpi-{key}-value"),
        html.Div(t(f"wall.{key}", lang), className="gw-kpi-label"),
    ], className="gw-kpi" + (" gw-kpi-alert" if alert else ""), id=f"{page}-kpi-{key}")


def matter_name(row: dict, lang: str) -> str:
    """The matter's name in the language (rows carry matter and matter_en)."""
    return (row.get("matter_en") if lang == "en" else row.get("matter")) or row.get("matter_code") or ""


def make_badge(prefix: str, value, lang: str) -> html.Span:
    """A coloured status/family/priority tag."""
    return html.Span(label(prefix, value, lang), className=f"gw-badge gw-{prefix}-{value}")


def make_table(page: str, name: str, headers: list[str], rows: list[list], *, row_ids: list[str] | None = None):
    """A plain HTML table; rows can carry ids so pattern-matching callbacks can pick them."""
    body = []
    for i, cells in enumerate(rows):
        body.append(html.Tr([html.Td(c) for c in cells], className="gw-row",
                            id={"type": f"{page}-{name}-row", "index": row_ids[i]} if row_ids else None,
                            n_clicks=0) if row_ids else html.Tr([html.Td(c) for c in cells]))
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(body)],
                      className="gw-table", id=f"{page}-{name}-table")


def make_history(events: list[dict], lang: str, tz: str) -> html.Ol:
    """An incident's history, oldest first."""
    items = []
    for e in events:
        head = f"{fmt_time(e['at'], tz, True)} · {label('action', e['action'], lang)} · {e['actor']}"
        if e.get("to_status") and e.get("from_status") != e.get("to_status"):
            # The first row of a case has no earlier status: show where it starts, not "None →".
            before = f"{label('status', e['from_status'], lang)} → " if e.get("from_status") else ""
            head += f" · {before}{label('status', e['to_status'], lang)}"
        items.append(html.Li([html.Div(head), html.Div(e.get("note") or "", className="gw-note")]))
    return html.Ol(items, className="gw-history")


def media_url(path: str) -> str:
    """A stored media path as the /media route (which logs the view), or an absolute URL unchanged."""
    return path if "://" in path else f"/media/{path}"


def media_on_disk(root: Path | None, name: str) -> bool:
    """Whether a stored media path names a file under `root` (None: not checked, taken as present)."""
    if root is None:
        return True
    path = safe_join(str(root), name)
    return path is not None and os.path.isfile(path)


def make_missing(lang: str, class_name: str = "gw-media-missing", key: str = "media.missing_snapshot") -> html.Span:
    """What stands where a stored snapshot's (or clip's) file is gone: a sentence, never a broken-media icon."""
    return html.Span(t(key, lang), className=class_name, **{"data-media-missing": "1"})


def make_evidence(page: str, media: list, lang: str, *, root: Path | None = None) -> html.Div:
    """The first snapshot and the first clip of an incident, side by side; with `root`, a snapshot whose
    file is missing there is a placeholder saying so."""
    paths = [m for m in media or [] if isinstance(m, str)]
    # A foreign URL (an Open311 media_url) is never loaded by a staff browser: shown as a link only.
    stored = [m for m in paths if "://" not in m]
    links = [m for m in paths if "://" in m and m.lower().startswith(("http://", "https://"))]
    image = next((m for m in stored if m.lower().endswith(IMAGE_EXT)), None)
    clip = next((m for m in stored if m.lower().endswith(CLIP_EXT)), None)
    items = []
    if image:
        shown = (html.Img(src=media_url(image), id=f"{page}-snapshot") if media_on_disk(root, image)
                 else make_missing(lang, "gw-media-missing gw-evidence-missing"))
        items.append(html.Figure([shown, html.Figcaption(t("console.snapshot", lang))]))
    if clip:
        # preload="metadata": the duration shows without fetching the whole clip until someone plays it.
        # A clip not on disk is a sentence, not an empty player that never starts.
        played = (html.Video(src=media_url(clip), controls=True, preload="metadata", id=f"{page}-clip")
                  if media_on_disk(root, clip)
                  else make_missing(lang, "gw-media-missing gw-evidence-missing", "media.missing_clip"))
        items.append(html.Figure([played, html.Figcaption(t("console.clip", lang))]))
    for i, url in enumerate(links):
        items.append(html.A(url, href=url, target="_blank", rel="noopener noreferrer nofollow",
                            referrerPolicy="no-referrer", className="gw-external", id=f"{page}-link-{i}"))
    return html.Div(items, className="gw-evidence")
