"""What benchmarks/system.py watches: every entry on the stream, every live message, three wall browsers.

- StreamAudit reads `gridwatch:incidents` through a consumer group of its own (created before any
  producer starts), so it sees every event_id from every source and when Redis took it (the entry
  id's milliseconds); it acknowledges what it read, so ingest's trimming is not held up.
- LiveFeed subscribes to `gridwatch:live`: creates by id, and the other report actions (merge,
  situation phases) counted per incident, since those messages carry the incident's id only.
- Walls: headless Chromium logged in as wall accounts on /wall; an init script wraps the page's
  EventSource and records when each create message reached the page (plain or inside a `batch` event),
  and a MutationObserver, looking at added nodes only, when its marker first appeared on the map.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

import orjson
import redis

from geodata.bus import INCIDENT_STREAM, LIVE_CHANNEL

AUDIT_GROUP = "bench-audit"
REPORT_ACTIONS = ("merge", "situation_update", "situation_end")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Runs before the wall's own scripts: its `new EventSource("/live")` gets ours, which also records.
WALL_PROBE = """(() => {
  window.__gwCreate = {}; window.__gwMarker = {}; window.__gwRepeat = 0; window.__gwMessages = 0;
  window.__gwEvents = 0; window.__gwLate = 0; window.__gwStopAt = 0;
  window.__gwResyncs = 0; window.__gwDropped = 0;
  const Native = window.EventSource;
  const over = () => window.__gwStopAt && Date.now() > window.__gwStopAt;
  const record = (m, now) => {
    window.__gwMessages++;
    if (m.type === 'incident' && m.action === 'create') {
      if (m.id in window.__gwCreate) window.__gwRepeat++; else window.__gwCreate[m.id] = now;
    }
  };
  function Recording(url, opts) {
    const es = new Native(url, opts);
    let wallHandler = null;
    // The wall sets es.onmessage: kept here and called after recording, unless the run is over.
    Object.defineProperty(es, 'onmessage', {set(f) { wallHandler = f; }, get() { return wallHandler; }});
    es.addEventListener('message', (ev) => {
      if (over()) { window.__gwLate++; return; }
      window.__gwEvents++;
      if (ev.data.indexOf('"action":"create"') >= 0) record(JSON.parse(ev.data), Date.now());
      else window.__gwMessages++;
      if (wallHandler) wallHandler.call(es, ev);
    });
    // Added before the wall's own listener, so it runs first; the wall's listener is left alone.
    // One parse per batch (the wall parses it once more): what the page was sent, as one event.
    // The server's notice that this page fell behind: it dropped `dropped` messages and the page reloads.
    es.addEventListener('resync', (ev) => {
      if (over()) return;
      window.__gwResyncs++;
      try { window.__gwDropped += JSON.parse(ev.data).dropped || 0; } catch (e) { /* counted anyway */ }
    });
    es.addEventListener('batch', (ev) => {
      if (over()) { window.__gwLate++; ev.stopImmediatePropagation(); return; }
      window.__gwEvents++;
      const now = Date.now();
      for (const m of JSON.parse(ev.data)) record(m, now);
    });
    return es;
  }
  Recording.prototype = Native.prototype;
  Object.assign(Recording, {CONNECTING: 0, OPEN: 1, CLOSED: 2});
  window.EventSource = Recording;
  // Only the added nodes are looked at: a query of the whole page per mutation cost the wall's
  // browser more than the markers did.
  const seen = (el, now) => {
    if (el.dataset && el.dataset.id && el.classList.contains('gw-live-marker')) {
      if (!(el.dataset.id in window.__gwMarker)) window.__gwMarker[el.dataset.id] = now;
    }
  };
  const watch = () => new MutationObserver((mutations) => {
    if (over()) return;
    const now = Date.now();
    for (const mu of mutations) for (const node of mu.addedNodes) {
      if (node.nodeType !== 1) continue;
      seen(node, now);
      if (node.firstElementChild) for (const el of node.getElementsByClassName('gw-live-marker')) seen(el, now);
    }
  }).observe(document.body, {childList: true, subtree: true});
  if (document.body) watch(); else document.addEventListener('DOMContentLoaded', watch);
})();"""


class StreamAudit(threading.Thread):
    """Every entry added to the incident stream after start(): event_id -> (source, ms, camera?)."""

    def __init__(self, redis_url: str):
        super().__init__(daemon=True, name="bench-stream-audit")
        self.client = redis.Redis.from_url(redis_url)
        try:
            self.client.xgroup_create(INCIDENT_STREAM, AUDIT_GROUP, id="$", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self.entries: dict[str, tuple[str, int]] = {}
        self.repeated = 0
        self.unreadable = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            reply = self.client.xreadgroup(AUDIT_GROUP, "audit", {INCIDENT_STREAM: ">"}, count=2000, block=200)
            ids = []
            for _, items in reply or []:
                for entry_id, fields in items:
                    ids.append(entry_id)
                    try:
                        msg = orjson.loads(fields[b"data"])
                        event_id, source = str(msg["event_id"]).lower(), msg["source"]
                    except (KeyError, TypeError, ValueError):
                        self.unreadable += 1
                        continue
                    if event_id in self.entries:
                        self.repeated += 1
                    else:
                        self.entries[event_id] = (source, int(entry_id.split(b"-")[0]))
            if ids:
                self.client.xack(INCIDENT_STREAM, AUDIT_GROUP, *ids)

    def lag(self) -> int:
        for g in self.client.xinfo_groups(INCIDENT_STREAM):
            if g["name"] in (AUDIT_GROUP, AUDIT_GROUP.encode()):
                return (g.get("lag") or 0) + g["pending"]
        return 0


class LiveFeed(threading.Thread):
    """The live channel as a subscriber sees it."""

    def __init__(self, redis_url: str):
        super().__init__(daemon=True, name="bench-live-feed")
        self.client = redis.Redis.from_url(redis_url)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(LIVE_CHANNEL)
        self.created: dict[str, float] = {}
        self.created_again: Counter = Counter()
        self.report_events: Counter = Counter()  # event_id of the report -> merge / situation messages
        self.messages = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            m = self.pubsub.get_message(timeout=0.2)
            if not m:
                continue
            self.messages += 1
            p = orjson.loads(m["data"])
            if p.get("type") != "incident":
                continue
            if p.get("action") == "create":
                if p["id"] in self.created:
                    self.created_again[p["id"]] += 1
                else:
                    self.created[p["id"]] = time.time()
            elif p.get("action") in REPORT_ACTIONS:
                # Each such message names the report that caused it (LiveIncident.event_id): counted per
                # report, so two reports joining one case cannot hide a lost message behind each other.
                self.report_events[p.get("event_id")] += 1


class SseReader(threading.Thread):
    """GET /live with a wall's session cookies, as the wall's EventSource does; records creates."""

    def __init__(self, base: str, cookies: dict[str, str]):
        super().__init__(daemon=True, name="bench-sse")
        self.base, self.cookies = base, cookies
        self.created: dict[str, float] = {}
        self.repeated = 0
        self.connects = 0
        self.connected_at: float | None = None  # what entered the stream before cannot reach it
        self.resyncs = 0  # the server's notices that this reader fell behind
        self.dropped = 0  # the messages those notices say were dropped
        self.events = 0  # message and batch events
        self.messages = 0
        self.stop = threading.Event()

    def _record(self, m: dict, now: float) -> None:
        if m.get("type") != "incident" or m.get("action") != "create":
            return
        if m["id"] in self.created:
            self.repeated += 1
        else:
            self.created[m["id"]] = now

    def run(self) -> None:
        import requests

        while not self.stop.is_set():
            try:
                with requests.get(self.base + "/live", cookies=self.cookies, stream=True, timeout=(5, 30)) as r:
                    self.connects += 1
                    if self.connected_at is None:
                        self.connected_at = time.time()
                    event = None
                    # Big chunks: a batch event is one line of up to ~256 KB, and iter_lines joins its
                    # chunks one by one (512-byte chunks cost quadratic copying). gunicorn sends the stream
                    # chunked, so a chunk comes as soon as the server wrote it, never waiting to fill.
                    for line in r.iter_lines(chunk_size=1 << 16):
                        if self.stop.is_set():
                            return
                        if line.startswith(b"event: "):
                            event = line[7:]
                            continue
                        if not line.startswith(b"data: "):
                            event = None  # a blank line ends the event
                            continue
                        if event == b"resync":
                            self.resyncs += 1
                            self.dropped += int(orjson.loads(line[6:]).get("dropped") or 0)
                            continue
                        if event not in (None, b"batch"):
                            continue
                        self.events += 1
                        if event == b"batch":
                            batch = orjson.loads(line[6:])
                            self.messages += len(batch)
                            now = time.time()
                            for m in batch:
                                self._record(m, now)
                        else:
                            self.messages += 1
                            if b'"action":"create"' in line:
                                self._record(orjson.loads(line[6:]), time.time())
            except Exception:  # noqa: BLE001 - a dropped stream is reconnected, as EventSource does
                time.sleep(1.0)


class Walls:
    """n wall browsers (one Chromium, a context each) on /wall, recording what reached them and when."""

    def __init__(self, base: str, accounts: list[tuple[str, str]]):
        from playwright.sync_api import sync_playwright

        self.base = base
        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        self.pages = []
        for username, password in accounts:
            ctx = self.browser.new_context(viewport={"width": 1920, "height": 1080})
            ctx.add_init_script(WALL_PROBE)
            page = ctx.new_page()
            page.goto(base + "/login")
            page.fill("#login-username", username)
            page.fill("#login-password", password)
            page.click("#login-submit")
            page.wait_for_load_state("domcontentloaded")
            page.goto(base + "/wall")
            self.pages.append(page)
        for page in self.pages:
            page.wait_for_selector("#wall-status[data-state=live]", timeout=120_000)

    def start_profile(self) -> None:
        """Chromium's own counters for every wall (script, layout, style), and a CPU profile of the first."""
        self._cdp = [page.context.new_cdp_session(page) for page in self.pages]
        for cdp in self._cdp:
            cdp.send("Performance.enable")
        self._metrics0 = [self._metrics(cdp) for cdp in self._cdp]
        self._cdp[0].send("Profiler.enable")
        self._cdp[0].send("Profiler.setSamplingInterval", {"interval": 1000})
        self._cdp[0].send("Profiler.start")

    @staticmethod
    def _metrics(cdp) -> dict[str, float]:
        return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}

    def stop_profile(self) -> tuple[list[dict], list[tuple[float, str, list]]]:
        """Per wall, seconds of task, script, layout and style since start_profile; and the first wall's
        25 hottest functions: (self ms, "name file:line", their two commonest caller chains with ms)."""
        keys = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
        spent = []
        for cdp, before in zip(self._cdp, self._metrics0):
            after = self._metrics(cdp)
            spent.append({k: after.get(k, 0.0) - before.get(k, 0.0) for k in keys})
        profile = self._cdp[0].send("Profiler.stop")["profile"]
        deltas = profile.get("timeDeltas") or []
        dt = {}
        for node_id, d in zip(profile.get("samples") or [], deltas[1:] + [0]):
            dt[node_id] = dt.get(node_id, 0) + d
        def name(node) -> str:
            cf = node["callFrame"]
            return f"{cf['functionName'] or '(anonymous)'} {cf['url'].rsplit('/', 1)[-1].split('?')[0]}:{cf['lineNumber'] + 1}"

        nodes = {node["id"]: node for node in profile["nodes"]}
        parent = {c: node["id"] for node in profile["nodes"] for c in node.get("children", [])}
        selfs: Counter = Counter()
        callers: dict[str, Counter] = {}
        for node in profile["nodes"]:
            ms = dt.get(node["id"], 0) / 1000.0
            selfs[name(node)] += ms
            # Up to three callers: a built-in (a forced layout, a DOM call) says little without them.
            chain, up = [], parent.get(node["id"])
            while up is not None and len(chain) < 3:
                chain.append(name(nodes[up]))
                up = parent.get(up)
            callers.setdefault(name(node), Counter())[" < ".join(chain)] += ms
        return spent, [(ms, where, callers[where].most_common(2)) for where, ms in selfs.most_common(25)]

    def stop_at(self, epoch_s: float) -> None:
        """From this time on, the walls only count what still arrives (as late)."""
        for page in self.pages:
            page.evaluate("(t) => { window.__gwStopAt = t; }", epoch_s * 1000)

    def cookies(self) -> dict[str, str]:
        """The first wall's session cookies."""
        return {c["name"]: c["value"] for c in self.pages[0].context.cookies()}

    def driver_pid(self) -> int | None:
        """The Playwright driver (node), a child of ours and the parent of Chromium."""
        me = str(os.getpid())
        for entry in os.listdir("/proc"):
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                if stat[stat.rfind(")") + 2:].split()[1] == me and \
                        b"playwright" in Path(f"/proc/{entry}/cmdline").read_bytes():
                    return int(entry)
            except (OSError, ValueError, IndexError):
                continue
        return None

    def collect(self) -> list[dict]:
        out = []
        for page in self.pages:
            out.append(page.evaluate("""() => ({created: window.__gwCreate, markers: window.__gwMarker,
                repeated: window.__gwRepeat, messages: window.__gwMessages, events: window.__gwEvents,
                late: window.__gwLate, resyncs: window.__gwResyncs, dropped: window.__gwDropped,
                state: (document.getElementById('wall-status') || {}).getAttribute
                       ? document.getElementById('wall-status').getAttribute('data-state') : null})"""))
        return out

    def close(self) -> None:
        try:
            self.browser.close()
        finally:
            self._pw.stop()
