/* The wall's live feed: EventSource on /live, markers drawn at once, resync after every (re)connect,
   a visible age when beats stop, and an alarm sound until the console acknowledges. */
(function () {
  var KEEP = 60;            // live markers kept on the map; the clusters hold every open case after the resync
  var STALE_S = 2.5;        // beats come every second; beyond this the wall says how old its data is
  var RECONNECT_S = 5;      // the watchdog reopens the stream when nothing arrived for this long
  var S = {es: null, lastBeat: 0, openedAt: 0, live: {}, order: [], syncTimer: null, alarms: [],
           audio: null, lastBeep: 0};

  // Parsed again only when the page's strings change (the language switch): status() asks twice a second.
  var STRINGS = {raw: null, parsed: {}};
  function strings() {
    var el = document.getElementById("app-strings"), raw = el ? el.getAttribute("data-strings") : null;
    if (raw !== STRINGS.raw) {
      STRINGS.raw = raw;
      try { STRINGS.parsed = JSON.parse(raw) || {}; } catch (e) { STRINGS.parsed = {}; }
    }
    return STRINGS.parsed;
  }
  function fmt(s, params) { return String(s).replace(/\{(\w+)\}/g, function (_, k) { return params[k]; }); }
  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) window.dash_clientside.set_props(id, props);
  }
  // Throttled, not debounced: a steady stream of messages must not postpone the resync forever,
  // and one resync a second per wall is plenty for the figures, ticker and ranking. In a storm (more
  // than STORM_RATE incident messages a second) one every STORM_SYNC_MS: the live markers and the
  // strip already show each alarm at once, and every resync redraws the clusters and the shading,
  // work the wall's browser and server then need for the live feed.
  var SYNC_MS = 1000, STORM_SYNC_MS = 3000, STORM_RATE = 5;
  function countMessages(n) {
    // messages per second, decaying over about two seconds
    var now = Date.now(), dt = (now - (S.rateAt || now)) / 1000;
    S.rate = (S.rate || 0) * Math.exp(-dt / 2) + 0.5 * n; S.rateAt = now;
  }
  function stormy() { return (S.rate || 0) * Math.exp(-(Date.now() - (S.rateAt || 0)) / 2000) > STORM_RATE; }
  S.stormy = stormy;  // assets/wall.js spaces its alarm strip by it too
  function requestSync(delay) {
    if (S.syncTimer) return;
    var gap = stormy() ? STORM_SYNC_MS : SYNC_MS;
    var wait = Math.max(delay, gap - (Date.now() - (S.lastSync || 0)));
    S.syncTimer = setTimeout(function () {
      S.syncTimer = null; S.lastSync = Date.now();
      setProps("wall-sync", {data: Date.now()});
    }, wait);
  }
  // The server shares one snapshot per area, kept about a second fresh while walls ask and served as it
  // is while the next is built (pages/wall/snapshot.py): a resync soon after a message may get one read
  // before that message's commit. One more resync TRAIL_MS after the last message of a burst, later
  // than a refresh and a build, gets a later read, so the wall never stays on a stale figure until the
  // 30 s interval (and figures older than 5 s are labelled and asked for again, assets/wall.js).
  var TRAIL_MS = 2500;
  function trailingSync() {
    clearTimeout(S.trailTimer);
    S.trailTimer = setTimeout(function () { requestSync(0); }, TRAIL_MS);
  }
  function close() { if (S.es) { S.es.close(); S.es = null; } }
  function connect() {
    close();
    S.openedAt = Date.now();
    S.connects = (S.connects || 0) + 1;  // streams opened by this page (the watchdog's reopenings too)
    var es = new EventSource("/live");
    S.es = es;
    es.addEventListener("hello", function () {
      S.lastBeat = Date.now(); clearTimeout(S.syncTimer); S.syncTimer = null; S.lastSync = 0; requestSync(0);
    });
    es.addEventListener("beat", function () { S.lastBeat = Date.now(); });
    // The server dropped messages this page was too slow to read: the live markers may be stale
    // (a case closed meanwhile), so they go, and the wall reloads its state as after a reconnect.
    es.addEventListener("resync", function () {
      S.lastBeat = Date.now(); S.live = {}; S.order = []; renderLive();
      S.resyncs = (S.resyncs || 0) + 1;
      clearTimeout(S.syncTimer); S.syncTimer = null; S.lastSync = 0; requestSync(0);
      setProps("wall-analysis-sync", {data: Date.now()});
    });
    // A lone message comes as a plain message event, messages that were waiting together on the
    // server as one `batch` event (a JSON list, in order; dashboard/live.py): drawn once either way.
    es.onmessage = function (ev) { receive(ev.data, false); };
    es.addEventListener("batch", function (ev) { receive(ev.data, true); });
    es.onerror = function () { /* EventSource retries by itself; the watchdog covers the rest */ };
  }
  function isAlarm(m) { return m.priority === 1 && m.family === "crime" && m.action === "create"; }
  function receive(data, many) {
    S.lastBeat = Date.now();
    var list;
    try { list = JSON.parse(data); } catch (e) { console.warn("gridwatch live:", e); return; }
    apply(many ? list : [list]);
  }
  // Each message only updates S and notes what to redraw; the redraws (markers, alarm strip, syncs)
  // happen once per event, so 1,000 messages a second cost the page some tens of redraw requests.
  function apply(list) {
    var todo = {incidents: 0, sync: 0, alarms: [], analysis: false};
    for (var i = 0; i < list.length; i++) {
      try { handle(list[i], todo); } catch (e) { console.warn("gridwatch live:", e); }
    }
    if (todo.incidents) {
      // Closed cases and those beyond the newest KEEP leave the markers; an id closed and opened
      // again within the batch is listed once.
      var seen = {};
      S.order = S.order.filter(function (k) { return S.live[k] && !seen[k] && (seen[k] = true); });
      if (S.order.length > KEEP) {
        S.order.splice(0, S.order.length - KEEP).forEach(function (k) { delete S.live[k]; });
      }
      renderLive();
      countMessages(todo.incidents);
    }
    if (todo.alarms.length) {
      // newest first, a bounded list and a count: a storm of thousands stays a two-line strip
      var at = new Date().toLocaleTimeString("zh-CN", {timeZone: "Asia/Shanghai", hour12: false}).slice(0, 5);
      for (var j = Math.max(0, todo.alarms.length - 50); j < todo.alarms.length; j++) {  // older ones fall off below
        var m = todo.alarms[j];
        S.alarms.unshift({id: m.id, text: at + " " + (m.matter_name || m.matter_code)});
      }
      if (S.alarms.length > 50) S.alarms.length = 50;
      S.alarmTotal = (S.alarmTotal || 0) + todo.alarms.length;
      if (window.gridwatch.wall) window.gridwatch.wall.alarmArrived();
      renderAlarm();
    }
    if (todo.sync) { requestSync(todo.sync); trailingSync(); }
    // New analysis results or a warning's change: redraw the hot spots, warnings and ranking.
    if (todo.analysis) setProps("wall-analysis-sync", {data: Date.now()});
  }
  function handle(m, todo) {
    if (m.type === "incident") {
      var id = m.id;
      if (m.status === "closed" || m.status === "cancelled") { delete S.live[id]; }
      else {
        if (!S.live[id]) S.order.push(id);
        S.live[id] = m;
      }
      if (isAlarm(m)) todo.alarms.push(m);
      todo.incidents++;
      todo.sync = todo.sync ? Math.min(todo.sync, 200) : 200;
    } else if (m.type === "camera" || m.type === "worker" || m.type === "warning") {
      todo.sync = todo.sync ? Math.min(todo.sync, 400) : 400;
    } else if (m.type === "analysis" || m.type === "early_warning") {
      todo.analysis = true;
    }
  }
  // Batched per animation frame: whatever arrived since the last redraw is drawn in one, at the next
  // frame at least DRAW_GAP_MS after the previous redraw. In a storm every message would otherwise
  // rebuild every marker; a busy page simply gets bigger batches, never a queue of redraws.
  // In a storm every redraw replaces the 60 live markers (React, then Leaflet removing and adding each
  // icon, then a repaint of the map): at 10 a second that kept a wall's main thread 80-90 % busy in the
  // load run, so the messages themselves waited for it (benchmarks/system.py --profile-walls). Nobody
  // follows single markers at hundreds a second: then STORM_DRAW_GAP_MS apart.
  var DRAW_GAP_MS = 100, STORM_DRAW_GAP_MS = 500;
  function renderLive() {
    if (S.liveFrame) return;
    S.liveFrame = true;
    var gap = stormy() ? STORM_DRAW_GAP_MS : DRAW_GAP_MS;
    var wait = Math.max(0, gap - (Date.now() - (S.lastDraw || 0)));
    var frame = function () { requestAnimationFrame(function () { S.liveFrame = false; S.lastDraw = Date.now(); drawLive(); }); };
    if (wait) setTimeout(frame, wait); else frame();
  }
  function drawLive() {
    var feats = S.order.map(function (id) {
      var m = S.live[id];
      return {type: "Feature", geometry: {type: "Point", coordinates: [m.lon, m.lat]},
              properties: {id: id, family: m.family, priority: m.priority, status: m.status}};
    });
    setProps("wall-live", {data: {type: "FeatureCollection", features: feats}});
    var root = document.getElementById("wall-root");
    if (root) root.setAttribute("data-live-count", String(feats.length));
  }
  function renderAlarm() {
    var el = document.getElementById("wall-alarm");
    if (!el) return;
    if (window.gridwatch.wall) { window.gridwatch.wall.setAlarms(S.alarms, S.alarmTotal, strings()["wall.alarm"] || "ALARM"); return; }
    if (S.alarms.length) {
      el.hidden = false;
      el.textContent = (strings()["wall.alarm"] || "ALARM") + " · " + S.alarms.map(function (a) { return a.text; }).join(" · ");
    } else { el.hidden = true; el.textContent = ""; }
  }
  // Browsers start audio suspended until someone touches the page (unless the kiosk allows autoplay):
  // the wall says so with a button rather than staying silent through an alarm.
  function audio() {
    if (!S.audio) {
      try { S.audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { return null; }
    }
    return S.audio;
  }
  function unlockSound() { var a = audio(); if (a && a.state === "suspended") a.resume(); soundButton(); }
  function soundButton() {
    var el = document.getElementById("wall-sound"), a = audio();
    if (!el) return;
    el.hidden = !(a && a.state === "suspended");
    if (!el.getAttribute("data-bound")) { el.setAttribute("data-bound", "1"); el.addEventListener("click", unlockSound); }
  }
  document.addEventListener("keydown", unlockSound);
  document.addEventListener("click", unlockSound);
  function beep() {
    try {
      var a = audio();
      if (!a || a.state !== "running") return;
      var o = S.audio.createOscillator(), g = S.audio.createGain();
      o.frequency.value = 880; g.gain.value = 0.25; o.connect(g); g.connect(S.audio.destination);
      o.start(); o.stop(S.audio.currentTime + 0.4);
    } catch (e) { /* no audio device: the banner still blinks */ }
  }
  // Written only when it changed: a write twice a second re-laid the page out for nothing.
  function setStatus(el, text, state) {
    if (el.textContent !== text) el.textContent = text;
    if (el.getAttribute("data-state") !== state) {
      el.classList.toggle("gw-stale", state === "stale");
      el.setAttribute("data-state", state);
    }
  }
  function status() {
    var el = document.getElementById("wall-status");
    if (!el) return;
    var tr = strings(), age = (Date.now() - (S.lastBeat || S.openedAt)) / 1000;
    var down = !S.es || S.es.readyState !== 1;
    if (age > STALE_S || down && age > 1) {
      var text = fmt(tr["wall.stale"] || "data {n} s old", {n: Math.round(age)});
      if (down) text += " · " + (tr["wall.disconnected"] || "disconnected");
      setStatus(el, text, "stale");
    } else {
      setStatus(el, tr["wall.live_ok"] || "Live", "live");
    }
    if (age > RECONNECT_S && Date.now() - S.openedAt > RECONNECT_S * 1000) connect();
  }
  function clock() {
    var el = document.getElementById("wall-clock");
    var text = new Date().toLocaleString("zh-CN", {timeZone: "Asia/Shanghai", hour12: false});
    if (el && el.textContent !== text) el.textContent = text;
  }
  setInterval(function () {
    if (!document.getElementById("wall-root")) { close(); S.live = {}; S.order = []; return; }
    if (!S.es) connect();
    status(); clock(); soundButton();
    if (S.alarms.length && Date.now() - S.lastBeep > 1500) { S.lastBeep = Date.now(); beep(); }
  }, 500);

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.gridwatch = Object.assign(window.dash_clientside.gridwatch || {}, {
    // The server's list of unacknowledged alarms is the truth after each sync.
    wallAlarms: function (alarms) {
      var a = alarms || {};
      S.alarms = (Array.isArray(a) ? a : a.items || []).slice();
      S.alarmTotal = Array.isArray(a) ? a.length : a.total || 0;
      renderAlarm();
      return S.alarmTotal;
    }
  });
  window.gridwatch = window.gridwatch || {};
  window.gridwatch.live = S;
})();
