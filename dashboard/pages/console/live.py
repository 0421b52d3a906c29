"""The console's ways into a camera's live view: a camera layer on the map and a button in a camera case.

Kept apart from the console's queues and case detail, which change for other reasons: the page adds
`make_layer` to its map and `detail_button` to a case's facts, nothing else.
"""

from __future__ import annotations

import dash_leaflet as dl

from dashboard import camera_live, context
from dashboard.i18n import label, t
from dashboard.live_button import make_live_button, may_watch
from dashboard.maps import points

LIVE_POINT = {"variable": "gridwatch.liveMap.cameraPoint"}


def make_layer(user, lang: str) -> dl.GeoJSON:
    """Cameras the user may watch, as map markers whose popup has the "live" button."""
    with context.pool().connection() as conn:
        cams = camera_live.cameras_in_scope(conn, user)
    # Read when the page opens: cameras move or appear far less often than a console is reloaded.
    fc = points(cams, context.display(), lambda r: {
        "code": r["code"], "health": r["health"], "name": f"{r['code']} {r['name']} · {label('health', r['health'], lang)}",
        "live": t("live.open", lang)})
    return dl.GeoJSON(id="console-cameras", data=fc, pointToLayer=LIVE_POINT)


def detail_button(camera_code: str | None, user, lang: str) -> list:
    """The "live" button of a camera case's detail, or nothing for other cases and roles."""
    if not camera_code or not may_watch(user.role):
        return []
    return [" ", make_live_button(camera_code, lang, page="console")]
