/* Counting lines on the camera editor (issue 14): drawn as SVG over the snapshot, in 0-1 image coordinates,
   in a layer of their own above the zones (assets/gridwatch-cameras.js), so neither script reaches into
   the other's drawing.

   The Dash store `cameras-edit` is the truth for both: its "lines" ([{name, points, in_side, classes}], as
   video/config.py stores them) and "lsel" (the line on show). Dash hands it to render() below (a clientside
   callback); every edit made here goes back with set_props at the end of the gesture. Tools: "draw a
   counting line" (click points; Enter, or a click on the last point, ends it; then a click on one side
   says which side is "in"), "pick the in side" again, "delete line"; on the line on show its points and
   its "in" marker can be dragged. The layer lets pointer events through to the zones except on its own
   shapes, and takes them all while drawing or picking a side. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var VERTEX_R = 7, CLOSE_PX = 12, SIDE_R = 11;
  var st = {data: null, code: null, mode: "edit", draft: [], drag: null, observed: null};

  function host() { return document.getElementById("cameras-editor"); }
  function editable() { var h = host(); return !!h && h.getAttribute("data-editable") === "1"; }
  function say(key) { var h = host(); return (h && h.getAttribute("data-" + key)) || ""; }
  function copy(o) { return JSON.parse(JSON.stringify(o)); }
  // Rounded to 1/10000 of the picture and never outside it, as the zone script does: the config refuses both.
  function clamp(v) { return Math.min(1, Math.max(0, Math.round(v * 10000) / 10000)); }
  function lines() { return (st.data && Array.isArray(st.data.lines)) ? st.data.lines : []; }
  function point(p) { return Array.isArray(p) && p.length === 2 && isFinite(p[0]) && isFinite(p[1]); }
  function drawable(l) { return !!l && Array.isArray(l.points) && l.points.length > 0 && l.points.every(point); }
  function selected() {
    var s = st.data ? st.data.lsel : null, l = lines()[s];
    return (typeof s === "number" && drawable(l)) ? l : null;
  }

  function hint(text, bad) {
    var el = document.getElementById("cameras-line-hint");
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("gw-zone-hint-bad", !!bad);
  }

  function commit() {
    var dc = window.dash_clientside;
    if (!dc || !dc.set_props || !st.data) return;
    dc.set_props("cameras-edit", {data: copy(st.data)});
    // The JSON view shows the lines too; written at once, as the zone script does, so "save" never takes
    // the moment before the render callback redraws it for an unapplied JSON edit.
    var zs = dc.gwZones;
    if (zs && zs.json) dc.set_props("cameras-zones", {value: zs.json(st.data)});
  }

  function el(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    parent.appendChild(e);
    return e;
  }
  function pixels(pts, w, h) {
    return pts.map(function (p) { return (p[0] * w).toFixed(1) + "," + (p[1] * h).toFixed(1); }).join(" ");
  }

  // The point of the polyline nearest to p (image coordinates), to draw the "in" marker's tether from.
  function nearest(pts, p) {
    var best = pts[0], bestD = Infinity;
    for (var i = 0; i + 1 < pts.length; i++) {
      var a = pts[i], b = pts[i + 1], dx = b[0] - a[0], dy = b[1] - a[1], len = dx * dx + dy * dy;
      var k = len > 0 ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len)) : 0;
      var q = [a[0] + k * dx, a[1] + k * dy], d = Math.hypot(q[0] - p[0], q[1] - p[1]);
      if (d < bestD) { bestD = d; best = q; }
    }
    return best;
  }

  // A new line's first guess at its in side: a little to the right of its first segment's middle (the
  // operator is asked to click the real one at once).
  function defaultSide(pts) {
    var a = pts[0], b = pts[1], dx = b[0] - a[0], dy = b[1] - a[1], len = Math.hypot(dx, dy) || 1;
    return [clamp((a[0] + b[0]) / 2 - dy / len * 0.06), clamp((a[1] + b[1]) / 2 + dx / len * 0.06)];
  }

  function surface() {
    var h = host();
    if (!h) return null;
    var svg = h.querySelector("svg.gw-line-svg");
    if (!svg) {
      svg = document.createElementNS(NS, "svg");
      svg.setAttribute("class", "gw-line-svg");
      h.appendChild(svg);
      svg.addEventListener("pointerdown", onDown);
      svg.addEventListener("pointermove", onMove);
      svg.addEventListener("pointerup", onUp);
      svg.addEventListener("pointercancel", onUp);
      svg.addEventListener("contextmenu", onContext);
    } else if (svg !== h.lastElementChild) {
      h.appendChild(svg);  // the zone layer was created after this one: stay on top of it
    }
    if (st.observed !== h && window.ResizeObserver) {
      new ResizeObserver(function () { draw(); }).observe(h);
      st.observed = h;
    }
    return svg;
  }

  function draw() {
    var svg = surface();
    if (!svg) return;
    var h = host(), w = h.clientWidth, ht = h.clientHeight, sel = st.data ? st.data.lsel : null;
    svg.setAttribute("viewBox", "0 0 " + w + " " + ht);
    svg.classList.toggle("gw-line-busy", st.mode !== "edit");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    lines().forEach(function (l, i) {
      if (!drawable(l)) return;
      var cls = "gw-line" + (i === sel ? " gw-line-sel" : "");
      el("polyline", {points: pixels(l.points, w, ht), "class": cls, "data-line": i}, svg);
      // A wide transparent twin makes a thin line easy to pick.
      el("polyline", {points: pixels(l.points, w, ht), "class": "gw-line-hit", "data-line": i}, svg);
      var f = l.points[0];
      el("text", {x: f[0] * w + 6, y: Math.max(f[1] * ht - 6, 14), "class": "gw-zone-label"}, svg).textContent = l.name || "";
      if (point(l.in_side)) {
        var q = nearest(l.points, l.in_side);
        el("line", {x1: q[0] * w, y1: q[1] * ht, x2: l.in_side[0] * w, y2: l.in_side[1] * ht,
                    "class": "gw-line-tether" + (i === sel ? " gw-line-sel" : "")}, svg);
        el("circle", {cx: l.in_side[0] * w, cy: l.in_side[1] * ht, r: SIDE_R, "data-side": i,
                      "class": "gw-line-side" + (i === sel ? " gw-line-side-sel" : "")}, svg);
        el("text", {x: l.in_side[0] * w, y: l.in_side[1] * ht + 4, "class": "gw-line-side-label"}, svg)
          .textContent = say("line-in");
      }
    });
    var l = selected();
    if (l && editable() && st.mode === "edit") {
      l.points.forEach(function (p, j) {
        el("circle", {cx: p[0] * w, cy: p[1] * ht, r: VERTEX_R, "data-v": j, "class": "gw-line-vtx"}, svg);
      });
    }
    if (st.mode === "draw" && st.draft.length) {
      el("polyline", {points: pixels(st.draft, w, ht), "class": "gw-draft"}, svg);
      st.draft.forEach(function (p, j) {
        el("circle", {cx: p[0] * w, cy: p[1] * ht, r: j === st.draft.length - 1 ? VERTEX_R : 4,
                      "class": "gw-draft-vtx" + (j === st.draft.length - 1 ? " gw-draft-first" : "")}, svg);
      });
    }
    if (st.mode === "draw") hint(say("hint-line-draw"), false);
    else if (st.mode === "side") hint(say("hint-line-side"), false);
  }

  function at(ev) {
    var r = host().getBoundingClientRect();
    return [clamp((ev.clientX - r.left) / r.width), clamp((ev.clientY - r.top) / r.height)];
  }

  function onDown(ev) {
    if (ev.button !== 0 || !st.data) return;
    var t = ev.target, l = selected();
    if (st.mode === "draw") { ev.preventDefault(); ev.stopPropagation(); addDraftPoint(ev); return; }
    if (st.mode === "side") {
      ev.preventDefault();
      ev.stopPropagation();
      if (l) { l.in_side = at(ev); }
      st.mode = "edit";
      hint("", false);
      draw();
      commit();
      return;
    }
    if (t.hasAttribute("data-v") && l && editable()) {
      grab(ev, {v: +t.getAttribute("data-v")});
    } else if (t.hasAttribute("data-side") && +t.getAttribute("data-side") === st.data.lsel && l && editable()) {
      grab(ev, {side: true});
    } else if (t.hasAttribute("data-line") || t.hasAttribute("data-side")) {
      ev.stopPropagation();
      var i = +(t.getAttribute("data-line") || t.getAttribute("data-side"));
      if (i !== st.data.lsel) { st.data.lsel = i; draw(); commit(); }
    }
  }

  function grab(ev, what) {
    ev.preventDefault();
    ev.stopPropagation();
    ev.currentTarget.setPointerCapture(ev.pointerId);
    st.drag = {pointer: ev.pointerId, what: what, moved: false};
  }

  function onMove(ev) {
    var l = selected();
    if (!st.drag || ev.pointerId !== st.drag.pointer || !l) return;
    if (st.drag.what.side) l.in_side = at(ev); else l.points[st.drag.what.v] = at(ev);
    st.drag.moved = true;
    draw();
  }

  function onUp(ev) {
    if (!st.drag || ev.pointerId !== st.drag.pointer) return;
    var moved = st.drag.moved;
    st.drag = null;
    if (ev.currentTarget.hasPointerCapture(ev.pointerId)) ev.currentTarget.releasePointerCapture(ev.pointerId);
    if (moved) commit();
  }

  function onContext(ev) {
    if (st.mode !== "draw") return;
    ev.preventDefault();
    st.draft.pop();
    draw();
  }

  function addDraftPoint(ev) {
    var p = at(ev), h = host(), last = st.draft[st.draft.length - 1];
    if (st.draft.length >= 2 &&
        Math.hypot((p[0] - last[0]) * h.clientWidth, (p[1] - last[1]) * h.clientHeight) <= CLOSE_PX) {
      finish();
      return;
    }
    st.draft.push(p);
    draw();
  }

  function freeName() {
    var used = lines().map(function (l) { return l && l.name; }), n = lines().length + 1;
    while (used.indexOf(say("line-default").replace("{n}", n)) >= 0) n++;
    return say("line-default").replace("{n}", n);
  }

  function finish() {
    if (st.draft.length < 2) { hint(say("hint-line-min2"), true); return; }
    var ls = lines().slice();
    ls.push({name: freeName(), points: st.draft, in_side: defaultSide(st.draft), classes: ["person", "vehicle"]});
    st.data.lines = ls;
    st.data.lsel = ls.length - 1;
    st.draft = [];
    // The line exists now (with a guessed in side, so it is never invalid); the next click says the real one.
    st.mode = "side";
    draw();
    commit();
  }

  function stopTool() {
    st.mode = "edit";
    st.draft = [];
    hint("", false);
    draw();
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("button");
    if (!btn || !editable() || !st.data || !st.data.code) return;
    if (btn.id === "cameras-line-new") {
      st.mode = "draw";
      st.draft = [];
      draw();
      host().scrollIntoView({block: "nearest"});
    } else if (btn.id === "cameras-line-side" && selected()) {
      st.mode = "side";
      draw();
      host().scrollIntoView({block: "nearest"});
    } else if (btn.id === "cameras-line-delete" && selected()) {
      var ls = lines().slice();
      ls.splice(st.data.lsel, 1);
      st.data.lines = ls;
      st.data.lsel = ls.length ? Math.min(st.data.lsel, ls.length - 1) : null;
      stopTool();
      commit();
    } else if (btn.id === "cameras-zone-new") {
      stopTool();  // one drawing tool at a time
    }
  });

  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || ev.target.isContentEditable) return;
    if (!host() || !editable() || st.mode === "edit") return;
    if (st.mode === "draw" && ev.key === "Enter") { ev.preventDefault(); finish(); }
    else if (ev.key === "Escape") stopTool();  // in "side" mode the guessed side stays
  });

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.gwLines = {
    render: function (data) {
      if (!st.drag) {
        st.data = data ? copy(data) : null;
        var code = st.data ? st.data.code : null;
        if (code !== st.code) { st.mode = "edit"; st.draft = []; hint("", false); }
        st.code = code;
        draw();
      }
      return null;
    }
  };
})();
