/* The tablet: an IndexedDB outbox (survives reloads and restarts), idempotent by a client-made event_id,
   tasks with a badge and a sound when new ones arrive, GPS with a map-tap fallback. */
(function () {
  var DB = "gridwatch-field", STORE = "outbox", MAX_PHOTO = 10 * 1024 * 1024;
  // A server error (5xx) is retried with a doubling pause, 10 s up to 5 min, at most MAX_TRIES times;
  // a refusal (4xx) is final. Either way a dropped item is shown as failed, with the server's reason.
  var MAX_TRIES = 8, FIRST_PAUSE_MS = 10000, MAX_PAUSE_MS = 300000;
  var F = {tap: null, gps: null, me: null, tasks: {}, known: null, open: null, flushing: false, es: null, root: null};
  window.gridwatch = window.gridwatch || {};
  window.gridwatch.field = F;

  function $(id) { return document.getElementById(id); }
  function strings() { try { return JSON.parse($("app-strings").getAttribute("data-strings")); } catch (e) { return {}; } }
  function tr(k, p) { var s = strings()[k] || k; return p ? s.replace(/\{(\w+)\}/g, function (_, x) { return p[x]; }) : s; }
  function csrf() { var m = document.cookie.match(/(?:^|; )_csrf_token=([^;]*)/); return m ? decodeURIComponent(m[1]) : ""; }
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)); b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.from(b, function (x) { return x.toString(16).padStart(2, "0"); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function msg(text) { var el = $("field-msg"); if (el) el.textContent = text || ""; }

  // ---- IndexedDB outbox ----
  function db() {
    return new Promise(function (ok, fail) {
      var r = indexedDB.open(DB, 1);
      r.onupgradeneeded = function () { r.result.createObjectStore(STORE, {keyPath: "event_id"}); };
      r.onsuccess = function () { ok(r.result); }; r.onerror = function () { fail(r.error); };
    });
  }
  function tx(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (ok, fail) {
        var t = d.transaction(STORE, mode), s = t.objectStore(STORE), out = fn(s);
        t.oncomplete = function () { ok(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { fail(t.error); };
      });
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function put(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function del(id) { return tx("readwrite", function (s) { s.delete(id); }); }

  function enqueue(url, fields, photo) {
    var item = {event_id: uuid(), url: url, fields: fields, photo: photo || null, created: Date.now()};
    item.fields.event_id = item.event_id;
    return put(item).then(function () { showPending(); flush(); return item.event_id; });
  }
  function showPending() {
    return all().then(function (items) {
      var el = $("field-pending");
      if (!el) return;
      el.textContent = tr("field.pending", {n: items.length});
      el.setAttribute("data-count", String(items.length));
      el.classList.toggle("gw-zero", items.length === 0);
    });
  }
  function flush() {
    if (F.flushing || !navigator.onLine) { showPending(); return Promise.resolve(); }
    F.flushing = true;
    return all().then(function (items) {
      items.sort(function (a, b) { return a.created - b.created; });
      var chain = Promise.resolve(true);
      items.forEach(function (it) {
        chain = chain.then(function (go) {
          if (!go) return false;
          if (it.next && it.next > Date.now()) return false;          // pausing after a server error; keeps order
          var fd = new FormData();
          Object.keys(it.fields).forEach(function (k) { if (it.fields[k] != null) fd.append(k, it.fields[k]); });
          if (it.photo) fd.append("photo", it.photo, it.photo.name || "photo.jpg");
          return fetch(it.url, {method: "POST", body: fd, credentials: "same-origin",
                                headers: {"X-CSRFToken": csrf()}})
            .then(function (r) {
              if (r.status === 401) return false;                      // logged out: keep it for after login
              if (r.status >= 500) {
                it.tries = (it.tries || 0) + 1;
                if (it.tries >= MAX_TRIES) {
                  msg(tr("field.failed", {why: r.status}));
                  return del(it.event_id).then(function () { return true; });
                }
                it.next = Date.now() + Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * Math.pow(2, it.tries - 1));
                return put(it).then(function () { return false; });
              }
              return r.json().catch(function () { return {}; }).then(function (j) {
                if (!r.ok) msg(tr("field.failed", {why: j.error || r.status}));   // refused for good: tell, drop
                else if (j.warning) msg(j.warning);
                else msg(tr("field.sent"));
                return del(it.event_id).then(function () { return true; });
              });
            })
            .catch(function () { return false; });                     // network down
        });
      });
      return chain;
    }).then(function () { F.flushing = false; showPending(); loadTasks(); },
            function () { F.flushing = false; });
  }

  // ---- tasks ----
  function beep() {
    try { var a = new (window.AudioContext || window.webkitAudioContext)(), o = a.createOscillator();
          o.connect(a.destination); o.frequency.value = 660; o.start(); o.stop(a.currentTime + 0.3); } catch (e) {}
  }
  function renderTasks(list) {
    var box = $("field-tasks"); if (!box) return;
    var known = JSON.parse(localStorage.getItem("gridwatch.field.known") || "null");
    var fresh = known ? list.filter(function (t) { return known.indexOf(t.id) < 0; }) : [];
    localStorage.setItem("gridwatch.field.known", JSON.stringify(list.map(function (t) { return t.id; })));
    box.innerHTML = "";
    list.forEach(function (t, i) {
      t.n = i + 1;
      F.tasks[t.id] = t;
      var b = document.createElement("button");
      b.className = "gw-task" + (fresh.some(function (f) { return f.id === t.id; }) ? " gw-task-new" : "");
      b.setAttribute("data-id", t.id);
      b.setAttribute("data-n", String(t.n));
      b.innerHTML = '<span class="gw-task-n"></span><span class="gw-task-main"><span class="gw-task-what"></span>' +
                    '<span class="gw-task-where gw-note"></span></span><span class="gw-task-due"></span>';
      b.querySelector(".gw-task-n").textContent = String(t.n);
      b.querySelector(".gw-task-what").textContent = t.matter + " · " + t.status_label;
      b.querySelector(".gw-task-where").textContent = t.place || "";
      b.querySelector(".gw-task-due").setAttribute("data-due", t.due_at || "");
      box.appendChild(b);
    });
    if (!list.length) box.textContent = "—";
    var count = $("field-task-count"); if (count) count.textContent = list.length ? " (" + list.length + ")" : "";
    showTaskMarks(list);
    tick();
    var badge = $("field-new");
    if (fresh.length) { badge.hidden = false; badge.textContent = tr("field.new_task") + " " + fresh.length; beep(); }
  }
  // Live events come in bursts (a storm sends hundreds a second, each a reason to reload): one reload
  // at a time, at most one more queued behind it, and at least TASKS_GAP_MS between their starts.
  var TASKS_GAP_MS = 1000;
  function wantTasks() {
    if (F.tasksBusy) { F.tasksAgain = true; return; }
    F.tasksBusy = true;
    setTimeout(function () {
      F.tasksAt = Date.now();
      var done = function () {
        F.tasksBusy = false;
        if (F.tasksAgain) { F.tasksAgain = false; wantTasks(); }
      };
      Promise.resolve(loadTasks()).then(done, done);
    }, Math.max(0, (F.tasksAt || 0) + TASKS_GAP_MS - Date.now()));
  }
  function loadTasks() {
    if (!$("field-root")) return;
    return fetch("/field/api/tasks", {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (j) {
        if (!j.ok) return;
        localStorage.setItem("gridwatch.field.tasks", JSON.stringify(j.tasks));
        localStorage.setItem("gridwatch.field.me", JSON.stringify(j.me || null));
        F.me = j.me || null;
        renderTasks(j.tasks);
        followMe();
      }).catch(function () {
        renderTasks(JSON.parse(localStorage.getItem("gridwatch.field.tasks") || "[]"));   // offline: last copy
        F.me = JSON.parse(localStorage.getItem("gridwatch.field.me") || "null");
      });
  }
  function openTask(id) {
    F.open = id;
    var t = F.tasks[id] || {};
    $("field-task").hidden = false;
    $("field-task-title").textContent = (t.matter || "") + " · " + (t.status_label || "");
    $("field-task-num").textContent = t.n ? String(t.n) : "";
    $("field-task-place").textContent = t.place || "—";
    $("field-task-due").setAttribute("data-due", t.due_at || "");
    $("field-task-body").textContent = t.description || "—";
    $("field-task-photos").innerHTML = "";
    $("field-task-history").innerHTML = "";
    tick();
    showTaskMap(t.pos);
    watchMe();
    loadTask(id, 0);
  }
  function loadTask(id, tries) {
    fetch("/field/api/task/" + id, {credentials: "same-origin"})
      .then(function (r) { if (r.status >= 500) throw new Error(r.status); return r.json(); })
      .then(function (j) {
        // Another task was opened meanwhile: its own answer fills the panel, never this late one.
        if (!j.ok || F.open !== id) return;
        if (j.task.pos && !(F.tasks[id] || {}).pos) showTaskMap(j.task.pos);   // a list cached before positions
        var body = $("field-task-body"), gallery = $("field-task-photos");
        // Stored photos of every report and step of the case are shown; a foreign URL (an Open311
        // media_url) is only a link, never fetched.
        gallery.innerHTML = "";
        (j.photos || []).forEach(function (m) {
          var a = document.createElement("a"), img = document.createElement("img");
          a.href = "/media/" + m; a.target = "_blank"; a.rel = "noopener";
          img.src = "/media/" + m; img.alt = j.task.matter; img.loading = "lazy";
          a.appendChild(img); gallery.appendChild(a);
        });
        (j.task.media || []).filter(function (m) { return /^https?:\/\//i.test(m); }).forEach(function (m) {
          var a = document.createElement("a");
          a.href = m; a.textContent = m; a.target = "_blank"; a.rel = "noopener noreferrer nofollow";
          a.referrerPolicy = "no-referrer"; a.className = "gw-external";
          body.appendChild(document.createElement("br")); body.appendChild(a);
        });
        var ol = $("field-task-history");
        j.history.forEach(function (h) {
          var li = document.createElement("li"); li.textContent = h.at + " · " + h.action + " · " + h.actor +
            (h.note ? " · " + h.note : ""); ol.appendChild(li);
        });
      }).catch(function () {
        // A weak signal or a busy server: ask again while the task stays open (1, 2, 4, 8 s apart).
        if (F.open === id && !$("field-task").hidden && tries < 4) setTimeout(function () { loadTask(id, tries + 1); }, 1000 << tries);
      });
  }
  // ---- the task's map ----
  // WGS84 -> GCJ-02, the forward formula of grid/gcj02.py: device GPS is WGS84, Chinese tiles are not.
  function gcj02(lon, lat) {
    if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) return [lon, lat];
    var A = 6378245.0, EE = 0.00669342162296594323, PI = Math.PI, x = lon - 105.0, y = lat - 35.0;
    var common = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + common +
      (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0 +
      (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + common +
      (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0 +
      (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var rad = lat * PI / 180.0, magic = 1.0 - EE * Math.sin(rad) * Math.sin(rad), sm = Math.sqrt(magic);
    dlat = dlat * 180.0 / ((A * (1.0 - EE)) / (magic * sm) * PI);
    dlon = dlon * 180.0 / (A / sm * Math.cos(rad) * PI);
    return [lon + dlon, lat + dlat];
  }
  F.gcj02 = gcj02;
  F.flush = flush; F.outbox = all;   // for tests and the console of a support engineer
  F.toDisplay = function (lon, lat) {
    var root = $("field-root");
    return root && root.getAttribute("data-crs") === "gcj02" ? gcj02(lon, lat) : [lon, lat];
  };
  function feature(pos, kind) {
    return {type: "Feature", properties: {kind: kind}, geometry: {type: "Point", coordinates: pos}};
  }
  function showTaskMap(pos) {
    var set = window.dash_clientside && window.dash_clientside.set_props;
    if (!set) return;
    var me = F.gps || F.me, feats = [];
    if (pos) feats.push(feature(pos, "task"));
    if (me) feats.push(feature(me, "me"));
    set("field-task-points", {data: {type: "FeatureCollection", features: feats}});
    if (!pos) return;
    // The map was laid out while its panel was hidden: Leaflet must measure it again before it frames.
    set("field-task-map", {invalidateSize: Date.now()});
    var zoom = Number($("field-root").getAttribute("data-task-zoom")) || 17;
    // Both in view when the worker is near (about 2 km); otherwise the task alone, at street level.
    var near = me && Math.abs(me[0] - pos[0]) < 0.02 && Math.abs(me[1] - pos[1]) < 0.02;
    var vp = near ? {bounds: [[Math.min(pos[1], me[1]), Math.min(pos[0], me[0])],
                              [Math.max(pos[1], me[1]), Math.max(pos[0], me[0])]],
                     options: {padding: [40, 40], maxZoom: zoom}}
                  : {center: [pos[1], pos[0]], zoom: zoom};
    setTimeout(function () { set("field-task-map", {viewport: vp}); }, 60);
  }
  function showTaskMarks(list) {
    var set = window.dash_clientside && window.dash_clientside.set_props;
    if (!set || !$("field-map")) return;   // a GeoJSON layer has no element of its own: its map does
    var now = Date.now();
    F.marks = {type: "FeatureCollection", features: list.filter(function (t) { return t.pos; }).map(function (t) {
      return {type: "Feature", geometry: {type: "Point", coordinates: t.pos},
              properties: {id: t.id, n: t.n, overdue: !!(t.due_at && Date.parse(t.due_at) < now)}};
    })};
    set("field-task-marks", {data: F.marks});
    showMe();
  }
  function showMe() {
    var set = window.dash_clientside && window.dash_clientside.set_props, me = F.gps || F.me;
    if (!set || !$("field-map") || !me) return;
    F.meShown = me;
    set("field-me", {data: {type: "FeatureCollection", features: [feature(me, "me")]}});
  }
  // Layers set before Dash has finished mounting the map are dropped: set them again until they show.
  function keepMap() {
    var set = window.dash_clientside && window.dash_clientside.set_props;
    if (!set || !$("field-map")) return;
    if (F.marks && document.querySelectorAll("#field-map .gw-task-num").length !== F.marks.features.length) {
      set("field-task-marks", {data: F.marks});
    }
    if ((F.gps || F.me) && !document.querySelector("#field-map .gw-task-pin[data-kind=me]")) showMe();
  }
  // The browser's position when the worker has allowed it (never asked for on load: the GPS button
  // asks); else the last one the server knows.
  function followMe() {
    if (F.watching || !navigator.geolocation || !navigator.permissions) return;
    F.watching = true;
    navigator.permissions.query({name: "geolocation"}).then(function (p) {
      if (p.state !== "granted") { F.watching = false; return; }
      navigator.geolocation.watchPosition(function (pos) {
        F.gps = F.toDisplay(pos.coords.longitude, pos.coords.latitude);
        if (!F.point || F.point.how === "gps") setPoint(pos.coords.longitude, pos.coords.latitude, "gps");
        showMe();
      }, function () {}, {enableHighAccuracy: true, maximumAge: 30000, timeout: 20000});
    }).catch(function () { F.watching = false; });
  }
  function tick() {
    var fm = window.gridwatch.fieldMap;
    if (!fm) return;
    document.querySelectorAll("#field-root [data-due]").forEach(function (el) {
      var left = fm.left(el.getAttribute("data-due"));
      el.textContent = left ? tr(left.late ? "field.overdue_by" : "field.due_in", {left: left.text}) : tr("field.no_deadline");
      el.setAttribute("data-seconds", left ? String(left.seconds) : "");
      el.classList.toggle("gw-late", !!(left && left.late));
    });
  }
  setInterval(function () { if ($("field-root")) { tick(); keepMap(); } }, 1000);
  function watchMe() {
    if (!navigator.geolocation) return;
    var id = F.open;
    navigator.geolocation.getCurrentPosition(function (p) {
      F.gps = F.toDisplay(p.coords.longitude, p.coords.latitude);
      if (F.open === id && !$("field-task").hidden) showTaskMap((F.tasks[id] || {}).pos);
    }, function () {}, {enableHighAccuracy: true, maximumAge: 60000, timeout: 10000});
  }

  function act(action) {
    var note = ($("field-task-note") || {}).value || "";
    if (action === "return" && !note.trim()) { msg(tr("field.return_reason")); return; }
    var input = document.querySelector("#field-task-photo-slot input");
    var photo = input && input.files[0];
    if (photo && photo.size > MAX_PHOTO) { msg(tr("field.photo_large")); return; }
    enqueue("/field/api/action", {incident_id: F.open, action: action, note: note}, photo).then(function () {
      if (!navigator.onLine) msg(tr("field.offline"));
      $("field-task").hidden = true; if (input) input.value = "";
    });
  }

  // ---- report ----
  function setPoint(lon, lat, how) {
    F.point = {lon: lon, lat: lat, how: how};
    var b = JSON.parse($("field-root").getAttribute("data-bounds") || "null");
    var out = b && (lat < b[0][0] || lat > b[1][0] || lon < b[0][1] || lon > b[1][1]);
    $("field-pos").textContent = lon.toFixed(5) + ", " + lat.toFixed(5) + (out ? " · " + tr("field.outside") : "");
  }
  function locate() {
    if (!navigator.geolocation) { $("field-pos").textContent = tr("field.no_gps"); return; }
    navigator.geolocation.getCurrentPosition(function (p) {
        F.gps = F.toDisplay(p.coords.longitude, p.coords.latitude);
        setPoint(p.coords.longitude, p.coords.latitude, "gps");
        showMe(); followMe();
      },
      // A fix that does not come keeps the position already placed (an earlier fix or a tap): say so only.
      function () { if (F.point) msg(tr("field.no_gps")); else $("field-pos").textContent = tr("field.no_gps"); },
      {enableHighAccuracy: true, timeout: 8000, maximumAge: 30000});
  }
  function send() {
    var sel = $("field-matter"), matter = sel && sel.value;
    if (!matter) { msg(tr("field.need_matter")); return; }
    if (!F.point) { msg(tr("field.need_position")); return; }
    var input = document.querySelector("#field-photo-slot input"), photo = input && input.files[0];
    if (photo && photo.size > MAX_PHOTO) { msg(tr("field.photo_large")); return; }
    var fields = {matter: matter, lon: F.point.lon, lat: F.point.lat, crs: F.point.how === "tap" ? "display" : "wgs84",
      description: $("field-description").value || "", observed_at: new Date().toISOString()};
    if (!navigator.onLine) { sendNow(fields, photo, input); return; }
    // Online: first the open cases of this matter it would merge into. No answer (a dead network that
    // still says online) sends it as usual: ingest merges by the same rule anyway.
    var q = "?matter=" + encodeURIComponent(matter) + "&lon=" + fields.lon + "&lat=" + fields.lat + "&crs=" + fields.crs;
    var ask = fetch("/field/api/nearby" + q, {credentials: "same-origin"}).then(function (r) { return r.json(); });
    var timeout = new Promise(function (ok) { setTimeout(function () { ok(null); }, 5000); });
    $("field-send").disabled = true;
    Promise.race([ask, timeout]).catch(function () { return null; }).then(function (j) {
      $("field-send").disabled = false;
      if (!j || !j.ok || !j.cases || !j.cases.length) { sendNow(fields, photo, input); return; }
      F.asking = {fields: fields, photo: photo, input: input, cases: j.cases};
      showNearby(j.cases);
    });
  }
  function showNearby(cases) {
    var box = $("field-nearby-list");
    box.innerHTML = "";
    cases.forEach(function (c) {
      var row = document.createElement("div");
      row.className = "gw-field-nearby-case"; row.setAttribute("data-id", c.id);
      var txt = document.createElement("div");
      txt.innerHTML = "<b></b><div class='gw-note'></div><div></div>";
      txt.children[0].textContent = c.matter + " · " + tr("field.nearby_item", {m: Math.round(c.distance_m),
        n: c.report_count, status: c.status_label});
      txt.children[1].textContent = c.place || "";
      txt.children[2].textContent = c.description || "—";
      if (c.photos && c.photos.length) {
        var img = document.createElement("img"); img.src = "/media/" + c.photos[0]; img.alt = c.matter;
        row.appendChild(img);
      }
      row.appendChild(txt);
      box.appendChild(row);
    });
    $("field-nearby").hidden = false;
    // The cases on the map, around the report's point, at street level.
    var set = window.dash_clientside && window.dash_clientside.set_props;
    if (!set) return;
    set("field-nearby-marks", {data: {type: "FeatureCollection", features: cases.map(function (c) {
      return {type: "Feature", geometry: {type: "Point", coordinates: c.pos}, properties: {id: c.id}};
    })}});
    var pts = cases.map(function (c) { return c.pos; });
    if (F.point) pts.push(F.point.how === "tap" ? [F.point.lon, F.point.lat] : F.toDisplay(F.point.lon, F.point.lat));
    var lats = pts.map(function (p) { return p[1]; }), lons = pts.map(function (p) { return p[0]; });
    set("field-map", {viewport: {bounds: [[Math.min.apply(null, lats), Math.min.apply(null, lons)],
                                          [Math.max.apply(null, lats), Math.max.apply(null, lons)]],
                                 options: {padding: [60, 60], maxZoom: 18}}});
  }
  function answerNearby(answer) {
    var a = F.asking; F.asking = null;
    $("field-nearby").hidden = true;
    var set = window.dash_clientside && window.dash_clientside.set_props;
    if (set) {
      set("field-nearby-marks", {data: {type: "FeatureCollection", features: []}});
      var view = JSON.parse($("field-root").getAttribute("data-view") || "null");
      if (view) set("field-map", {viewport: {bounds: view}});
    }
    if (!a || answer === "cancel") return;
    if (answer === "different") a.fields.not_duplicate_of = a.cases.map(function (c) { return c.id; }).join(",");
    sendNow(a.fields, a.photo, a.input, answer === "same" ? tr("field.merged_hint") : null);
  }
  function sendNow(fields, photo, input, note) {
    enqueue("/field/api/report", fields, photo)
      .then(function () {
        msg(navigator.onLine ? tr("field.sent") + (note ? " · " + note : "") : tr("field.offline"));
        $("field-description").value = ""; if (input) input.value = "";
      });
  }
  function filterMatters() {
    var q = ($("field-matter-search").value || "").toLowerCase();
    Array.from($("field-matter").options).forEach(function (o) {
      o.hidden = q && o.textContent.toLowerCase().indexOf(q) < 0 && o.value.indexOf(q) < 0;
    });
  }
  function duty() {
    var b = $("field-duty"), on = b.getAttribute("data-on") !== "1";
    b.setAttribute("data-on", on ? "1" : "0");
    b.textContent = b.getAttribute(on ? "data-on-label" : "data-off-label");
    var fields = {on_duty: on ? "1" : "0"};
    if (F.point) { fields.lon = F.point.lon; fields.lat = F.point.lat; }
    enqueue("/field/api/duty", fields, null);
  }
  function photoInput(slot) {
    var el = $(slot);
    if (!el || el.firstChild) return;
    var i = document.createElement("input");
    i.type = "file"; i.accept = "image/jpeg,image/png"; i.setAttribute("capture", "environment");
    i.id = slot.replace("-slot", "");
    el.appendChild(i);
  }
  // Delegated handlers: Dash may re-render the page's elements at any time, the document stays.
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest && ev.target.closest("button");
    if (!el || !$("field-root") || !$("field-root").contains(el)) return;
    if (el.id === "field-send") send();
    else if (el.id === "field-gps") locate();
    else if (el.id === "field-duty") duty();
    else if (el.id === "field-task-close") $("field-task").hidden = true;
    else if (el.id === "field-nearby-same") answerNearby("same");
    else if (el.id === "field-nearby-different") answerNearby("different");
    else if (el.id === "field-nearby-cancel") answerNearby("cancel");
    else if (el.getAttribute("data-action")) act(el.getAttribute("data-action"));
    else if (el.classList.contains("gw-task")) openTask(el.getAttribute("data-id"));
  });
  document.addEventListener("input", function (ev) { if (ev.target.id === "field-matter-search") filterMatters(); });

  function wire() {
    var root = $("field-root");
    if (!root) { F.root = null; if (F.es) { F.es.close(); F.es = null; } return; }
    photoInput("field-photo-slot"); photoInput("field-task-photo-slot");  // again after a re-render
    if (F.root === root) return;
    F.root = root;
    if (navigator.serviceWorker && window.isSecureContext) {
      // Keeps the page's shell so a reload without network still opens it (HTTPS or localhost only).
      navigator.serviceWorker.register("/field-sw.js").catch(function (e) { console.warn("gridwatch sw:", e); });
    }
    showPending(); loadTasks(); flush();
    // New tasks arrive on the live feed; polling below covers a dropped stream.
    if (!F.es) {
      F.es = new EventSource("/live"); F.es.onmessage = function () { wantTasks(); };
      // Messages that were waiting together on the server come as one `batch`: one reload for all.
      F.es.addEventListener("batch", function () { wantTasks(); });
      // Messages were dropped for a slow link: reload the list, which is the whole state here.
      F.es.addEventListener("resync", function () { wantTasks(); });
    }
  }
  window.addEventListener("online", function () { $("field-net") && ($("field-net").textContent = ""); flush(); });
  window.addEventListener("offline", function () { $("field-net") && ($("field-net").textContent = tr("field.offline")); });
  setInterval(wire, 400);
  setInterval(function () { if ($("field-root")) { flush(); } }, 10000);

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.gridwatch = Object.assign(window.dash_clientside.gridwatch || {}, {
    fieldTap: function (click) {
      if (!click || !click.latlng) return window.dash_clientside.no_update;
      setPoint(click.latlng.lng, click.latlng.lat, "tap");
      return {type: "FeatureCollection", features: [{type: "Feature", properties: {},
              geometry: {type: "Point", coordinates: [click.latlng.lng, click.latlng.lat]}}]};
    }
  });
})();
