"""The wall fits its screens: no scrolling, nothing cut mid-line, lists show what fits and "+N".

Also the checker itself (tests/dashboard/fit.py, used by the other pages' tests) on pages made to fail.
"""

from __future__ import annotations

import time

import pytest

from tests.dashboard.conftest import login, shot
from tests.dashboard.fit import assert_fits, find_offenders

LAYERS = ("live", "analysis", "cameras", "workers")

# (page body, allow_scroll, the reasons the checker must give): what it catches and what it lets pass.
CASES = [
    ("<div style='width:300px'>fits</div>", False, []),
    ("<div style='width:60px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis'>cut with an ellipsis</div>",
     False, ["cut"]),
    ("<ul style='height:40px;overflow:hidden;margin:0;padding:0'><li style='height:20px'>a</li>"
     "<li style='height:20px'>b</li><li style='height:20px'>c</li></ul>", False, ["hidden"]),
    ("<div><ul style='height:40px;overflow:hidden;margin:0;padding:0'><li style='height:20px'>a</li>"
     "<li style='height:20px'>b</li><li style='height:20px'>c</li></ul><span>+1</span></div>", False, []),
    ("<ul style='height:30px;overflow:hidden;margin:0;padding:0;line-height:20px'><li>a</li><li>b</li></ul>"
     "<span>+1</span>", False, ["cut"]),
    ("<div style='width:80px;display:-webkit-box;-webkit-line-clamp:2;-webkit-box-orient:vertical;overflow:hidden'>"
     "one two three four five six seven eight</div>", False, ["hidden"]),
    ("<div style='height:40px;overflow:auto'><p>a</p><p>b</p><p>c</p></div>", False, ["scrolls", "hidden", "hidden"]),
    ("<div style='height:40px;overflow:auto'><p>a</p><p>b</p><p>c</p></div>", True, []),
    ("<div style='height:3000px'>tall</div>", False, ["document"]),
]


@pytest.mark.browser
@pytest.mark.parametrize("body,allow_scroll,reasons", CASES)
def test_the_checker_finds_what_does_not_fit(browser, body, allow_scroll, reasons):
    page = browser.new_page(viewport={"width": 800, "height": 600})
    page.set_content("<body style='margin:0;font:16px sans-serif'>" + body + "</body>")
    got = [o["reason"] for o in find_offenders(page, allow_scroll=allow_scroll)]
    page.close()
    assert got == reasons


def _wait_loaded(page):
    page.wait_for_selector("#wall-root", timeout=40_000)
    page.wait_for_function("document.getElementById('wall-kpi-open-value').textContent !== '—'", timeout=40_000)
    page.wait_for_selector("#wall-chart-cameras .main-svg", timeout=40_000)
    page.wait_for_selector("#wall-warning-list", state="attached", timeout=40_000)


@pytest.mark.browser
@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_every_layer_of_the_wall_fits_without_scrolling_or_cutting(browser, server, size):
    ctx, page = login(browser, server, "wall", size=size, path="/wall")
    _wait_loaded(page)
    time.sleep(0.5)  # the lists are trimmed on the next animation frame after each render
    for layer in LAYERS:
        page.evaluate(f"window.gridwatch.wall.show('{layer}')")
        page.wait_for_selector(f"#wall-root[data-layer={layer}]", state="attached")
        shot(page, f"wall-fit-{layer}-{size[0]}x{size[1]}")
        assert_fits(page)
    # The seeded data has more incidents than the latest-events list can hold: it says how many are left.
    more = page.inner_text("#wall-ticker-more")
    shown = page.eval_on_selector_all("#wall-ticker > li", "els => els.filter(e => e.offsetParent).length")
    ctx.close()
    assert more.startswith("+") and int(more[1:]) > 0 and shown >= 3, (more, shown)


@pytest.mark.browser
def test_the_english_wall_fits_too(browser, server):
    ctx, page = login(browser, server, "wall", path="/lang/en?next=/wall")
    _wait_loaded(page)
    time.sleep(0.5)
    for layer in LAYERS:
        page.evaluate(f"window.gridwatch.wall.show('{layer}')")
        assert_fits(page)
    shot(page, "wall-fit-en-1920x1080")
    ctx.close()


@pytest.mark.browser
def test_a_held_layer_stays_and_shows_only_its_own_legend(browser, server):
    ctx, page = login(browser, server, "wall", path="/wall?layer=cameras")
    _wait_loaded(page)
    visible = page.eval_on_selector_all(".gw-wall-legend-box", "els => els.filter(e => e.offsetParent)"
                                        ".map(e => e.getAttribute('data-layer'))")
    panes = page.evaluate("""() => ['subgrid', 'analysis', 'cameras', 'workers', 'clusters', 'live'].filter(n => {
        const el = document.querySelector('.leaflet-wall-' + n + '-pane-pane');
        return el && getComputedStyle(el).display !== 'none'; })""")
    legend = page.inner_text("#wall-camera-legend")
    # the legend sits in a corner: it never reaches the middle of the map
    box = page.evaluate("""() => { const m = document.getElementById('wall-map').getBoundingClientRect();
        const l = document.querySelector('.gw-wall-legend-box[data-layer=cameras]').getBoundingClientRect();
        const cx = m.left + m.width / 2, cy = m.top + m.height / 2;
        return {centre: l.left <= cx && cx <= l.right && l.top <= cy && cy <= l.bottom}; }""")
    shot(page, "wall-cameras-1920x1080")
    ctx.close()
    assert visible == ["cameras"] and panes == ["cameras"]
    assert "在线" in legend and "覆盖" in legend
    assert not box["centre"]
