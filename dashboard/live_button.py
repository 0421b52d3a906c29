"""The "live" button of a camera, shared by /cameras and the console (assets/gridwatch-camera-live.js).

The button carries only the camera's code: the script opens `/cameras/<code>/live` (MJPEG relayed from
Redis, dashboard/camera_live.py) in an overlay with the frame's age and, when it applies, why there is
no fresh picture. The server decides who may watch; the button is only a convenience.
"""

from __future__ import annotations

from dash import html

from dashboard import access
from dashboard.i18n import t


def may_watch(role: str) -> bool:
    """Whether the role has live views at all (supervisors' areas are checked by the server per camera)."""
    return role in access.LIVE_VIEW_ROLES


def make_live_button(code: str, lang: str, *, page: str) -> html.Button:
    """A small button opening camera `code`'s live view in an overlay."""
    return html.Button(t("live.open", lang), type="button", n_clicks=0, className="gw-live-open",
                       title=t("live.title", lang, code=code), **{"data-camera": code, "data-page": page})
