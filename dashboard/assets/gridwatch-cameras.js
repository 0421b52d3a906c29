/* The camera zone editor: zones drawn as SVG over the snapshot, in 0-1 image coordinates (x right, y down),
   the coordinates video/config.py uses.

   The Dash store `cameras-edit` ({code, zones, sel}) is the truth. Dash hands it to render() below (a
   clientside callback, which also fills the JSON view); every edit made here goes back with set_props at the
   end of the gesture, so the form, the JSON view and "save" see it. Only the gesture itself (a vertex being
   dragged, a polygon being drawn, the vertex picked for deletion) lives in this script alone.
   Sentences come from dashboard/i18n.py through data-* attributes of #cameras-editor. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var VERTEX_R = 8, MID_R = 5, CLOSE_PX = 12;
  var st = {data: null, code: null, sel: null, mode: "edit", draft: [], vtx: null, drag: null, observed: null};

  function host() { return document.getElementById("cameras-editor"); }
  function editable() { var h = host(); return !!h && h.getAttribute("data-editable") === "1"; }
  function say(key) { var h = host(); return (h && h.getAttribute("data-" + key)) || ""; }
  function copy(o) { return JSON.parse(JSON.stringify(o)); }
  // Rounded to 1/10000 of the picture (well under a pixel) and never outside it: the config refuses both.
  function clamp(v) { return Math.min(1, Math.max(0, Math.round(v * 10000) / 10000)); }
  function zones() { return (st.data && Array.isArray(st.data.zones)) ? st.data.zones : []; }
  function point(p) { return Array.isArray(p) && p.length === 2 && isFinite(p[0]) && isFinite(p[1]); }
  // A zone typed into the JSON view may be anything; only well-formed ones are drawn (save names the rest).
  function drawable(z) { return !!z && Array.isArray(z.polygon) && z.polygon.length > 0 && z.polygon.every(point); }
  function selected() {
    var s = st.data ? st.data.sel : null, z = zones()[s];
    return (typeof s === "number" && drawable(z)) ? z : null;
  }

  function hint(text, bad) {
    var el = document.getElementById("cameras-editor-hint");
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("gw-zone-hint-bad", !!bad);
  }

  // The camera's zones and counting lines as the config stores them (page.py's _parse_view reads it back).
  function json(data) {
    return data ? JSON.stringify({zones: data.zones || [], lines: data.lines || []}, null, 1) : "";
  }

  function commit() {
    var dc = window.dash_clientside;
    if (!dc || !dc.set_props || !st.data) return;
    dc.set_props("cameras-edit", {data: copy(st.data)});
    // The render callback writes the JSON view too, but a moment later; "save" compares the two and
    // must not mistake that moment for an operator's unapplied JSON edit.
    dc.set_props("cameras-zones", {value: json(st.data)});
  }

  /* Geometry: the same test shapely applies on save (no two edges meet except neighbours at their
     common vertex, some area), so the operator sees a refusal coming while still dragging. */
  function orient(a, b, c) { return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]); }
  function within(a, b, p) {
    return Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) &&
           Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1]);
  }
  function meet(a, b, c, d) {
    var o1 = orient(a, b, c), o2 = orient(a, b, d), o3 = orient(c, d, a), o4 = orient(c, d, b);
    if (((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))) return true;
    return (o1 === 0 && within(a, b, c)) || (o2 === 0 && within(a, b, d)) ||
           (o3 === 0 && within(c, d, a)) || (o4 === 0 && within(c, d, b));
  }
  function area(poly) {
    var s = 0;
    for (var i = 0; i < poly.length; i++) {
      var p = poly[i], q = poly[(i + 1) % poly.length];
      s += p[0] * q[1] - q[0] * p[1];
    }
    return Math.abs(s) / 2;
  }
  function simple(poly) {
    var n = poly.length;
    if (n < 3) return false;
    for (var i = 0; i < n; i++) {
      for (var j = i + 1; j < n; j++) {
        if (j === i + 1 || (i === 0 && j === n - 1)) continue;  // neighbours share a vertex by design
        if (meet(poly[i], poly[(i + 1) % n], poly[j], poly[(j + 1) % n])) return false;
      }
    }
    return area(poly) > 1e-6;
  }

  function el(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    parent.appendChild(e);
    return e;
  }
  function pixels(poly, w, h) {
    return poly.map(function (p) { return (p[0] * w).toFixed(1) + "," + (p[1] * h).toFixed(1); }).join(" ");
  }

  function surface() {
    var h = host();
    if (!h) return null;
    var svg = h.querySelector("svg.gw-zone-svg");
    if (!svg) {
      svg = document.createElementNS(NS, "svg");
      svg.setAttribute("class", "gw-zone-svg");
      h.appendChild(svg);
      svg.addEventListener("pointerdown", onDown);
      svg.addEventListener("pointermove", onMove);
      svg.addEventListener("pointerup", onUp);
      svg.addEventListener("pointercancel", onUp);
      svg.addEventListener("contextmenu", onContext);
    }
    if (st.observed !== h && window.ResizeObserver) {
      // The picture scales with the panel and arrives after the store: redraw at its real size.
      new ResizeObserver(function () { draw(); }).observe(h);
      st.observed = h;
    }
    return svg;
  }

  function draw() {
    var svg = surface();
    if (!svg) return;
    var h = host(), w = h.clientWidth, ht = h.clientHeight, sel = st.data ? st.data.sel : null, bad = [];
    svg.setAttribute("viewBox", "0 0 " + w + " " + ht);
    h.classList.toggle("gw-drawing", st.mode === "draw");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    zones().forEach(function (z, i) {
      if (!drawable(z)) return;
      var ok = simple(z.polygon);
      if (!ok) bad.push(z.name || "#" + (i + 1));
      el("polygon", {points: pixels(z.polygon, w, ht), "data-zone": i,
                     "class": "gw-zone" + (i === sel ? " gw-zone-sel" : "") + (ok ? "" : " gw-zone-bad")}, svg);
      var top = z.polygon.reduce(function (a, p) { return p[1] < a[1] ? p : a; }, z.polygon[0]);
      el("text", {x: top[0] * w + 6, y: Math.max(top[1] * ht - 6, 14), "class": "gw-zone-label"}, svg)
        .textContent = z.name || "";
    });
    var z = selected();
    if (z && editable() && st.mode === "edit") {
      var n = z.polygon.length;
      z.polygon.forEach(function (p, j) {
        var q = z.polygon[(j + 1) % n];
        el("circle", {cx: (p[0] + q[0]) / 2 * w, cy: (p[1] + q[1]) / 2 * ht, r: MID_R, "data-m": j,
                      "class": "gw-mid"}, svg);
      });
      z.polygon.forEach(function (p, j) {
        el("circle", {cx: p[0] * w, cy: p[1] * ht, r: VERTEX_R, "data-v": j,
                      "class": "gw-vtx" + (j === st.vtx ? " gw-vtx-sel" : "")}, svg);
      });
    }
    if (st.mode === "draw" && st.draft.length) {
      el("polyline", {points: pixels(st.draft, w, ht), "class": "gw-draft"}, svg);
      st.draft.forEach(function (p, j) {
        el("circle", {cx: p[0] * w, cy: p[1] * ht, r: j === 0 ? VERTEX_R : MID_R,
                      "class": "gw-draft-vtx" + (j === 0 ? " gw-draft-first" : "")}, svg);
      });
    }
    if (st.mode === "draw") hint(say("hint-draw"), false);
    else if (bad.length) hint(say("hint-cross").replace("{zone}", bad.join(", ")), true);
    else hint(z && editable() ? say("hint-edit") : "", false);
  }

  function at(ev) {
    var r = host().getBoundingClientRect();
    return [clamp((ev.clientX - r.left) / r.width), clamp((ev.clientY - r.top) / r.height)];
  }

  function inside(p, poly) {
    var hit = false;
    for (var i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      var a = poly[i], b = poly[j];
      if ((a[1] > p[1]) !== (b[1] > p[1]) && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]) hit = !hit;
    }
    return hit;
  }

  /* What the pointer is on, found from the geometry at the picture's present size rather than from the
     event target: the drawing may lag a layout change by a frame (the snapshot arriving), a press must not. */
  function hit(ev) {
    var r = host().getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
    var p = [x / r.width, y / r.height], z = selected(), best = {}, bestD = Infinity;
    function near(q, radius, found) {
      var d = Math.hypot(q[0] * r.width - x, q[1] * r.height - y);
      if (d <= radius && d < bestD) { bestD = d; best = found; }
    }
    if (z && editable() && st.mode === "edit") {
      var n = z.polygon.length;
      z.polygon.forEach(function (q, j) { near(q, VERTEX_R + 3, {v: j}); });
      if (best.v === undefined) {
        z.polygon.forEach(function (q, j) {
          var o = z.polygon[(j + 1) % n];
          near([(q[0] + o[0]) / 2, (q[1] + o[1]) / 2], MID_R + 3, {m: j});
        });
      }
      if (best.v !== undefined || best.m !== undefined) return best;
    }
    // Zones are drawn in order, so the last one containing the point is the one on top.
    var zs = zones();
    for (var i = zs.length - 1; i >= 0; i--) {
      if (drawable(zs[i]) && zs[i].polygon.length >= 3 && inside(p, zs[i].polygon)) return {zone: i};
    }
    return {};
  }

  function onDown(ev) {
    if (ev.button !== 0 || !st.data) return;
    if (st.mode === "draw") { ev.preventDefault(); addDraftPoint(ev); return; }
    var d = hit(ev);
    var z = selected();
    if (editable() && z && d.v !== undefined) {
      st.vtx = +d.v;
      grab(ev, false);
    } else if (editable() && z && d.m !== undefined) {
      // Pulling an edge's midpoint makes it a vertex: the new corner follows the pointer from here.
      st.vtx = +d.m + 1;
      z.polygon.splice(st.vtx, 0, at(ev));
      grab(ev, true);
    } else if (d.zone !== undefined && d.zone !== st.data.sel) {
      st.data.sel = +d.zone;
      st.sel = st.data.sel;
      st.vtx = null;
      commit();
    }
    draw();
  }

  function grab(ev, moved) {
    ev.preventDefault();
    // Captured on the <svg>, which draw() keeps: the handle itself is redrawn at every move.
    ev.currentTarget.setPointerCapture(ev.pointerId);
    st.drag = {pointer: ev.pointerId, moved: moved};
  }

  function onMove(ev) {
    var z = selected();
    if (!st.drag || ev.pointerId !== st.drag.pointer || !z) return;
    z.polygon[st.vtx] = at(ev);
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
    if (!st.data) return;
    var d = hit(ev);
    if (st.mode === "draw") {
      ev.preventDefault();
      st.draft.pop();
      draw();
    } else if (d.v !== undefined && editable()) {
      ev.preventDefault();
      deleteVertex(+d.v);
    }
  }

  function deleteVertex(v) {
    var z = selected();
    if (!z || !editable() || typeof v !== "number" || v < 0 || v >= z.polygon.length) return;
    if (z.polygon.length <= 3) { hint(say("hint-min3"), true); return; }
    z.polygon.splice(v, 1);
    st.vtx = null;
    draw();
    commit();
  }

  function addDraftPoint(ev) {
    var p = at(ev), h = host();
    if (st.draft.length >= 3) {
      var f = st.draft[0];
      if (Math.hypot((p[0] - f[0]) * h.clientWidth, (p[1] - f[1]) * h.clientHeight) <= CLOSE_PX) { finish(); return; }
    }
    st.draft.push(p);
    draw();
  }

  function freeName() {
    var used = zones().map(function (z) { return z && z.name; }), n = zones().length + 1;
    while (used.indexOf(say("zone-default").replace("{n}", n)) >= 0) n++;
    return say("zone-default").replace("{n}", n);
  }

  function finish() {
    if (st.draft.length < 3) { hint(say("hint-min3"), true); return; }
    var zs = zones();
    // A new zone starts with the simplest rule; the form below changes it.
    zs.push({name: freeName(), polygon: st.draft, rules: [{kind: "intrusion"}]});
    st.data.zones = zs;
    st.data.sel = zs.length - 1;
    st.sel = st.data.sel;
    st.mode = "edit";
    st.draft = [];
    st.vtx = null;
    draw();
    commit();
  }

  function cancelDraw() { st.mode = "edit"; st.draft = []; draw(); }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("button");
    if (!btn || !editable() || !st.data || !st.data.code) return;
    if (btn.id === "cameras-zone-new") {
      st.mode = "draw";
      st.draft = [];
      st.vtx = null;
      draw();
      // The button sits below the picture; drawing needs the picture on screen.
      host().scrollIntoView({block: "nearest"});
    } else if (btn.id === "cameras-vertex-delete") {
      deleteVertex(st.vtx);
    } else if (btn.id === "cameras-zone-delete" && selected() !== null) {
      var zs = zones();
      zs.splice(st.data.sel, 1);
      st.data.sel = zs.length ? Math.min(st.data.sel, zs.length - 1) : null;
      st.sel = st.data.sel;
      st.vtx = null;
      draw();
      commit();
    }
  });

  // The snapshot sets the surface's size when it arrives (load events do not bubble: captured here).
  document.addEventListener("load", function (ev) {
    if (ev.target && ev.target.id === "cameras-snapshot") draw();
  }, true);

  document.addEventListener("keydown", function (ev) {
    var tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || ev.target.isContentEditable) return;
    if (!host() || !editable()) return;
    if (st.mode === "draw" && ev.key === "Escape") cancelDraw();
    else if (st.mode === "draw" && ev.key === "Enter") finish();
    else if (st.mode === "edit" && (ev.key === "Delete" || ev.key === "Backspace") && st.vtx !== null) {
      ev.preventDefault();
      deleteVertex(st.vtx);
    }
  });

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.gwZones = {
    // The clientside callback: redraw from the store and return the JSON view's text.
    render: function (data) {
      if (!st.drag) {
        st.data = data ? copy(data) : null;
        var code = st.data ? st.data.code : null, sel = st.data ? st.data.sel : null;
        if (code !== st.code) { st.mode = "edit"; st.draft = []; }
        if (code !== st.code || sel !== st.sel) st.vtx = null;
        st.code = code;
        st.sel = sel;
        draw();
      }
      return json(data);
    },
    // The JSON view's text for a store, for the line script's own set_props (gridwatch-camera-lines.js).
    json: json
  };
})();
