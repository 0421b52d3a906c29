/* The console without the mouse: J/K or arrows move through the open queue, Enter/V verifies (or dispatches),
   X cancels as a false alarm, 1-5 switch tabs. Keys only click the rows and buttons a mouse would click, so
   every action takes the page's own callbacks and geodata.transitions.apply_transition; an action waits until
   the detail panel shows the highlighted case, so it never lands on the previously selected one. */
(function () {
  'use strict';
  var TABLES = {verification: 'console-verification-table', incidents: 'console-queue-table'};
  var TABS = ['verification', 'incidents', 'workload', 'grid', 'analysis'];
  var selected = null;     // incident id of the highlighted row
  var lastIndex = 0;       // its position, to move on to the next case once it leaves the queue
  var advance = false;     // an action was sent: select the row now at lastIndex when the case is gone

  function root() { return document.getElementById('console-root'); }

  function activeTab() {
    var pane = document.querySelector('#console-root .gw-console-pane.gw-active');
    return pane ? pane.id.replace('console-pane-', '') : null;
  }

  function rowsOf(tab) {
    var table = TABLES[tab] && document.getElementById(TABLES[tab]);
    return table ? Array.prototype.slice.call(table.querySelectorAll('tbody tr.gw-row')) : [];
  }

  function rowId(tr) {
    try { return JSON.parse(tr.id).index; } catch (e) { return null; }
  }

  function mark() {
    Object.keys(TABLES).forEach(function (tab) {
      rowsOf(tab).forEach(function (tr) {
        var on = selected !== null && rowId(tr) === selected;
        tr.classList.toggle('gw-selected', on);
        tr.setAttribute('aria-selected', on ? 'true' : 'false');
      });
    });
  }

  function pick(rows, i) {
    var tr = rows[i];
    selected = rowId(tr);
    lastIndex = i;
    // What a click on the row stores (console_select), set directly: a click on a row the renderer has
    // just redrawn can be lost, a property set cannot.
    window.dash_clientside.set_props('console-selected', {data: selected});
    mark();
    tr.scrollIntoView({block: 'nearest'});
  }

  function move(step) {
    var rows = rowsOf(activeTab());
    if (!rows.length) return;
    var at = -1;
    rows.forEach(function (tr, i) { if (rowId(tr) === selected) at = i; });
    var i = at < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.max(0, Math.min(rows.length - 1, at + step));
    if (i !== at) pick(rows, i);
  }

  function press(action) {
    if (!selected) return;
    var want = selected, deadline = Date.now() + 5000;
    (function attempt() {
      var body = document.getElementById('console-detail-body');
      if (want !== selected) return;  // moved on meanwhile: the key meant the old row, drop it
      if (body && body.getAttribute('data-incident') === want) {
        var button = document.querySelector('#console-root button[data-action="' + action + '"]');
        if (button) { advance = true; button.click(); }
        return;
      }
      if (Date.now() < deadline) setTimeout(attempt, 100);
    })();
  }

  function primaryAction() {
    // A camera event waiting in the verification queue is verified; anything else at the desk is dispatched.
    return rowsOf('verification').some(function (tr) { return rowId(tr) === selected; }) ? 'verify' : 'dispatch';
  }

  function typing(el) {
    if (!el || el === document.body) return false;
    return el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) ||
      !!(el.closest && el.closest('.dash-dropdown, [role=listbox], [role=combobox]'));
  }

  document.addEventListener('keydown', function (ev) {
    if (!root() || ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    // Enter on a focused button is that button's own click.
    if (ev.key === 'Enter' && ev.target && ev.target.tagName === 'BUTTON') return;
    var key = ev.key;
    if (key === 'j' || key === 'J' || key === 'ArrowDown') move(1);
    else if (key === 'k' || key === 'K' || key === 'ArrowUp') move(-1);
    else if (key === 'v' || key === 'V' || key === 'Enter') press(primaryAction());
    else if (key === 'x' || key === 'X') press('false_alarm');
    else if (/^[1-5]$/.test(key)) document.getElementById('console-tab-' + TABS[+key - 1]).click();
    else return;
    ev.preventDefault();
  });

  document.addEventListener('click', function (ev) {
    if (!root() || !ev.isTrusted) return;
    var tr = ev.target.closest && ev.target.closest('#console-root tr.gw-row');
    if (tr && (tr.closest('#' + TABLES.verification) || tr.closest('#' + TABLES.incidents))) {
      selected = rowId(tr);
      advance = false;
      rowsOf(activeTab()).forEach(function (r, i) { if (r === tr) lastIndex = i; });
      mark();
    }
    // A tab button keeps no focus, so Enter right after still verifies.
    var tab = ev.target.closest && ev.target.closest('#console-root .gw-tab');
    if (tab) tab.blur();
    // A queue filter picked with the mouse hands focus back to its dropdown, where J/K/V/X would be
    // typed into it: once the pick has landed, the keys are the queue's again.
    if (ev.target.closest && ev.target.closest('[role=option]')) {
      setTimeout(function () {
        var a = document.activeElement;
        if (a && a.closest && a.closest('#console-root .gw-filters')) a.blur();
      }, 50);
    }
  }, true);

  // The queues are redrawn by the server (every 15 s and after each action): keep the highlight, and after
  // an action move on to the case that took the finished one's place.
  var pending = false;
  new MutationObserver(function () {
    if (pending || !root()) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      var rows = rowsOf(activeTab());
      var present = rows.some(function (tr) { return rowId(tr) === selected; });
      if (advance && selected && !present && rows.length) {
        advance = false;
        pick(rows, Math.min(lastIndex, rows.length - 1));
      } else {
        mark();
      }
    });
  }).observe(document.documentElement, {childList: true, subtree: true});

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.gwConsole = {
    // Which tab is shown: the last one clicked (the first before any click).
    tab: function () {
      var trig = window.dash_clientside.callback_context.triggered_id;
      var on = TABS.indexOf(typeof trig === 'string' ? trig.replace('console-tab-', '') : '');
      if (on < 0) on = 0;
      var panes = TABS.map(function (k, i) { return i === on ? 'gw-console-pane gw-active' : 'gw-console-pane'; });
      var tabs = TABS.map(function (k, i) { return i === on ? 'gw-tab gw-tab-active' : 'gw-tab'; });
      return panes.concat(tabs);
    },
    // Row counts of the two queues for their tabs, read from the tables the server sent: the whole count
    // (data-total), not only the rows listed.
    counts: function (verification, queue) {
      function n(table) {
        try {
          var total = table.props['data-total'];
          return '(' + (total != null ? total : table.props.children[1].props.children.length) + ')';
        } catch (e) { return ''; }
      }
      return [n(verification), n(queue)];
    }
  };
})();
