/* The tablet's numbered task markers, spread when they would overlap (like a spiderfy): tasks on the same
   spot, or a few metres apart, would otherwise stack and hide each other's numbers. Markers that come
   closer than a marker's width are moved apart on a ring (more rings when there are many) around where
   they are, number 1 at the top and on clockwise, each with a thin leg back to its own place. What overlaps
   depends on the zoom, so the layout is done again on every zoom and whenever the markers change.
   window.gridwatch.fieldSpread.spread is pure (pixels in, offsets out), for the tests. */
(function () {
  'use strict';
  window.gridwatch = window.gridwatch || {};
  var GAP = 6;  // px between the edges of two spread markers

  // Positions on rings around a centre for k markers of pitch s (centre to centre at least s apart).
  function rings(k, s) {
    var out = [], left = k, first = true, r = 0;
    while (left > 0) {
      if (first) { r = s / (2 * Math.sin(Math.PI / Math.max(2, Math.min(left, 8)))); first = false; }
      else r += s;
      // How many fit on a ring of radius r with chords of at least s (the epsilon absorbs rounding).
      var cap = Math.max(2, Math.floor(Math.PI / Math.asin(Math.min(1, s / (2 * r))) + 1e-9));
      var m = Math.min(cap, left);
      for (var i = 0; i < m; i++) {
        var a = -Math.PI / 2 + 2 * Math.PI * i / m;
        out.push({x: r * Math.cos(a), y: r * Math.sin(a)});
      }
      left -= m;
    }
    return out;
  }

  // points: [{x, y}] in pixels, in list order; returns [{dx, dy}] so that no two markers of `size` overlap.
  function spread(points, size) {
    var n = points.length, s = size + GAP, parent = [];
    for (var i = 0; i < n; i++) parent.push(i);
    function find(a) { while (parent[a] !== a) { parent[a] = parent[parent[a]]; a = parent[a]; } return a; }
    var pos = points.map(function (p) { return {x: p.x, y: p.y}; });
    // Groups only ever merge, so this ends after at most n - 1 rounds.
    for (var round = 0; round < n; round++) {
      var merged = false;
      for (var a = 0; a < n; a++) {
        for (var b = a + 1; b < n; b++) {
          var ra = find(a), rb = find(b);
          if (ra !== rb && Math.hypot(pos[a].x - pos[b].x, pos[a].y - pos[b].y) < s - 1e-6) {
            parent[Math.max(ra, rb)] = Math.min(ra, rb);
            merged = true;
          }
        }
      }
      if (!merged) break;
      var groups = {};
      for (var g = 0; g < n; g++) (groups[find(g)] = groups[find(g)] || []).push(g);
      Object.keys(groups).forEach(function (key) {
        var members = groups[key];
        if (members.length === 1) { pos[members[0]] = {x: points[members[0]].x, y: points[members[0]].y}; return; }
        var cx = 0, cy = 0;
        members.forEach(function (m) { cx += points[m].x / members.length; cy += points[m].y / members.length; });
        var ring = rings(members.length, s);
        members.forEach(function (m, j) { pos[m] = {x: cx + ring[j].x, y: cy + ring[j].y}; });
      });
    }
    return pos.map(function (p, j) { return {dx: p.x - points[j].x, dy: p.y - points[j].y}; });
  }

  function relayout(map) {
    var fm = window.gridwatch.fieldMap, set = map._gwTaskMarks;
    if (!fm || !set || !map._loaded) return;
    var marks = Array.from(set).sort(function (a, b) { return a._gwProps.n - b._gwProps.n; });
    var pts = marks.map(function (m) { return map.latLngToLayerPoint(m.getLatLng()); });
    var off = spread(pts, fm.NUMBER_SIZE);
    marks.forEach(function (m, i) {
      var o = {dx: Math.round(off[i].dx), dy: Math.round(off[i].dy)}, was = m._gwOff;
      if (o.dx === was.dx && o.dy === was.dy) return;
      m._gwOff = o;
      m.setIcon(fm.numberIcon(m._gwProps, m.getLatLng(), o.dx, o.dy));
    });
    // The zoom the markers were laid out for, for people debugging on the tablet and for the browser tests.
    map.getContainer().setAttribute('data-spread-zoom', String(map.getZoom()));
  }

  function schedule(map) {
    if (map._gwSpreadPending) return;
    map._gwSpreadPending = true;
    requestAnimationFrame(function () { map._gwSpreadPending = false; relayout(map); });
  }

  // Called for each numbered marker the task layer makes: it joins its map's set while on the map.
  function track(marker) {
    // What its icon is drawn with (fieldMap.taskNumber makes it in place). It stays with the marker when
    // it leaves the map, as the icon does: a marker taken off and put back (a layer re-added whole) is
    // drawn again only when its place changed, and never left showing an old offset as if it were new.
    marker._gwOff = {dx: 0, dy: 0};
    marker.on('add', function () {
      var map = marker._map;
      if (!map) return;
      marker._gwMap = map;
      (map._gwTaskMarks = map._gwTaskMarks || new Set()).add(marker);
      if (!map._gwSpreadOnZoom) {
        map._gwSpreadOnZoom = true;
        map.on('load zoomend viewreset', function () { relayout(map); });
      }
      // At once, not on the next frame: the layer adds its markers in one go, so nobody (a tap, a
      // screenshot) ever sees them stacked in between.
      relayout(map);
    });
    marker.on('remove', function () {
      var map = marker._gwMap;
      if (!map || !map._gwTaskMarks) return;
      map._gwTaskMarks.delete(marker);
      schedule(map);  // the others may close up; a whole layer being replaced re-adds them anyway
    });
    return marker;
  }

  window.gridwatch.fieldSpread = {spread: spread, track: track, GAP: GAP};
})();
