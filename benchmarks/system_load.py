"""Load generators of benchmarks/system.py, each a process of its own (the GIL of one would cap the others).

    python benchmarks/system_load.py http   PLAN.json OUT.json   # tablets and Open311 clients over HTTP
    python benchmarks/system_load.py direct PLAN.json OUT.json   # the rest straight onto the stream

Both wait for PLAN's `start_at` (epoch seconds) and stop `seconds` later. The HTTP clients go as fast
as the dashboard answers; each accepted report adds one to a Redis counter, which the direct
publisher reads to top the total up to `rate` incidents/s. `http --reference` instead times GET
/healthz with the same clients: what the dashboard answers when a request does no work.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # before benchmarks/: its video.py would shadow the video package

import redis  # noqa: E402
import requests  # noqa: E402

from geodata.bus import incident_message, publish_incident  # noqa: E402
from grid.routing import Source  # noqa: E402

HTTP_COUNTER = "gridwatch:bench:http_accepted"


def _wait_start(plan: dict) -> float:
    delay = plan["start_at"] - time.time()
    if delay > 0:
        time.sleep(delay)
    return plan["start_at"] + plan["seconds"]


def _observed(k: int, n: int) -> str:
    """Now, or hours back once a client has used every point it owns: no merge by place and time."""
    return (datetime.now(timezone.utc) - timedelta(hours=2 * (k // n))).isoformat()


class Client(threading.Thread):
    """One tablet or Open311 client posting reports one after another until the end."""

    def __init__(self, kind: str, base: str, plan: dict, points: list, cred, counter: redis.Redis, end: float):
        super().__init__(daemon=True)
        self.kind, self.base, self.plan, self.points, self.cred = kind, base, plan, points, cred
        self.counter, self.end = counter, end
        self.accepted: list[str] = []
        self.refused: dict[str, int] = {}
        self.latencies: list[float] = []
        self.session = requests.Session()

    def _refuse(self, why: str) -> None:
        self.refused[why] = self.refused.get(why, 0) + 1

    def _tablet(self, k: int):
        lon, lat = self.points[k % len(self.points)]
        event_id = str(uuid.uuid4())
        r = self.session.post(self.base + "/api/v1/reports", timeout=30, data={
            "event_id": event_id, "lon": lon, "lat": lat, "matter": self.plan["matters"][k % len(self.plan["matters"])],
            "observed_at": _observed(k, len(self.points)), "description": "system benchmark: tablet"})
        return r, (event_id if r.status_code == 200 and r.json().get("ok") and not r.json().get("duplicate") else None)

    def _open311(self, k: int):
        lon, lat = self.points[k % len(self.points)]
        r = self.session.post(self.base + "/open311/v2/requests.json", timeout=30, data={
            "api_key": self.cred, "service_code": self.plan["matters"][k % len(self.plan["matters"])],
            "lat": lat, "long": lon, "description": "system benchmark: Open311 client"})
        return r, (r.json()[0]["service_request_id"] if r.status_code == 201 else None)

    def run(self) -> None:
        if self.kind == "tablet":
            username, password = self.cred
            r = self.session.post(self.base + "/api/v1/token", json={"username": username, "password": password},
                                  timeout=60)
            if r.status_code != 200:
                self._refuse(f"token {r.status_code}")
                return
            self.session.headers["Authorization"] = "Bearer " + r.json()["token"]
        # Logged in before the start: the load measures reports, not argon2.
        time.sleep(max(0.0, self.plan["start_at"] - time.time()))
        send = self._tablet if self.kind == "tablet" else self._open311
        k = 0
        while time.time() < self.end:
            t0 = time.perf_counter()
            try:
                r, accepted = send(k)
            except (requests.RequestException, ValueError) as exc:
                self._refuse(type(exc).__name__)
                time.sleep(0.1)
                continue
            self.latencies.append(time.perf_counter() - t0)
            k += 1
            if accepted:
                self.accepted.append(accepted)
                self.counter.incr(HTTP_COUNTER)
            else:
                self._refuse(f"{self.kind} {r.status_code}")


class Pinger(threading.Thread):
    """GET /healthz in a loop: the reference rate of a request that does no work."""

    def __init__(self, base: str, end: float):
        super().__init__(daemon=True)
        self.base, self.end, self.done = base, end, 0
        self.session = requests.Session()

    def run(self) -> None:
        while time.time() < self.end:
            if self.session.get(self.base + "/healthz", timeout=30).status_code == 200:
                self.done += 1


def run_http(plan: dict, reference: bool) -> dict:
    end = plan["start_at"] + plan["seconds"]
    if reference:
        _wait_start(plan)
        pingers = [Pinger(plan["base"], end) for _ in range(len(plan["tablets"]) + len(plan["keys"]))]
        for p in pingers:
            p.start()
        for p in pingers:
            p.join()
        return {"requests": sum(p.done for p in pingers), "seconds": plan["seconds"]}
    counter = redis.Redis.from_url(plan["redis_url"])
    pts = plan["points"]
    clients = []
    owners = [("tablet", c) for c in plan["tablets"]] + [("open311", k) for k in plan["keys"]]
    for i, (kind, cred) in enumerate(owners):
        # Each client owns its own points, so no two clients' reports merge.
        clients.append(Client(kind, plan["base"], plan, pts[i::len(owners)], cred, counter, end))
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    out: dict = {"seconds": plan["seconds"]}
    for kind in ("tablet", "open311"):
        mine = [c for c in clients if c.kind == kind]
        refused: dict[str, int] = {}
        for c in mine:
            for k, v in c.refused.items():
                refused[k] = refused.get(k, 0) + v
        out[kind] = {"clients": len(mine), "accepted": [i for c in mine for i in c.accepted], "refused": refused,
                     "latencies": [x for c in mine for x in c.latencies]}
    return out


def run_direct(plan: dict) -> dict:
    """Top the total up to `rate`/s with appeal reports through publish_incident, as docs/bus.md says."""
    client = redis.Redis.from_url(plan["redis_url"])
    pts, matters = plan["points"], plan["matters"]
    end = _wait_start(plan)
    t0, sent, behind_max = plan["start_at"], 0, 0
    while (now := time.time()) < end:
        http = int(client.get(HTTP_COUNTER) or 0)
        due = int(plan["rate"] * (now - t0)) - http - sent
        behind_max = max(behind_max, due)
        # At most a fifth of a second's worth per round trip: a publisher that fell behind catches up
        # in steps instead of one huge burst.
        n = min(due, max(1, plan["rate"] // 5))
        if n > 0:
            with client.pipeline(transaction=False) as pipe:
                for k in range(sent, sent + n):
                    lon, lat = pts[k % len(pts)]
                    observed = datetime.now(timezone.utc) - timedelta(hours=2 * (k // len(pts)))
                    publish_incident(pipe, incident_message(
                        v=1, event_id=uuid.uuid4(), source=Source.APPEAL, matter=matters[k % len(matters)],
                        lon=float(lon), lat=float(lat), observed_at=observed, description="system benchmark: appeal"))
                pipe.execute()
            sent += n
        else:
            time.sleep(0.01)
    return {"sent": sent, "seconds": plan["seconds"], "max_behind": behind_max,
            "http_counted": int(client.get(HTTP_COUNTER) or 0)}


def main(argv: list[str]) -> int:
    mode, plan_file, out_file = argv[0], argv[1], argv[2]
    plan = json.loads(Path(plan_file).read_text())
    if mode == "http":
        result = run_http(plan, reference="--reference" in argv)
    elif mode == "direct":
        result = run_direct(plan)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    Path(out_file).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
