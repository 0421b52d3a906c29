/* A camera's live view in an overlay: any ".gw-live-open[data-camera]" button opens it (the /cameras list,
   a camera case in the console, a camera's popup on the console map).
   The picture is the dashboard's MJPEG relay, /cameras/<code>/live (the page never learns the camera's
   stream URL); /cameras/<code>/live/status, polled each second, says how old the picture is and why
   there is none. Closing the overlay ends the request, and so the server's watch. */
(function () {
  var STATUS_MS = 1000;
  var open = null;  // {code, modal, img, timers}

  function strings() {
    var el = document.getElementById("app-strings");
    try { return JSON.parse(el.getAttribute("data-strings")) || {}; } catch (e) { return {}; }
  }
  function say(key, params) {
    var text = strings()[key] || key;
    Object.keys(params || {}).forEach(function (k) { text = text.split("{" + k + "}").join(params[k]); });
    return text;
  }
  function base(code) { return "/cameras/" + encodeURIComponent(code) + "/live"; }

  function close() {
    if (!open) return;
    clearInterval(open.statusTimer);
    clearInterval(open.frameTimer);
    open.img.removeAttribute("src");  // ends the MJPEG request, hence the server's refresh of the watch
    open.img.src = "";
    open.modal.remove();
    open = null;
  }

  function setState(state, text, final) {
    if (!open) return;
    open.modal.setAttribute("data-state", state);
    open.stateEl.textContent = text;  // text, never HTML
    open.stateEl.className = "gw-live-state gw-live-state-" + state;
    if (final) {
      clearInterval(open.statusTimer);
      open.retry.hidden = false;
    }
  }

  function poll() {
    if (!open) return;
    var mine = open;
    fetch(base(mine.code) + "/status", {credentials: "same-origin", cache: "no-store"}).then(function (r) {
      if (open !== mine) return null;
      if (r.status === 401) { setState("ended", say("live.session"), true); return null; }
      if (r.status === 403) { setState("refused", say("live.refused"), true); return null; }
      if (r.status === 404) { setState("refused", say("live.not_found"), true); return null; }
      return r.ok ? r.json() : null;
    }).then(function (s) {
      if (!s || open !== mine) return;
      var known = s.age_s !== null && s.age_s !== undefined;
      var age = known ? s.age_s.toFixed(1) : "";
      mine.modal.setAttribute("data-age", known ? String(s.age_s) : "");  // unrounded: 2.04 is stale, "2.0" shown
      if (s.state === "live") setState("live", say("live.age", {age: age}));
      else if (s.state === "stale") setState("stale", say("live.stale", {age: age}));
      else if (s.state === "waiting") setState("waiting", say("live.connecting"));
      else setState("no_worker", say("live.no_worker"));
    }).catch(function () { /* the next poll tries again */ });
  }

  function start(code) {
    close();
    var clicked = performance.now();
    var modal = document.createElement("div");
    modal.className = "gw-live-modal";
    modal.id = "gw-live-modal";
    modal.setAttribute("data-camera", code);
    modal.setAttribute("role", "dialog");
    var box = document.createElement("div");
    box.className = "gw-live-box";
    var head = document.createElement("div");
    head.className = "gw-live-head";
    var title = document.createElement("span");
    title.textContent = say("live.title", {code: code});
    var shut = document.createElement("button");
    shut.type = "button";
    shut.className = "gw-live-close";
    shut.textContent = say("live.close");
    shut.addEventListener("click", close);
    head.append(title, shut);
    var img = document.createElement("img");
    img.className = "gw-live-img";
    img.id = "gw-live-img";
    img.alt = say("live.title", {code: code});
    var stateEl = document.createElement("div");
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "gw-live-retry";
    retry.textContent = say("live.retry");
    retry.hidden = true;
    retry.addEventListener("click", function () { start(code); });
    box.append(head, img, stateEl, retry);
    modal.appendChild(box);
    modal.addEventListener("click", function (ev) { if (ev.target === modal) close(); });
    document.body.appendChild(modal);
    open = {code: code, modal: modal, img: img, stateEl: stateEl, retry: retry};
    setState("waiting", say("live.connecting"));
    var mine = open;
    img.addEventListener("error", function () {
      if (open === mine && img.getAttribute("src")) setState("ended", say("live.ended"), true);
    });
    // The first picture's arrival, for people and for benchmarks/live_view.py (data-first-ms).
    open.frameTimer = setInterval(function () {
      if (img.naturalWidth > 0) {
        modal.setAttribute("data-first-ms", String(Math.round(performance.now() - clicked)));
        clearInterval(mine.frameTimer);
      }
    }, 20);
    img.src = base(code) + "?t=" + Date.now();
    open.statusTimer = setInterval(poll, STATUS_MS);
    setTimeout(poll, 300);
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest ? ev.target.closest(".gw-live-open[data-camera]") : null;
    if (!btn) return;
    ev.preventDefault();
    ev.stopPropagation();  // a row or map click under the button keeps its own meaning
    start(btn.getAttribute("data-camera"));
  }, true);
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") close(); });

  window.gridwatch = window.gridwatch || {};
  // A camera marker whose popup holds the live button (console map); built from text nodes, not HTML.
  window.gridwatch.liveMap = {
    cameraPoint: function (feature, latlng) {
      var p = feature.properties || {};
      var colours = (window.gridwatch.colours || {}).health || {};
      var c = colours[p.health] || "#8c8c8c";
      var m = L.circleMarker(latlng, {radius: 5, color: c, weight: 2, fillColor: c, fillOpacity: 0.6,
                                      className: "gw-live-cam gw-live-cam-" + p.code});
      var el = document.createElement("div");
      el.className = "gw-live-popup";
      var name = document.createElement("div");
      name.textContent = p.name || p.code;
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "gw-live-open";
      btn.setAttribute("data-camera", p.code);
      btn.textContent = p.live || "live";
      el.append(name, btn);
      m.bindPopup(el);
      return m;
    }
  };
})();
