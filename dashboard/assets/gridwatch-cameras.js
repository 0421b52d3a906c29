/* Zone drawing: each click on the snapshot adds a vertex (0-1 image coordinates) to the new zone.
   The vertices live here too, because clicks can come faster than Dash re-renders the input. */
(function () {
  var pts = [];
  document.addEventListener("input", function (ev) {
    if (ev.target.id !== "cameras-draw-points") return;
    try { pts = JSON.parse(ev.target.value || "[]"); } catch (e) { /* mid-typing: keep the last good list */ }
  });
  document.addEventListener("click", function (ev) {
    var box = ev.target.closest && ev.target.closest("#cameras-snapshot-box");
    if (!box || !window.dash_clientside || !window.dash_clientside.set_props) return;
    var r = box.getBoundingClientRect();
    var x = Math.round(1000 * (ev.clientX - r.left) / r.width) / 1000;
    var y = Math.round(1000 * (ev.clientY - r.top) / r.height) / 1000;
    pts.push([x, y]);
    window.dash_clientside.set_props("cameras-draw-points", {value: JSON.stringify(pts)});
  });
})();
