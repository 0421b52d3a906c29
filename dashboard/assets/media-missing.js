/* A stored snapshot or photo whose file has gone (deleted, or never written) answers 404 at /media/...: its
   <img> then shows a drawn "image missing" card instead of the browser's broken-image icon. Pages that build
   their rows on the server check the file first (dashboard.components.media_on_disk); this covers what
   they cannot: a file removed after the page was drawn, and images the tablet script builds itself.
   The <img> element is kept and only its src changes, so React (which owns most of them) is not upset. */
(function () {
  'use strict';
  function text() {
    try {
      var s = JSON.parse(document.getElementById('app-strings').getAttribute('data-strings'));
      return s['media.missing_image'] || 'Image missing';
    } catch (e) { return 'Image missing'; }
  }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  function card(label) {
    var svg = '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180" viewBox="0 0 320 180">' +
      '<rect x="1" y="1" width="318" height="178" rx="6" fill="#060b16" stroke="#2a3d63" stroke-width="2" ' +
      'stroke-dasharray="8 6"/><text x="160" y="100" fill="#93a4c3" font-size="28" text-anchor="middle" ' +
      'font-family="sans-serif">' + esc(label) + '</text></svg>';
    return 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);
  }
  document.addEventListener('error', function (ev) {
    var img = ev.target;
    if (!img || img.tagName !== 'IMG' || img.getAttribute('data-media-missing')) return;
    var src = img.getAttribute('src') || '';
    var path;
    try { path = new URL(src, window.location.href).pathname; } catch (e) { return; }
    if (path.indexOf('/media/') !== 0) return;
    var label = text();
    img.setAttribute('data-media-missing', '1');
    img.setAttribute('data-media-src', src);
    img.alt = label;
    img.title = label;
    img.src = card(label);
  }, true);  // error events do not bubble: caught on the way down
})();
