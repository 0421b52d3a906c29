/* A stored snapshot or photo whose file has gone (deleted, or never written) answers 404 at /media/...: its
   <img> then shows a drawn "image missing" card instead of the browser's broken-image icon. Pages that build
   their rows on the server check the file first (dashboard.components.media_on_disk); this covers what
   they cannot: a file removed after the page was drawn, and images the tablet script builds itself.
   The <img> element is kept and only its src changes, so React (which owns most of them) is not upset.
   A <video> (a camera clip) that fails the same way keeps its element too and shows the card as poster. */
(function () {
  'use strict';
  function text(key, fallback) {
    try {
      var s = JSON.parse(document.getElementById('app-strings').getAttribute('data-strings'));
      return s[key] || fallback;
    } catch (e) { return fallback; }
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
  function stored(src) {
    try { return new URL(src, window.location.href).pathname.indexOf('/media/') === 0; } catch (e) { return false; }
  }
  document.addEventListener('error', function (ev) {
    var el = ev.target;
    if (!el || (el.tagName !== 'IMG' && el.tagName !== 'VIDEO') || el.getAttribute('data-media-missing')) return;
    var src = el.getAttribute('src') || '';
    if (!stored(src)) return;
    el.setAttribute('data-media-missing', '1');
    el.setAttribute('data-media-src', src);
    if (el.tagName === 'VIDEO') {
      // A clip that 404s would stay an empty player whose play button does nothing: show the card as
      // its poster and take the controls away. The src stays (React owns it); nothing more is fetched.
      var said = text('media.missing_clip', 'Clip missing');
      el.title = said;
      el.removeAttribute('controls');
      el.poster = card(said);
      return;
    }
    var label = text('media.missing_image', 'Image missing');
    el.alt = label;
    el.title = label;
    el.src = card(label);
  }, true);  // error events do not bubble: caught on the way down
})();
