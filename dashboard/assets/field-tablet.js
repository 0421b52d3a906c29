/* The tablet's map styles (window.gridwatch.fieldMap): my sub-grids, my tasks as numbered markers that
   match the list, and the deadline countdown text. gridwatch-field.js fills the layers. */
(function () {
  window.gridwatch = window.gridwatch || {};
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  window.gridwatch.fieldMap = {
    gridStyle: function (feature) {
      var backup = feature.properties.role === "backup";
      return {color: "#52c41a", weight: backup ? 2 : 3, dashArray: backup ? "6 6" : null,
              fill: true, fillColor: "#52c41a", fillOpacity: backup ? 0.04 : 0.1};
    },
    NUMBER_SIZE: 48,  // px, as .gw-task-num in field-tablet.css: a thumb's width
    // A numbered marker's icon, drawn dx, dy px away from its place (field-spread.js moves markers that
    // would overlap) with a leg back to it; data-lat/lng keep the task's own position.
    numberIcon: function (p, latlng, dx, dy) {
      var size = window.gridwatch.fieldMap.NUMBER_SIZE, h = size / 2;
      var cls = "gw-task-num" + (p.overdue ? " gw-task-num-overdue" : "");
      var leg = dx || dy ? '<svg class="gw-task-leg" width="' + size + '" height="' + size + '"><line x1="' + h +
        '" y1="' + h + '" x2="' + (h - dx) + '" y2="' + (h - dy) + '"/><circle cx="' + (h - dx) + '" cy="' +
        (h - dy) + '" r="4"/></svg>' : "";
      return L.divIcon({className: "", iconSize: [size, size], iconAnchor: [h - dx, h - dy],
        html: leg + '<div class="' + cls + '" data-id="' + esc(p.id) + '" data-n="' + p.n + '" data-lat="' +
              latlng.lat.toFixed(6) + '" data-lng="' + latlng.lng.toFixed(6) + '" data-dx="' + dx + '" data-dy="' +
              dy + '">' + p.n + "</div>"});
    },
    // The number is the task's place in the list; a tap opens it as the list's button would.
    taskNumber: function (feature, latlng) {
      var p = feature.properties;
      var m = L.marker(latlng, {icon: window.gridwatch.fieldMap.numberIcon(p, latlng, 0, 0),
                                zIndexOffset: 1000 - p.n, keyboard: false});
      m._gwProps = p;
      m.on("click", function () {
        var b = document.querySelector("#field-tasks button[data-id='" + p.id + "']");
        if (b) b.click();
      });
      return window.gridwatch.fieldSpread ? window.gridwatch.fieldSpread.track(m) : m;
    },
    // An open case the report may be the same as: a red ring, found again in the prompt's list.
    nearbyCase: function (feature, latlng) {
      var icon = L.divIcon({className: "", iconSize: [30, 30], iconAnchor: [15, 15],
        html: '<div class="gw-nearby-mark" data-id="' + esc(feature.properties.id) + '"></div>'});
      return L.marker(latlng, {icon: icon, interactive: false, zIndexOffset: 2000});
    },
    // "02:05:33" left, or overdue by as much; days first when more than one.
    left: function (dueIso, now) {
      if (!dueIso) return null;
      var ms = Date.parse(dueIso) - (now || Date.now()), late = ms < 0, s = Math.floor(Math.abs(ms) / 1000);
      var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), mi = Math.floor(s % 3600 / 60), se = s % 60;
      var two = function (x) { return (x < 10 ? "0" : "") + x; };
      var text = (d ? d + "d " : "") + two(h) + ":" + two(mi) + ":" + two(se);
      return {late: late, text: text, seconds: late ? -s : s};
    }
  };
})();
