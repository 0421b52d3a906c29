"""Counting lines and counts on /cameras in Chromium (issue 14): a line drawn on the snapshot, its in side
picked by a click, named, saved into the camera config; a bad line refused by name; the counts stored in
camera_count drawn on the camera's chart."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import psycopg
import pytest
from psycopg.types.json import Jsonb

from geodata import camera_counts
from geodata.bus.messages import LineCount, LiveCameraCounts, ZoneCount
from tests.dashboard.conftest import login, shot
from video.media import latest_snapshot_name

CODE = "CAM003"  # only read by the other suites
SEEDED = {"zones": [{"name": "gate", "rules": [{"kind": "intrusion"}],
                     "polygon": [[0.1, 0.5], [0.5, 0.5], [0.5, 0.9], [0.1, 0.9]]}]}
TOL = 0.006  # handles are 7 px discs on an ~800 px picture: a click lands within 2 px of its aim


@pytest.fixture
def camera(dash_db, server):
    """CAM003 at its seeded config (no lines, no counts) with a 640x360 latest snapshot; restored after."""
    def reset():
        with psycopg.connect(dash_db[0]) as conn:
            conn.execute("UPDATE camera SET config = %s WHERE code = %s", (Jsonb(SEEDED), CODE))
            conn.execute("DELETE FROM camera_count WHERE camera_code = %s", (CODE,))

    reset()
    path = server.media / latest_snapshot_name(CODE)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((360, 640, 3), (60, 50, 40), np.uint8))
    yield CODE
    reset()
    path.unlink(missing_ok=True)


def _config(db_url: str) -> dict:
    with psycopg.connect(db_url) as conn:
        return conn.execute("SELECT config FROM camera WHERE code = %s", (CODE,)).fetchone()[0]


def _open(page, server, editor: bool = True) -> dict:
    page.goto(server.base + "/cameras")
    page.wait_for_selector("#cameras-list-table tbody tr", timeout=15_000)
    page.locator("#cameras-list-table tbody tr").filter(has_text=CODE).click()
    page.wait_for_function("(() => { const i = document.getElementById('cameras-snapshot');"
                           " return i && !i.hidden && i.complete && i.naturalWidth === 640; })()", timeout=10_000)
    if editor:
        page.wait_for_selector("#cameras-editor circle.gw-vtx[data-v='3']", timeout=10_000)
    return page.locator("#cameras-editor").bounding_box()


def _click(page, box, p, **kw) -> None:
    page.mouse.click(box["x"] + p[0] * box["width"], box["y"] + p[1] * box["height"], **kw)


def _settle(page) -> None:
    """Let the callbacks a gesture started answer: a form value typed meanwhile would be reset by the
    answer of a callback that read the store before it (the zone form has the same race)."""
    page.wait_for_timeout(150)
    page.wait_for_function("document.querySelector('[data-dash-is-loading=\"true\"]') === null", timeout=10_000)


def _draw_line(page, points, side, n: int) -> dict:
    """Draw a line with the tool and pick its side; return the picture's box (the tool scrolls it into view)."""
    page.click("#cameras-line-new")
    page.wait_for_selector("#cameras-editor svg.gw-line-busy", timeout=5_000)
    box = page.locator("#cameras-editor").bounding_box()
    for p in points:
        _click(page, box, p)
    _click(page, box, points[-1])  # the last point again ends the line
    page.wait_for_function(f"document.querySelectorAll('#cameras-editor polyline.gw-line').length === {n}",
                           timeout=5_000)
    assert page.locator("#cameras-editor svg.gw-line-busy").count() == 1  # waiting for the side
    _click(page, box, side)
    page.wait_for_selector("#cameras-editor svg.gw-line-busy", state="detached", timeout=5_000)
    return box


@pytest.mark.browser
def test_draw_a_line_pick_its_in_side_name_it_and_save(browser, server, dash_db, camera):
    ctx, page = login(browser, server, "maintenance")
    errors = []
    page.on("pageerror", lambda exc: errors.append(exc.stack or str(exc)))
    _open(page, server)
    # No lines yet, and the page says so (its callback may land after the editor is drawn).
    page.wait_for_selector("#cameras-line-none", state="visible", timeout=10_000)
    # No counts yet: a sentence, not empty axes.
    page.wait_for_selector("#cameras-counts-none", state="visible", timeout=10_000)
    assert page.is_hidden("#cameras-counts-chart")

    box = _draw_line(page, [(0.3, 0.2), (0.7, 0.2)], (0.5, 0.35), 1)
    page.wait_for_selector("#cameras-editor polyline.gw-line-sel", state="attached", timeout=5_000)
    page.wait_for_function("document.getElementById('cameras-line-name').value === '计数线1'", timeout=5_000)
    shot(page, "cameras-line-drawn-1920x1080")
    # Its end point dragged down and right, as a zone's vertex is.
    page.mouse.move(box["x"] + 0.7 * box["width"], box["y"] + 0.2 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.8 * box["width"], box["y"] + 0.25 * box["height"], steps=6)
    page.mouse.up()
    _settle(page)
    page.fill("#cameras-line-name", "north door")
    _settle(page)
    page.locator("#cameras-line-classes label").filter(has_text="车辆").click()  # people only
    page.wait_for_function("document.querySelectorAll('#cameras-line-classes input:checked').length === 1",
                           timeout=5_000)
    page.click("#cameras-zone-save")
    page.wait_for_function("document.getElementById('cameras-msg').textContent === '区域已保存'", timeout=10_000)
    shot(page, "cameras-line-editor-1920x1080")

    (line,) = _config(dash_db[0])["lines"]
    assert line["name"] == "north door" and line["classes"] == ["person"]
    for got, aim in zip(line["points"], [(0.3, 0.2), (0.8, 0.25)], strict=True):
        assert got == pytest.approx(aim, abs=TOL), line
    assert line["in_side"] == pytest.approx([0.5, 0.35], abs=TOL)
    assert _config(dash_db[0])["zones"][0]["name"] == "gate"  # the zones saved along, untouched

    # A second line under the same name is refused by name, and nothing is written.
    _open(page, server)
    page.wait_for_selector("#cameras-editor polyline.gw-line", state="attached", timeout=5_000)
    _draw_line(page, [(0.2, 0.1), (0.2, 0.4)], (0.25, 0.3), 2)
    page.wait_for_function("document.getElementById('cameras-line-name').value === '计数线2'", timeout=5_000)
    page.fill("#cameras-line-name", "north door")
    page.click("#cameras-zone-save")
    page.wait_for_function("document.getElementById('cameras-msg').textContent.startsWith('计数线格式错误')",
                           timeout=10_000)
    assert page.inner_text("#cameras-msg") == "计数线格式错误：计数线名称重复：north door"
    assert len(_config(dash_db[0])["lines"]) == 1
    ctx.close()
    assert errors == []


@pytest.mark.browser
def test_counts_in_the_database_show_on_the_cameras_chart(browser, server, dash_db, camera):
    now = datetime.now(timezone.utc)
    start = datetime.fromtimestamp(camera_counts.bucket_of(now.timestamp()), timezone.utc) - timedelta(minutes=10)
    with psycopg.connect(dash_db[0]) as conn:
        for k, (n_in, n_out, peak) in enumerate([(4, 1, 3), (6, 2, 5)]):
            camera_counts.write_bucket(conn, LiveCameraCounts(
                at=now, camera=CODE, bucket_start=start + timedelta(minutes=5 * k), bucket_s=300,
                zones=[ZoneCount(name="gate", cls="person", peak=peak)],
                lines=[LineCount(name="door", cls="person", in_=n_in, out=n_out)]))
        # Older than 24 h: not on the chart.
        camera_counts.write_bucket(conn, LiveCameraCounts(
            at=now, camera=CODE, bucket_start=start - timedelta(hours=25), bucket_s=300,
            lines=[LineCount(name="door", cls="person", in_=99, out=99)]))
    ctx, page = login(browser, server, "dispatcher")  # a role that sees the page without editing
    _open(page, server, editor=False)
    page.wait_for_function("(() => { const g = document.querySelector('#cameras-counts-chart .js-plotly-plot');"
                           " return g && g.data && g.data.length === 3; })()", timeout=10_000)
    assert page.is_hidden("#cameras-counts-none")
    page.locator("#cameras-counts-chart").scroll_into_view_if_needed()
    traces = page.evaluate("document.querySelector('#cameras-counts-chart .js-plotly-plot').data"
                           ".map(d => [d.meta, d.name, Array.from(d.y)])")
    shot(page, "cameras-counts-chart-1920x1080")
    ctx.close()
    assert traces == [["line:door:person:in", "door · 行人 · 进", [4, 6]],
                      ["line:door:person:out", "door · 行人 · 出", [1, 2]],
                      ["zone:gate:person", "gate · 行人", [3, 5]]]
