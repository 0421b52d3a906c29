"""The tablet's task markers on one spot are spread so every number reads (like a spiderfy), at every zoom,
and still match the list; the task's own map shows my sub-grids; a photo whose file is gone shows "image
missing", not a broken image. Its own database and server: it stacks tasks on one spot."""

from __future__ import annotations

import math
import uuid

import psycopg
import pytest

from tests.dashboard.conftest import login, shot
from tests.dashboard.fit import assert_fits
from tests.dashboard.own_rig import ingest, message, own_dashboard

SIZES = [(800, 1280), (1280, 800)]
SPOT = (114.3400, 22.6600)  # in worker1's (W001) sub-grid 六和社区第1网格
NEAR = (SPOT[0] + 0.00003, SPOT[1])  # about 3 m east
SIZE, GAP = 48, 6  # .gw-task-num's width and fieldSpread.GAP


@pytest.fixture(scope="module")
def rig(admin_url, template_db, dash_redis, tmp_path_factory):
    media = tmp_path_factory.mktemp("spread-media")
    with own_dashboard(admin_url, template_db, dash_redis, media, "gw_spread") as (url, _ids, srv):
        gone = f"field/test/gone-{uuid.uuid4().hex}.png"  # named in the report, never written
        stack: list[str] = []
        # Five reports on one spot, each told "a different one" about those before it (not_duplicate_of),
        # as the tablet's nearby-case prompt sends them; and two more a few metres away.
        for i in range(5):
            msg = message("dispute_neighbour", *SPOT, description=f"同一地点 {i + 1}",
                          media=(gone,) if i == 0 else (), not_duplicate_of=list(stack))
            assert ingest(url, [msg]).created == 1
            stack.append(str(msg.event_id))
        near: list[str] = []
        for i in range(2):
            msg = message("hazard_fire_exit", *NEAR, description=f"旁边 {i + 1}", not_duplicate_of=list(near))
            assert ingest(url, [msg]).created == 1
            near.append(str(msg.event_id))
        with psycopg.connect(url) as conn:
            mine = conn.execute("SELECT count(*) FROM incident WHERE id = ANY(%s::uuid[]) AND worker_code = 'W001' "
                                "AND status = 'dispatched'", (stack + near,)).fetchone()[0]
        assert mine == 7
        yield url, srv, stack, near, gone


@pytest.fixture(scope="module")
def tablet(browser, rig):
    """The field page of worker1, one logged-in page per tablet size for the whole module (a login and the
    page's first paint were most of each test's time), handed over with the task list in front."""
    _url, srv, *_ = rig
    opened: dict[tuple[int, int], tuple] = {}

    def page_at(size: tuple[int, int]):
        if size not in opened:
            opened[size] = login(browser, srv, "grid_worker", size=size)
        page = opened[size][1]
        if page.is_visible("#field-task"):  # a task a test before opened: back to the list and the big map
            page.click("#field-task-close")
            page.wait_for_selector("#field-task", state="hidden", timeout=20_000)
        return page

    yield page_at
    for ctx, _page in opened.values():
        ctx.close()


def _open_tasks(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM incident WHERE worker_code = 'W001' AND status IN "
                            "('dispatched', 'accepted', 'in_progress')").fetchone()[0]


# Every numbered marker on the map: where it is drawn, its offset, and whether its number can be read
# (the point at its centre hits the number itself, not another marker); pairs of markers that overlap.
MARKS = """() => {
  const map = document.getElementById('field-map').getBoundingClientRect();
  const els = Array.from(document.querySelectorAll('#field-map .gw-task-num'));
  const marks = els.map(e => {
    const r = e.getBoundingClientRect(), x = (r.left + r.right) / 2, y = (r.top + r.bottom) / 2;
    const inView = x > map.left && x < map.right && y > map.top && y < map.bottom;
    const hit = inView ? document.elementFromPoint(x, y) : null;
    return {id: e.dataset.id, n: e.dataset.n, text: e.textContent, x, y, w: r.width, inView,
            dx: +e.dataset.dx, dy: +e.dataset.dy, readable: !inView || !!hit && (hit === e || e.contains(hit))};
  });
  const overlaps = [];
  for (let i = 0; i < marks.length; i++) for (let j = i + 1; j < marks.length; j++) {
    const a = marks[i], b = marks[j];
    if (Math.hypot(a.x - b.x, a.y - b.y) < (a.w + b.w) / 2 - 0.5) overlaps.push([a.n, b.n]);
  }
  // A leg runs under its own number (Leaflet raises every svg in its panes, so this is not a given).
  const legOver = els.filter(e => { const leg = e.parentElement.querySelector('svg.gw-task-leg');
    return leg && !(+getComputedStyle(leg).zIndex < +getComputedStyle(e).zIndex); }).map(e => e.dataset.n);
  const list = {};
  document.querySelectorAll('#field-tasks button[data-id]').forEach(b => { list[b.dataset.id] = b.dataset.n; });
  return {marks, overlaps, list, legOver};
}"""


# The zoom the markers were last laid out for (field-spread.js marks it on the map's container).
SPREAD_ZOOM = """() => { const m = document.getElementById('field-map');
  const c = m.matches('[data-spread-zoom]') ? m : m.querySelector('[data-spread-zoom]');
  return c && c.getAttribute('data-spread-zoom'); }"""


def _zoom(page, lon: float, lat: float, zoom: int):
    # Asked again if the map was still mounting when first asked (dash-leaflet then drops the viewport).
    for attempt in range(4):
        page.evaluate("([lat, lon, zoom]) => window.dash_clientside.set_props('field-map', "
                      "{viewport: {center: [lat, lon], zoom: zoom, transition: 'setView'}})", [lat, lon, zoom])
        try:
            page.wait_for_function(f"() => ({SPREAD_ZOOM})() === '{zoom}'", timeout=15_000)
            return
        except Exception:
            if attempt == 3:
                raise


def _readable(page, n_open: int) -> dict:
    # The layout follows the zoom within a frame or two; wait for a settled, clean picture, then judge it.
    try:
        page.wait_for_function(f"""() => {{ const r = ({MARKS})();
            return r.marks.length === {n_open} && r.overlaps.length === 0 && r.marks.every(m => m.readable); }}""",
                               timeout=30_000)
    except Exception:
        pass  # the assertions below say what is wrong
    seen = page.evaluate(MARKS)
    # Where each number is drawn and how far it was moved, and the zoom laid out for: what a failure needs.
    drawn = [(m["n"], m["dx"], m["dy"], round(m["x"]), round(m["y"])) for m in seen["marks"]]
    zoom = page.evaluate(SPREAD_ZOOM)
    assert len(seen["marks"]) == n_open, drawn
    assert seen["overlaps"] == [], (seen["overlaps"], "n, dx, dy, x, y:", drawn, "zoom", zoom)
    assert seen["legOver"] == []
    assert [m["n"] for m in seen["marks"] if not m["readable"]] == []
    for m in seen["marks"]:  # the same number as its row in the list
        assert m["n"] == m["text"] == seen["list"][m["id"]]
    return seen


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_tasks_on_one_spot_are_spread_so_every_number_reads_at_every_zoom(tablet, rig, size):
    url, srv, stack, near, _gone = rig
    n_open = _open_tasks(url)
    page = tablet(size)
    page.wait_for_function(f"document.querySelectorAll('#field-map .gw-task-num').length === {n_open}",
                           timeout=20_000)
    tag = f"{size[0]}x{size[1]}"
    for zoom in (17, 13, 19, 15):
        _zoom(page, *SPOT, zoom)
        seen = _readable(page, n_open)
        at = {m["id"]: m for m in seen["marks"]}
        # The five on one spot all moved, and each leg ends at that one spot.
        ends = [(at[i]["x"] - at[i]["dx"], at[i]["y"] - at[i]["dy"]) for i in stack]
        assert all(at[i]["dx"] or at[i]["dy"] for i in stack)
        assert max(math.dist(e, ends[0]) for e in ends) <= 1.5, ends
        # Spread around it, not scattered over the map: within a few markers' width of the spot (from
        # zoom 15 on; further out my other tasks, 500 m away and more, join the same ring).
        if zoom >= 15:
            assert max(math.dist((at[i]["x"], at[i]["y"]), ends[0]) for i in stack + near) <= 4 * (SIZE + GAP)
        if zoom == 17:
            shot(page, f"field-spread-{tag}")
    assert_fits(page, allow_scroll=True)
    # A tap on a spread marker opens its own task, with the list's number.
    last = max(stack, key=lambda i: int(at[i]["n"]))
    page.click(f"#field-map .gw-task-num[data-id='{last}']")
    page.wait_for_selector("#field-task:not([hidden])", timeout=30_000)
    assert page.inner_text("#field-task-num") == at[last]["n"]


BROKEN = "() => Array.from(document.images).filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)"


@pytest.mark.browser
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_task_map_shows_my_sub_grids_and_a_missing_photo_says_so(tablet, rig, size):
    url, srv, stack, _near, gone = rig
    with psycopg.connect(url) as conn:
        grids = conn.execute("SELECT count(*) FROM sub_grid_assignment WHERE worker_code = 'W001' "
                             "AND valid_to IS NULL").fetchone()[0]
    assert grids >= 1
    page = tablet(size)
    page.wait_for_selector(f"#field-tasks button[data-id='{stack[0]}']", timeout=20_000)
    page.click(f"#field-tasks button[data-id='{stack[0]}']")
    page.wait_for_selector("#field-task:not([hidden])", timeout=30_000)
    # My sub-grids on the task's own map, green as on the big one, and the task's pin inside them.
    outlines = page.locator("#field-task-map .leaflet-overlay-pane path[stroke='#52c41a']")
    outlines.first.wait_for(timeout=45_000)
    assert outlines.count() == grids
    pin = page.locator("#field-task-map .gw-task-pin[data-kind=task]")
    pin.wait_for(timeout=45_000)
    assert (float(pin.get_attribute("data-lng")), float(pin.get_attribute("data-lat"))) == pytest.approx(SPOT, abs=1e-6)
    # The photo named by the report is gone from disk: a drawn "image missing" card, not a broken image.
    # Its <img> loads lazily, so only once in view: on the portrait tablet a page that earlier tests scrolled
    # may leave it below the fold, never fetched, never marked.
    page.locator("#field-task-photos img").first.scroll_into_view_if_needed(timeout=45_000)
    img = page.locator("#field-task-photos img[data-media-missing='1']")
    img.wait_for(timeout=45_000)
    assert img.get_attribute("data-media-src") == f"/media/{gone}"
    assert img.get_attribute("alt") == "图片缺失"
    page.wait_for_function("document.querySelector('#field-task-photos img').naturalWidth > 0", timeout=45_000)
    assert page.evaluate(BROKEN) == []
    r = page.context.request.get(srv.base + f"/media/{gone}")
    assert r.status == 404 and r.json()["code"] == "media.not_found"
    tag = f"{size[0]}x{size[1]}"
    shot(page, f"field-task-subgrids-{tag}")
    assert_fits(page, allow_scroll=True)


# The pure layout (window.gridwatch.fieldSpread.spread), on tables of (pixel points, indexes left in place).
CASES = {
    "two on one spot": ([(100, 100)] * 2, []),
    "eight on one spot: one ring": ([(100, 100)] * 8, []),
    "nine: a second ring": ([(100, 100)] * 9, []),
    "forty": ([(200, 200)] * 40, []),
    "a pair 3 px apart, one far away": ([(100, 100), (103, 101), (400, 400)], [2]),
    "a row 20 px apart": ([(100 + 20 * i, 100) for i in range(6)], []),
    "two stacks whose rings would touch": ([(100, 100)] * 4 + [(170, 100)] * 4, []),
    "apart already": ([(0, 0), (60, 0), (0, 60)], [0, 1, 2]),
}


@pytest.fixture(scope="module")
def script_page(tablet):
    page = tablet(SIZES[0])  # only its script is used, so the portrait tablet's page serves
    page.wait_for_function("window.gridwatch && window.gridwatch.fieldSpread", timeout=20_000)
    return page


@pytest.mark.browser
@pytest.mark.parametrize("name", list(CASES))
def test_spread_keeps_markers_a_width_apart_and_leaves_free_ones_alone(script_page, name):
    points, unmoved = CASES[name]
    off = script_page.evaluate("(pts) => window.gridwatch.fieldSpread.spread(pts.map(p => ({x: p[0], y: p[1]})), 48)",
                               [list(p) for p in points])
    at = [(x + o["dx"], y + o["dy"]) for (x, y), o in zip(points, off)]
    closest = min(math.dist(a, b) for i, a in enumerate(at) for b in at[i + 1:])
    assert closest >= SIZE + GAP - 1e-6, (name, closest)
    for i in unmoved:
        assert (off[i]["dx"], off[i]["dy"]) == (0, 0), name
    # Markers stay near where they are: within the rings a stack of this size needs.
    rings = 1 + len(points) // 8
    assert max(math.dist(a, p) for a, p in zip(at, points)) <= (rings + 2) * (SIZE + GAP), name


# Markers made by the tablet's own layer function, on a map of their own, taken off and put back after a zoom.
READDED = """() => {
  const div = document.createElement('div');
  div.style.cssText = 'position:fixed;left:0;top:0;width:400px;height:400px';
  document.body.appendChild(div);
  const map = L.map(div, {center: [22.66, 114.34], zoom: 14, zoomAnimation: false, fadeAnimation: false});
  const feature = (n, lon) => ({type: 'Feature', geometry: {type: 'Point', coordinates: [lon, 22.66]},
                                properties: {id: 'm' + n, n: n, overdue: false}});
  // About 100 m apart: one spot at zoom 14, far apart at zoom 19.
  const layer = L.geoJSON({type: 'FeatureCollection', features: [feature(1, 114.34), feature(2, 114.341)]},
                          {pointToLayer: window.gridwatch.fieldMap.taskNumber}).addTo(map);
  const offsets = () => Array.from(div.querySelectorAll('.gw-task-num')).map(e => [+e.dataset.dx, +e.dataset.dy]);
  const atFourteen = offsets();
  map.removeLayer(layer);
  map.setZoom(19, {animate: false});
  layer.addTo(map);
  const atNineteen = offsets();
  map.remove(); div.remove();
  return {atFourteen, atNineteen};
}"""


@pytest.mark.browser
def test_markers_taken_off_the_map_and_put_back_after_a_zoom_are_drawn_where_they_now_belong(script_page):
    seen = script_page.evaluate(READDED)
    # Spread where they overlap...
    assert all(dx or dy for dx, dy in seen["atFourteen"]) and len(seen["atFourteen"]) == 2, seen
    # ... and back in place, legs gone, where they no longer do (they kept the zoom-14 offsets before).
    assert seen["atNineteen"] == [[0, 0], [0, 0]], seen
