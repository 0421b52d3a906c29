"""The zone editor in Chromium: drag a vertex over the snapshot, pull out a new one, set a rule, save; a
self-crossing polygon is refused in the user's language and nothing is written."""

from __future__ import annotations

import cv2
import numpy as np
import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.dashboard.conftest import login, shot
from video.media import latest_snapshot_name

# The seeded gate zone of every test camera (tests/dashboard/griddata.py).
GATE = [[0.1, 0.5], [0.5, 0.5], [0.5, 0.9], [0.1, 0.9]]
SEEDED = {"zones": [{"name": "gate", "rules": [{"kind": "intrusion"}], "polygon": GATE}]}
# Handles are 8 px discs and the picture is about 800 px wide: a drop lands within 2 px of its aim.
TOL = 0.006


@pytest.fixture
def camera(dash_db, server):
    """A camera back at its seeded config, with a latest snapshot (640x360) the worker would have written."""
    codes = []

    def make(code: str) -> str:
        with psycopg.connect(dash_db[0]) as conn:
            conn.execute("UPDATE camera SET config = %s WHERE code = %s", (Jsonb(SEEDED), code))
        path = server.media / latest_snapshot_name(code)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = np.full((360, 640, 3), (60, 50, 40), np.uint8)
        cv2.rectangle(frame, (64, 180), (320, 324), (90, 140, 90), -1)  # the gate the zone covers
        assert cv2.imwrite(str(path), frame)
        codes.append(code)
        return code

    yield make
    with psycopg.connect(dash_db[0]) as conn:
        for code in codes:
            conn.execute("UPDATE camera SET config = %s WHERE code = %s", (Jsonb(SEEDED), code))
            (server.media / latest_snapshot_name(code)).unlink(missing_ok=True)


def _stored(db_url: str, code: str) -> tuple[dict, int, int]:
    """The camera's stored config, the grid revision and how many zone edits the audit log holds for it."""
    with psycopg.connect(db_url) as conn:
        config = conn.execute("SELECT config FROM camera WHERE code = %s", (code,)).fetchone()[0]
        rev = conn.execute("SELECT rev FROM grid_revision").fetchone()[0]
        audits = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'camera_zones' AND target = %s",
                              (code,)).fetchone()[0]
    return config, rev, audits


def _open(page, server, code: str) -> dict:
    """Open /cameras, pick `code`, wait until its snapshot and its first zone's handles are drawn."""
    page.goto(server.base + "/cameras")
    page.wait_for_selector("#cameras-list-table tbody tr", timeout=15_000)
    page.locator("#cameras-list-table tbody tr").filter(has_text=code).click()
    page.wait_for_function("(() => { const i = document.getElementById('cameras-snapshot');"
                           " return i && !i.hidden && i.complete && i.naturalWidth === 640; })()", timeout=10_000)
    page.wait_for_selector("#cameras-editor circle.gw-vtx[data-v='3']", timeout=10_000)
    return page.locator("#cameras-editor").bounding_box()


def _drag(page, box: dict, start, end) -> None:
    """Press at image point `start`, move in steps (as a hand does) and release at `end`."""
    page.mouse.move(box["x"] + start[0] * box["width"], box["y"] + start[1] * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + end[0] * box["width"], box["y"] + end[1] * box["height"], steps=8)
    page.mouse.up()


@pytest.mark.browser
def test_drag_a_vertex_add_one_set_a_rule_and_save(browser, server, dash_db, camera):
    code = camera("CAM001")
    _, rev_before, audits_before = _stored(dash_db[0], code)
    ctx, page = login(browser, server, "maintenance")
    foreign = []
    page.on("request", lambda r: None if r.url.startswith((server.base, "data:")) else foreign.append(r.url))
    # Every script error counts, the map's too (its viewport tracking used to throw; see dashboard/maps.py).
    errors = []
    page.on("pageerror", lambda exc: errors.append(exc.stack or str(exc)))
    box = _open(page, server, code)
    # The snapshot is 16:9; the editor surface lies exactly on it, so 0-1 image coordinates are its own.
    assert box["width"] / box["height"] == pytest.approx(640 / 360, rel=0.01)
    assert page.locator("#cameras-editor polygon.gw-zone-sel").count() == 1
    assert page.input_value("#cameras-zone-name") == "gate"

    _drag(page, box, (0.5, 0.5), (0.6, 0.4))  # vertex 2 of the gate: up and right
    page.wait_for_function("document.getElementById('cameras-zones').value.includes('0.6')", timeout=5_000)
    # The edge from (0.5, 0.9) to (0.1, 0.9) has its midpoint handle at (0.3, 0.9): pulled down, a new vertex.
    _drag(page, box, (0.3, 0.9), (0.3, 0.97))
    page.wait_for_selector("#cameras-editor circle.gw-vtx[data-v='4']", timeout=5_000)
    # Another vertex pulled out of the edge (0.6, 0.4)-(0.5, 0.9), then removed again with a right click.
    _drag(page, box, (0.55, 0.65), (0.7, 0.65))
    page.wait_for_selector("#cameras-editor circle.gw-vtx[data-v='5']", timeout=5_000)
    page.mouse.click(box["x"] + 0.7 * box["width"], box["y"] + 0.65 * box["height"], button="right")
    page.wait_for_function("document.querySelectorAll('#cameras-editor circle.gw-vtx').length === 5", timeout=5_000)
    # Dragged past the picture's edge, a vertex stops at the edge (coordinates stay in 0-1).
    _drag(page, box, (0.1, 0.5), (-0.2, 0.45))

    # Rules through the form: add a crowd rule of 8 people for 20 s, rename the zone.
    page.locator("#cameras-rule-crowd-on label").click()
    page.fill("#cameras-rule-crowd-people", "8")
    page.fill("#cameras-rule-crowd-seconds", "20")
    page.fill("#cameras-zone-name", "north gate")
    page.wait_for_function("document.getElementById('cameras-zones').value.includes('\"min_people\": 8')",
                           timeout=5_000)
    page.click("#cameras-zone-save")
    page.wait_for_function("document.getElementById('cameras-msg').textContent === '区域已保存'", timeout=10_000)
    shot(page, "cameras-zone-editor-1920x1080")
    ctx.close()
    assert foreign == []  # the editor is the dashboard's own script: no CDN, works offline
    assert errors == []

    config, rev_after, audits_after = _stored(dash_db[0], code)
    (zone,) = config["zones"]
    assert zone["name"] == "north gate"
    want = [[0.0, 0.45], [0.6, 0.4], [0.5, 0.9], [0.3, 0.97], [0.1, 0.9]]
    assert len(zone["polygon"]) == len(want)
    for got, aim in zip(zone["polygon"], want):
        assert got == pytest.approx(aim, abs=TOL), zone["polygon"]
    assert zone["polygon"][0][0] == 0.0  # clamped exactly, not a hair outside
    assert zone["rules"] == [{"kind": "intrusion", "dispatch": "manual"},
                             {"kind": "crowd", "seconds": 20.0, "min_people": 8, "dispatch": "manual"}]
    # The same save path as ever: an audit row per save, and the revision the camera workers watch moved.
    assert audits_after == audits_before + 1
    assert rev_after > rev_before


@pytest.mark.browser
def test_self_crossing_polygon_is_refused_and_nothing_saved(browser, server, dash_db, camera):
    code = camera("CAM000")
    before = _stored(dash_db[0], code)
    ctx, page = login(browser, server, "maintenance")
    box = _open(page, server, code)
    # Vertex 3 (0.5, 0.9) pulled up over the top edge: the outline becomes a bow tie.
    _drag(page, box, (0.5, 0.9), (0.3, 0.3))
    page.wait_for_selector("#cameras-editor polygon.gw-zone-bad", timeout=5_000)
    assert "交叉" in page.inner_text("#cameras-editor-hint")  # warned while editing, before any save
    page.click("#cameras-zone-save")
    page.wait_for_function("document.getElementById('cameras-msg').textContent.includes('自相交') ||"
                           "document.getElementById('cameras-msg').textContent.includes('交叉')", timeout=10_000)
    msg = page.inner_text("#cameras-msg")
    assert msg == "区域格式错误：区域“gate”：多边形的边相互交叉或面积为零，请调整顶点"
    # The refused outline stays on screen to be mended, still marked.
    assert page.locator("#cameras-editor polygon.gw-zone-bad").count() == 1
    shot(page, "cameras-zone-refused-1920x1080")
    assert _stored(dash_db[0], code) == before  # config, revision and audit log untouched

    # The same refusal in English after the language switch.
    page.goto(server.base + "/lang/en?next=/cameras")
    box = _open(page, server, code)
    _drag(page, box, (0.5, 0.9), (0.3, 0.3))
    page.wait_for_selector("#cameras-editor polygon.gw-zone-bad", timeout=5_000)
    page.click("#cameras-zone-save")
    page.wait_for_function("document.getElementById('cameras-msg').textContent.startsWith('Bad zones')",
                           timeout=10_000)
    assert page.inner_text("#cameras-msg") == ("Bad zones: zone “gate”: the polygon crosses itself or has no area; "
                                               "move its vertices")
    ctx.close()
    assert _stored(dash_db[0], code) == before
