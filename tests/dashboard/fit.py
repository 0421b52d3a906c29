"""Does a page fit its screen? No page scroll, no text cut mid-line, hidden rows owned up to with "+N".

Usage in a browser test (any page, any size)::

    from tests.dashboard.fit import assert_fits
    page.set_viewport_size({"width": 1600, "height": 900}); ...wait for the data...
    assert_fits(page)                      # raises AssertionError listing the offenders
    assert_fits(page, allow_scroll=True)   # panels that scroll inside are fine (console)
    offenders = find_offenders(page)       # the same check, returned as a list of dicts

What counts as an offender (measured in the page, on the line boxes of every visible text node):
- `document`: the page itself scrolls (scrollWidth/scrollHeight beyond the window);
- `cut`: a line of text is partly outside its clipping box (an ancestor, or the element itself, with
  overflow other than visible: `overflow: hidden`, `text-overflow: ellipsis`, `-webkit-line-clamp`...),
  or partly outside the window: the reader sees half a line or half a word;
- `hidden`: a line is wholly clipped away and no "+N" (`+37`, `+1,204 条`) is visible in the clipping
  box's parent: rows may be left out only when the page says how many;
- `scrolls`: with allow_scroll=False, a box with overflow auto/scroll has more content than it shows.

Text inside `ignore` selectors (by default the Leaflet map and Plotly charts, which clip by design) is
not looked at. Each offender: {"reason", "where" (a CSS-like path), "text", "line" (its rect), "clip"}.
"""

from __future__ import annotations

DEFAULT_IGNORE = (".leaflet-container", ".js-plotly-plot", "script", "style", "noscript", "template")

_PROBE = r"""([rootSel, allowScroll, ignore, tol]) => {
  const root = document.querySelector(rootSel) || document.body;
  const out = [];
  const W = window.innerWidth, H = window.innerHeight;
  const de = document.documentElement;
  if (de.scrollWidth > W + tol || de.scrollHeight > H + tol) {
    out.push({reason: 'document', where: 'html', text: '',
              line: [0, 0, de.scrollWidth, de.scrollHeight], clip: [0, 0, W, H]});
  }
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 4; e = e.parentElement) {
      let s = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(s + '#' + e.id); break; }
      if (e.classList.length) s += '.' + Array.from(e.classList).slice(0, 2).join('.');
      parts.unshift(s);
    }
    return parts.join(' > ');
  };
  const visible = (el) => {
    if (el.closest('[hidden]')) return false;
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || parseFloat(cs.opacity) === 0) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const PLUS_N = /\+\s*\d[\d,]*/;
  const showsMore = (box) => {
    const scope = box.parentElement || box;
    for (const el of scope.querySelectorAll('*')) {
      const own = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('');
      if (PLUS_N.test(own) && visible(el)) return true;
    }
    return PLUS_N.test(Array.from(scope.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join(''));
  };
  // Clipping chain of an element: [{el, x0, y0, x1, y1, scroll}] innermost first, then the window.
  const chainCache = new Map();
  const clips = (el) => {
    if (chainCache.has(el)) return chainCache.get(el);
    const chain = [];
    for (let e = el; e && e !== de; e = e.parentElement) {
      const cs = getComputedStyle(e);
      const ox = cs.overflowX, oy = cs.overflowY;
      const clamp = cs.webkitLineClamp && cs.webkitLineClamp !== 'none';
      if (ox === 'visible' && oy === 'visible' && !clamp) continue;
      const r = e.getBoundingClientRect();
      // the padding box clips: border excluded
      const bl = parseFloat(cs.borderLeftWidth), bt = parseFloat(cs.borderTopWidth);
      const x0 = r.left + bl, y0 = r.top + bt;
      chain.push({el: e, x0: ox === 'visible' ? -1e9 : x0, x1: ox === 'visible' ? 1e9 : x0 + e.clientWidth,
                  y0: oy === 'visible' && !clamp ? -1e9 : y0,
                  y1: oy === 'visible' && !clamp ? 1e9 : y0 + e.clientHeight,
                  scroll: ox === 'auto' || ox === 'scroll' || oy === 'auto' || oy === 'scroll'});
    }
    chain.push({el: de, x0: 0, y0: 0, x1: W, y1: H, scroll: false, window: true});
    chainCache.set(el, chain);
    return chain;
  };
  const seenScroll = new Set();
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent;
    if (!text.trim()) continue;
    const el = node.parentElement;
    if (!el || ignore.some(s => el.closest(s))) continue;
    if (!visible(el)) continue;
    range.selectNodeContents(node);
    const lines = Array.from(range.getClientRects()).filter(r => r.width > 0.5 && r.height > 0.5);
    const chain = clips(el);
    const said = new Set();  // one offender per text node and reason: a clamped paragraph is one finding
    for (const ln of lines) {
      for (const c of chain) {
        if (c.scroll && allowScroll) break;  // a panel that scrolls: the reader can reach the rest
        const ix = Math.min(ln.right, c.x1) - Math.max(ln.left, c.x0);
        const iy = Math.min(ln.bottom, c.y1) - Math.max(ln.top, c.y0);
        const inside = ln.left >= c.x0 - tol && ln.right <= c.x1 + tol && ln.top >= c.y0 - tol && ln.bottom <= c.y1 + tol;
        if (inside) continue;
        const item = {where: path(el), text: text.trim().slice(0, 60),
                      line: [ln.left, ln.top, ln.right, ln.bottom].map(Math.round),
                      clip: [c.x0, c.y0, c.x1, c.y1].map(v => Math.round(Math.max(-1, Math.min(v, 1e5)))),
                      by: c.window ? 'window' : path(c.el)};
        if (c.scroll && !allowScroll && !seenScroll.has(c.el)) {
          seenScroll.add(c.el);
          out.push({...item, reason: 'scrolls', where: path(c.el)});
        }
        let reason = null;
        if (ix > 0 && iy > 0 || c.window) reason = 'cut';  // off screen counts as cut
        else if (!showsMore(c.el)) reason = 'hidden';
        if (reason && !said.has(reason)) { said.add(reason); out.push({...item, reason}); }
        break;  // judged by the innermost box that clips it
      }
    }
  }
  return out;
}"""


def find_offenders(page, root: str = "body", *, allow_scroll: bool = False,
                   ignore: tuple[str, ...] = DEFAULT_IGNORE, tolerance: float = 1.0) -> list[dict]:
    """Everything on `page` under `root` that makes it not fit (see the module docstring), as dicts."""
    return page.evaluate(_PROBE, [root, allow_scroll, list(ignore), tolerance])


def assert_fits(page, root: str = "body", *, allow_scroll: bool = False,
                ignore: tuple[str, ...] = DEFAULT_IGNORE, tolerance: float = 1.0) -> list[dict]:
    """Fail naming every offender; returns [] when the page fits (so it can also be printed or counted)."""
    offenders = find_offenders(page, root, allow_scroll=allow_scroll, ignore=ignore, tolerance=tolerance)
    if offenders:
        size = page.viewport_size or {}
        lines = [f"{o['reason']}: {o['where']} {o['text']!r} line={o['line']} clip={o['clip']} by={o.get('by', '')}"
                 for o in offenders[:25]]
        more = f"\n... +{len(offenders) - 25} more" if len(offenders) > 25 else ""
        raise AssertionError(f"page does not fit {size.get('width')}x{size.get('height')}: "
                             f"{len(offenders)} offender(s)\n" + "\n".join(lines) + more)
    return offenders
