/* Zone drawing: each click on the snapshot adds a vertex (0-1 image coordinates) to the new zone. */
document.addEventListener("click", function (ev) {
  var box = ev.target.closest && ev.target.closest("#cameras-snapshot-box");
  if (!box || !window.dash_clientside || !window.dash_clientside.set_props) return;
  var r = box.getBoundingClientRect();
  var x = Math.round(1000 * (ev.clientX - r.left) / r.width) / 1000, y = Math.round(1000 * (ev.clientY - r.top) / r.height) / 1000;
  var input = document.getElementById("cameras-draw-points"), pts = [];
  try { pts = JSON.parse(input.value || "[]"); } catch (e) { pts = []; }
  pts.push([x, y]);
  window.dash_clientside.set_props("cameras-draw-points", {value: JSON.stringify(pts)});
});
