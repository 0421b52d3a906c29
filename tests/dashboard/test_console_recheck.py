"""The case detail shows the camera's "after" snapshot (复核) beside the first one."""

from __future__ import annotations

from dash import html

from dashboard.components import make_evidence
from dashboard.pages.console.recheck import after_snapshot, with_after

FIRST = "camera/PS-CAM-0001/20240501/abc.jpg"
AFTER = "camera/PS-CAM-0001/20240502/recheck-1.jpg"
LATER = "camera/PS-CAM-0001/20240503/recheck-2.jpg"


def _row(action, actor, media):
    return {"action": action, "actor": actor, "media": media, "at": None, "note": None}


def _images(div):
    out = []
    for child in div.children:
        if isinstance(child, html.Figure):
            out += [(c.id, c.src) for c in child.children if isinstance(c, html.Img)]
    return out


def test_the_latest_camera_recheck_snapshot_stands_beside_the_first():
    events = [_row("report", "system:ingest", [FIRST]), _row("resolve", "W001", ["field/x.jpg"]),
              _row("recheck", "system:camera", [AFTER]), _row("reopen", "disp1", []),
              _row("resolve", "W001", []), _row("reopen", "system:camera", [LATER, "https://x.example/y.jpg"])]
    div = with_after(make_evidence("console", [FIRST], "zh"), events, "zh")
    assert _images(div) == [("console-snapshot", f"/media/{FIRST}"), ("console-after-snapshot", f"/media/{LATER}")]
    assert div.children[-1].children[-1].children == "复核抓拍"
    assert with_after(make_evidence("console", [FIRST], "en"), events[:3], "en").children[-1].children[-1].children \
        == "After (camera recheck)"


def test_no_recheck_no_after_picture_and_other_actors_do_not_count():
    events = [_row("report", "system:ingest", [FIRST]), _row("reopen", "disp1", ["field/desk.jpg"]),
              _row("recheck", "system:camera", [])]
    assert after_snapshot(events) is None
    div = with_after(make_evidence("console", [FIRST], "zh"), events, "zh")
    assert _images(div) == [("console-snapshot", f"/media/{FIRST}")]


def test_an_after_snapshot_missing_on_disk_says_so(tmp_path):
    events = [_row("recheck", "system:camera", [AFTER])]
    div = with_after(make_evidence("console", [], "zh", root=tmp_path), events, "zh", root=tmp_path)
    (figure,) = div.children
    assert isinstance(figure.children[0], html.Span) and "gw-media-missing" in figure.children[0].className
