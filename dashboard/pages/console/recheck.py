"""The case detail's "after" picture: the snapshot of the camera's latest recheck (复核), beside the first."""

from __future__ import annotations

from pathlib import Path

from dash import html

from dashboard.components import IMAGE_EXT, make_missing, media_on_disk, media_url
from dashboard.i18n import t

# The rows a camera's recheck writes (geodata/rechecks.py): a reopen or a recheck by this actor.
RECHECK_ACTOR = "system:camera"
RECHECK_ACTIONS = ("reopen", "recheck")


def after_snapshot(events: list[dict]) -> str | None:
    """The stored snapshot of the latest camera recheck in a case's history (oldest first), if any."""
    for e in reversed(events):
        if e.get("actor") != RECHECK_ACTOR or e.get("action") not in RECHECK_ACTIONS:
            continue
        for m in e.get("media") or []:
            if isinstance(m, str) and "://" not in m and m.lower().endswith(IMAGE_EXT):
                return m
    return None


def with_after(evidence: html.Div, events: list[dict], lang: str, *, root: Path | None = None) -> html.Div:
    """The evidence block with the latest recheck's snapshot added after the first snapshot and clip."""
    snap = after_snapshot(events)
    if snap is None:
        return evidence
    shown = (html.Img(src=media_url(snap), id="console-after-snapshot") if media_on_disk(root, snap)
             else make_missing(lang, "gw-media-missing gw-evidence-missing"))
    evidence.children = [*(evidence.children or []),
                         html.Figure([shown, html.Figcaption(t("console.after_snapshot", lang))],
                                     className="gw-after")]
    return evidence
