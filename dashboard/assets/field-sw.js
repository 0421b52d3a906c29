/* Service worker of the tablet page: network first, and the last good copy of the /field shell when
   offline, so a reload without network still shows the page and its outbox. Served at /field-sw.js. */
var CACHE = "gridwatch-field-v1";
var SHELL = ["/field", "/_dash-layout", "/_dash-dependencies", "/_favicon.ico", "/field/api/tasks"];

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (e) { e.waitUntil(self.clients.claim()); });

function cachedGet(path) {
  return SHELL.indexOf(path) >= 0 || path.indexOf("/_dash-component-suites/") === 0 || path.indexOf("/assets/") === 0;
}

function networkFirst(req, key) {
  return caches.open(CACHE).then(function (cache) {
    return fetch(req).then(function (res) {
      if (res.ok) cache.put(key, res.clone());
      return res;
    }, function (err) {
      return cache.match(key).then(function (hit) { if (hit) return hit; throw err; });
    });
  });
}

self.addEventListener("fetch", function (e) {
  var req = e.request, url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.method === "GET" && cachedGet(url.pathname)) { e.respondWith(networkFirst(req, req)); return; }
  if (req.method === "POST" && url.pathname === "/_dash-update-component") {
    // Only the page router's answer for /field is kept (one entry, replaced each time): the page
    // content Dash asks for on load. Every other callback goes to the network as usual.
    e.respondWith(req.clone().text().then(function (body) {
      var router = body.indexOf('"_pages_location"') >= 0 && body.indexOf('"value":"/field"') >= 0;
      return router ? networkFirst(req, new Request("/__gridwatch_field_page__")) : fetch(req);
    }));
  }
});
