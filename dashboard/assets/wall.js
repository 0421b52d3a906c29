/* The wall (pages/wall): map markers drawn in their turn's pane, layers taking turns, lists trimmed to
   what fits with "+N", the two-line alarm strip, and chart fonts scaled to the screen. */
(function () {
  var FAMILY = {crime: "#ff4d4f", dispute: "#faad14", hazard: "#36cfc9", maintenance: "#9254de"};
  var HEALTH = {online: "#52c41a", degraded: "#faad14", offline: "#ff4d4f", unknown: "#8c8c8c"};
  var COVER_M = 100;  // the pale disc of the camera layer: roughly what a street camera sees
  // Everything on the wall is sized for 1920 wide and grows with the screen (3840: twice).
  function scale() { return Math.max(1, window.innerWidth / 1920); }
  function root() { return document.getElementById("wall-root"); }
  function esc(s) { var d = document.createElement("div"); d.textContent = s == null ? "" : String(s); return d.innerHTML; }

  // ---- markers ---------------------------------------------------------------------------------
  function clusterPoint(feature, latlng) {
    var p = feature.properties, s = scale(), label = p.n > 1 ? String(p.n) : "";
    // the number is wall-sized text (24 px at 1920): the circle grows to hold it
    var size = Math.round(Math.max(p.n > 1 ? 22 + 12 * Math.log10(p.n) : 18, label.length * 15 + 14) * s);
    var cls = "gw-cluster" + (p.overdue > 0 ? " gw-cluster-overdue" : "") + (p.priority === 1 ? " gw-cluster-p1" : "");
    var icon = L.divIcon({className: "", iconSize: [size, size],
      html: '<div class="' + cls + '" data-n="' + p.n + '" data-overdue="' + (p.overdue || 0) + '" style="width:' + size +
            'px;height:' + size + 'px;background:' + (FAMILY[p.family] || "#888") + '">' + esc(label) + '</div>'});
    // small ones on top: a big circle never hides a small one beside it
    return L.marker(latlng, {icon: icon, interactive: false, pane: "wall-clusters-pane",
                             zIndexOffset: -Math.round(size)});
  }
  function cameraPoint(feature, latlng) {
    var h = feature.properties.health, c = HEALTH[h] || "#888", s = scale();
    return L.featureGroup([
      L.circle(latlng, {radius: COVER_M, pane: "wall-cameras-pane", stroke: false, fillColor: c, fillOpacity: 0.18,
                        interactive: false}),
      L.circleMarker(latlng, {radius: (h === "online" ? 4 : 7) * s, pane: "wall-cameras-pane", color: "#0b1220",
                              weight: 1, fillColor: c, fillOpacity: 1, interactive: false})]);
  }
  function workerPoint(feature, latlng) {
    var on = feature.properties.on_duty, s = scale();
    return L.circleMarker(latlng, {radius: (on ? 8 : 5) * s, pane: "wall-workers-pane", color: on ? "#0b1220" : "#8c8c8c",
      weight: 2, fillColor: on ? "#95de64" : "#595959", fillOpacity: on ? 1 : 0.6, interactive: false});
  }
  // Sub-grid shading: the shapes come once with the page, the open count per sub-grid with each
  // refresh as the layer's hideout (a few kB instead of every polygon again).
  function subGridStyle(feature, context) {
    var counts = (context && context.hideout) || {};
    var p = feature.properties;
    return window.gridwatch.map.subGridStyle({properties: {open: counts[p.code] || 0, selected: p.selected}});
  }
  // In a storm the newest markers shrink and stop pulsing, so they never merge into one red band.
  var CROWD = 15;
  function livePoint(feature, latlng) {
    var p = feature.properties, s = scale(), r = root();
    var crowd = r && +r.getAttribute("data-live-count") > CROWD;
    var size = Math.round((crowd ? 14 : p.priority === 1 ? 30 : 22) * s);
    var icon = L.divIcon({className: "", iconSize: [size, size],
      html: '<div class="gw-live-marker' + (crowd ? ' gw-live-crowd' : '') + '" data-id="' + esc(p.id) +
            '" style="width:' + size + 'px;height:' + size +
            'px;background:' + (FAMILY[p.family] || "#ffffff") + '"></div>'});
    return L.marker(latlng, {icon: icon, interactive: false, pane: "wall-live-pane", zIndexOffset: 1000});
  }

  // ---- layers taking turns ---------------------------------------------------------------------
  var TURNS = ["live", "analysis", "cameras", "workers"];
  var T = {last: Date.now(), holdUntil: 0};
  function names() { try { return JSON.parse(root().getAttribute("data-layer-names")); } catch (e) { return {}; } }
  function show(layer) {
    var r = root();
    if (!r || r.getAttribute("data-layer") === layer) return;
    r.setAttribute("data-layer", layer);
    var el = document.getElementById("wall-layer-name");
    if (el) el.textContent = names()[layer] || layer;
  }
  function turn() {
    var r = root();
    if (!r || r.getAttribute("data-held")) return;
    var every = 1000 * (parseFloat(r.getAttribute("data-turn-s")) || 15), now = Date.now();
    if (now - T.last < every || now < T.holdUntil) return;
    T.last = now;
    show(TURNS[(TURNS.indexOf(r.getAttribute("data-layer")) + 1) % TURNS.length]);
  }
  // A new alarm brings the live layer back and keeps it for one turn.
  function alarmArrived() {
    var r = root();
    if (!r || r.getAttribute("data-held")) return;
    show("live"); T.last = Date.now();
    T.holdUntil = T.last + 1000 * (parseFloat(r.getAttribute("data-turn-s")) || 15);
  }

  // ---- lists: what fits, then "+N" in the panel's heading ----------------------------------------
  // Three passes over the four lists (show every item, measure, hide what overflows): one layout of
  // the page for all of them. Measuring each list right after the previous list's writes forced a
  // layout of the whole wall per list, at every resync (benchmarks/system.py --profile-walls).
  var FIT_ITEMS = ":scope > li, :scope > ul > li, :scope > ol > li, :scope tbody > tr";
  function fitAll() {
    var r = root();
    if (!r) return;
    var lists = Array.prototype.map.call(r.querySelectorAll("[data-fit]"), function (box) {
      var items = box.querySelectorAll(FIT_ITEMS);
      for (var i = 0; i < items.length; i++) items[i].style.display = "";
      return {box: box, items: items, cut: items.length};
    });
    lists.forEach(function (l) {
      var limit = l.box.getBoundingClientRect().top + l.box.clientHeight + 0.5;
      for (var i = 0; i < l.items.length; i++) {
        if (l.items[i].getBoundingClientRect().bottom > limit) { l.cut = i; break; }
      }
    });
    lists.forEach(function (l) {
      var more = document.getElementById("wall-" + l.box.getAttribute("data-fit") + "-more"), hidden = 0;
      for (var i = l.cut; i < l.items.length; i++) {
        l.items[i].style.display = "none";
        if (l.items[i].querySelector("td") || l.items[i].tagName === "LI") hidden++;
      }
      if (more) { more.textContent = hidden ? "+" + hidden : ""; more.hidden = !hidden; }
    });
  }
  var pending = false;
  function fitSoon() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; fitAll(); });
  }

  // ---- the alarm strip: newest first, two lines at most, "+N" for the rest ------------------------
  var A = {items: [], total: 0, title: "", timer: null};
  var STRIP_MAX = 12;  // more never fit two lines; the rest is the "+N"
  // Coalesced: in a storm hundreds of alarms a second arrive; the strip (which measures its layout) is
  // redrawn at the next animation frame, at most every STRIP_GAP_MS, with whatever arrived meanwhile.
  // In a storm (assets/gridwatch-live.js) every redraw measured the page's whole layout 5 times a
  // second: then once a second, the blinking title and the count say enough.
  var STRIP_GAP_MS = 200, STORM_STRIP_GAP_MS = 1000;
  function setAlarms(items, total, title) {
    A.items = items || []; A.total = total || 0; A.title = title || A.title;
    if (A.timer) return;
    A.timer = true;
    var live = window.gridwatch && window.gridwatch.live;
    var gap = live && live.stormy && live.stormy() ? STORM_STRIP_GAP_MS : STRIP_GAP_MS;
    var wait = Math.max(0, gap - (Date.now() - (A.drawn || 0)));
    setTimeout(function () {
      requestAnimationFrame(function () { A.timer = null; A.drawn = Date.now(); renderAlarms(); });
    }, wait);
  }
  function renderAlarms() {
    var el = document.getElementById("wall-alarm");
    if (!el) return;
    if (!A.items.length) { el.hidden = true; el.textContent = ""; return; }
    el.hidden = false;
    var items = A.items.slice(0, STRIP_MAX);
    var html = '<span class="gw-alarm-title">' + esc(A.title) + '</span><span class="gw-alarm-total" id="wall-alarm-total">' +
      esc(A.total) + '</span>';
    // spaces between the items: where the lines may break (each item itself never does)
    items.forEach(function (a) { html += ' <span class="gw-alarm-item" data-id="' + esc(a.id) + '">' + esc(a.text) + '</span>'; });
    el.innerHTML = html + ' <span class="gw-more" id="wall-alarm-more"></span>';
    var spans = el.querySelectorAll(".gw-alarm-item"), more = document.getElementById("wall-alarm-more");
    var cs = getComputedStyle(el), box = el.getBoundingClientRect();
    var bottom = box.top + el.clientTop + el.clientHeight - parseFloat(cs.paddingBottom) + 0.5;
    var setMore = function (n) { var rest = A.total - n; more.textContent = rest > 0 ? "+" + rest : ""; more.hidden = rest <= 0; };
    // one layout for all items: those ending below the second line go
    var right = box.left + el.clientLeft + el.clientWidth - parseFloat(cs.paddingRight) + 0.5;
    var fits = Array.prototype.map.call(spans, function (e) {
      var r = e.getBoundingClientRect(); return r.bottom <= bottom && r.right <= right; });
    var n = 0;
    while (n < fits.length && fits[n]) n++;
    n = Math.max(n, 1);
    for (var i = n; i < spans.length; i++) spans[i].style.display = "none";
    setMore(n);
    var out = function () { var r = more.getBoundingClientRect(); return r.bottom > bottom || r.right > right; };
    while (n > 1 && out()) { spans[--n].style.display = "none"; setMore(n); }
  }

  // ---- charts: fonts at the wall's scale ---------------------------------------------------------
  function scaleFonts(o, s) {
    if (Array.isArray(o)) { o.forEach(function (v) { scaleFonts(v, s); }); return o; }
    if (o && typeof o === "object") {
      Object.keys(o).forEach(function (k) {
        var v = o[k];
        if (/font$/i.test(k) && v && typeof v.size === "number") v.size = v.size * s;
        if ((k === "line" || k === "marker") && v && typeof v === "object") {
          if (typeof v.width === "number") v.width = v.width * s;
          if (k === "marker" && typeof v.size === "number") v.size = v.size * s;
        }
        if (k === "margin" && v) Object.keys(v).forEach(function (m) { v[m] = v[m] * s; });
        scaleFonts(v, s);
      });
    }
    return o;
  }
  function charts(d) {
    var nu = window.dash_clientside.no_update;
    if (!d) return [nu, nu, nu];
    var s = scale();
    setTimeout(fitSoon, 0);
    return ["hourly", "ontime", "cameras"].map(function (k) { return scaleFonts(JSON.parse(JSON.stringify(d[k])), s); });
  }

  var observer = null;
  setInterval(function () {
    var r = root();
    if (!r) { if (observer) { observer.disconnect(); observer = null; } return; }
    if (!observer) {
      // the lists only: the map's markers come and go all the time and are none of this
      observer = new MutationObserver(fitSoon);
      r.querySelectorAll("[data-fit]").forEach(function (box) {
        observer.observe(box, {childList: true, subtree: true, characterData: true});
      });
      fitSoon();
    }
    turn();
  }, 1000);
  window.addEventListener("resize", function () { fitSoon(); setAlarms(A.items, A.total, A.title); });

  window.gridwatch = window.gridwatch || {};
  window.gridwatch.wall = {clusterPoint: clusterPoint, cameraPoint: cameraPoint, workerPoint: workerPoint,
                           subGridStyle: subGridStyle,
                           livePoint: livePoint, alarmArrived: alarmArrived, setAlarms: setAlarms, show: show,
                           fit: fitAll, alarms: A};
  // ---- the figures' age -------------------------------------------------------------------------
  // The server paints a wall at once with the last snapshot of its area, however old, while it builds
  // the next (pages/wall/snapshot.py): figures older than STALE_S come marked `stale`, and the wall
  // asks again a second later (then less often, should builds fail) until younger ones came.
  var AGE = {timer: null, tries: 0};
  function age(data) {
    var d = data || {};
    clearTimeout(AGE.timer);
    AGE.timer = null;
    if (d.stale) {
      AGE.tries += 1;
      var wait = AGE.tries <= 5 ? 1000 : 5000;
      AGE.timer = setTimeout(function () {
        AGE.timer = null;
        if (root() && window.dash_clientside.set_props) window.dash_clientside.set_props("wall-sync", {data: Date.now()});
      }, wait);
    } else {
      AGE.tries = 0;
    }
    var r = root();
    if (r && d.age != null) {
      r.setAttribute("data-figures-age", String(d.age));
      // when the figures shown were read, in this browser's clock (benchmarks/dashboard.py reads it)
      r.setAttribute("data-figures-read", String(Math.round(Date.now() - d.age * 1000)));
    }
    return [d.text || "", !d.text];
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.gridwatch_wall = {charts: charts, age: age};
})();
