/* Style functions for dash-leaflet layers, referenced from Python as {"variable": "gridwatch.map.NAME"}. */
(function () {
  var FAMILY = {crime: "#ff4d4f", dispute: "#faad14", hazard: "#36cfc9", maintenance: "#9254de"};
  var HEALTH = {online: "#52c41a", degraded: "#faad14", offline: "#ff4d4f", unknown: "#8c8c8c"};
  var LABEL_ZOOM = 14;  // from here on a dense set of worker labels has room
  var SHADES = ["#12213d", "#1d3a66", "#2b5797", "#c27c0e", "#d4380d", "#a8071a"];
  function shade(n) { return SHADES[n <= 0 ? 0 : n <= 2 ? 1 : n <= 5 ? 2 : n <= 10 ? 3 : n <= 20 ? 4 : 5]; }
  window.gridwatch = window.gridwatch || {};
  window.gridwatch.colours = {family: FAMILY, health: HEALTH};
  window.gridwatch.map = {
    outlineStyle: function (feature) {
      var lvl = feature.properties.level;
      if (lvl === "district") return {color: "#6d8bc9", weight: 3, fill: true, fillColor: "#0d1628", fillOpacity: 1};
      if (lvl === "street") return {color: "#5273b3", weight: 2, fill: false};
      return {color: "#2a3d63", weight: 1, fill: false, dashArray: "3 3"};
    },
    subGridStyle: function (feature) {
      var n = feature.properties.open || 0;
      var selected = feature.properties.selected;
      return {color: selected ? "#ffd666" : "#31476f", weight: selected ? 3 : 0.6, fillColor: shade(n),
              fillOpacity: n > 0 ? 0.75 : 0.35};
    },
    baseGridStyle: function (feature) {
      var p = feature.properties;
      return {color: p.selected ? "#ffd666" : "#4a6290", weight: p.selected ? 3 : 0.8,
              fillColor: p.preview ? "#faad14" : "#1d3a66", fillOpacity: p.preview ? 0.7 : 0.25};
    },
    clusterPoint: function (feature, latlng) {
      var p = feature.properties;
      var r = p.n > 1 ? Math.min(6 + 3 * Math.sqrt(p.n), 30) : 6;
      var m = L.circleMarker(latlng, {radius: r, color: p.priority === 1 ? "#ffffff" : "#0b1220",
        weight: p.priority === 1 ? 2 : 1, fillColor: FAMILY[p.family] || "#888", fillOpacity: 0.75});
      if (p.n > 1) m.bindTooltip(String(p.n), {permanent: true, direction: "center", className: "gw-cluster-label"});
      return m;
    },
    cameraPoint: function (feature, latlng) {
      var h = feature.properties.health;
      return L.circleMarker(latlng, {radius: 3.5, color: HEALTH[h] || "#888", weight: 1,
        fillColor: HEALTH[h] || "#888", fillOpacity: h === "online" ? 0.5 : 1});
    },
    workerPoint: function (feature, latlng) {
      var on = feature.properties.on_duty;
      return L.circleMarker(latlng, {radius: 3, color: on ? "#95de64" : "#595959", weight: 1,
        fillColor: on ? "#95de64" : "#595959", fillOpacity: 0.9});
    },
    livePoint: function (feature, latlng) {
      var p = feature.properties;
      var size = p.priority === 1 ? 30 : 22;
      var colour = FAMILY[p.family] || "#ffffff";
      var icon = L.divIcon({className: "", iconSize: [size, size],
        html: '<div class="gw-live-marker" data-id="' + p.id + '" style="width:' + size + 'px;height:' + size +
              'px;background:' + colour + ';opacity:' + (p.closed ? 0.35 : 1) + '"></div>'});
      return L.marker(latlng, {icon: icon, interactive: false, zIndexOffset: 1000});
    },
    // Analysis layers: colours come from the server (dashboard/analysis_view.py), as the legend does.
    hotspotStyle: function (feature) {
      var c = feature.properties.colour;
      return {color: c, weight: 0.5, fillColor: c, fillOpacity: 0.6};
    },
    emergingStyle: function (feature) {
      return {color: feature.properties.colour, weight: 2.5, fill: false, opacity: 0.95};
    },
    // Console sub-grids: the workers' names stay on the map; hovering shows the sub-grid's name too.
    // Text nodes, not HTML: names come from the database.
    // With many sub-grids (a district-wide dispatcher) the labels would cover each other when zoomed out:
    // those are "dense" and show from street-level zoom on (class set on the map container below).
    subGridLabel: function (feature, layer) {
      var p = feature.properties || {};
      var el = document.createElement("span");
      el.textContent = p.workers || "";
      layer.bindTooltip(el, {permanent: true, direction: "center", opacity: 0.9,
                             className: "gw-worker-label" + (p.dense ? " gw-worker-label-dense" : "")});
      layer.on("add", function () {
        var map = layer._map;
        if (!map || map._gwLabelZoom) return;
        map._gwLabelZoom = function () {
          map.getContainer().classList.toggle("gw-labels-far", map.getZoom() < LABEL_ZOOM);
        };
        map.on("zoomend", map._gwLabelZoom);
        map._gwLabelZoom();
      });
      layer.on("mouseover", function () { el.textContent = p.tooltip || p.workers || ""; });
      layer.on("mouseout", function () { el.textContent = p.workers || ""; });
    },
    // The tablet's task map: the task as a pin, the worker as a dot; the element carries the position
    // Leaflet drew it at, for people debugging on the tablet and for the browser tests.
    taskPoint: function (feature, latlng) {
      var kind = feature.properties.kind === "me" ? "me" : "task";
      var size = kind === "task" ? 34 : 22;
      var icon = L.divIcon({className: "", iconSize: [size, size],
        html: '<div class="gw-task-pin gw-task-pin-' + kind + '" data-kind="' + kind + '" data-lat="' +
              latlng.lat.toFixed(6) + '" data-lng="' + latlng.lng.toFixed(6) + '"></div>'});
      return L.marker(latlng, {icon: icon, interactive: false, zIndexOffset: kind === "task" ? 1000 : 0});
    },
    fieldPoint: function (feature, latlng) {
      return L.circleMarker(latlng, {radius: 10, color: "#ffd666", weight: 3, fillOpacity: 0.3});
    }
  };
})();
