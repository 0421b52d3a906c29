"""The demo's simulated street: grid workers who walk, report what they find and work their tasks.

New reports go through the bus like any tablet's (the ingest worker creates the incidents); task
steps (accept, start, resolve) go through the one transition function as the worker; supervisors
close resolved cases after a while. Only `make demo` runs it; it never touches the verification queue,
which is left to the people trying the demo.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import psycopg
import redis
from psycopg.rows import dict_row

from geodata import db, grid_workers
from geodata.queries import q
from geodata.transitions import StaleTransition, TransitionError, apply_transition, publish_result
from geodata.bus import IncidentMessage, LiveGridWorker, publish_incident, publish_live
from grid.routing import Source

logger = logging.getLogger(__name__)

CST = timezone(timedelta(hours=8))

# What a grid worker typically writes, by family.
DESCRIPTIONS = {
    "crime": ["小区门口有可疑人员徘徊", "电动车疑似被盗", "夜间有人翻越围墙"],
    "dispute": ["邻里因噪音发生争执", "商户与顾客发生口角", "楼上漏水引发纠纷"],
    "hazard": ["消防通道被杂物堵塞", "路面井盖缺失", "电线私拉乱接", "广告牌松动有坠落风险"],
}


@dataclass(frozen=True)
class SimulatorConfig:
    """How busy the simulated street is."""

    report_every_s: float = 6.0
    step_every_s: float = 4.0
    move_every_s: float = 10.0
    close_after_min: float = 3.0
    seed: int | None = None


class Simulator:
    """One loop: report, step tasks, move workers; each at its own pace."""

    def __init__(self, database_url: str, redis_url: str, config: SimulatorConfig | None = None):
        self.config = config or SimulatorConfig()
        self.database_url = database_url
        self.conn = db.connect(database_url)
        self.redis = redis.Redis.from_url(redis_url)
        self.rng = random.Random(self.config.seed)
        self.stopping = False
        cur = self.conn.cursor(row_factory=dict_row)
        self.matters = cur.execute(q("sim_matters")).fetchall()
        self.workers = cur.execute(q("sim_workers")).fetchall()
        self.conn.rollback()
        if not self.workers or not self.matters:
            raise SystemExit("the simulator needs the demo: run `gridwatch seed demo` first")

    def report(self) -> str:
        """A worker reports something near where they stand, through the bus."""
        w = self.rng.choice(self.workers)
        m = self.rng.choice(self.matters)
        lon = w["lon"] + self.rng.uniform(-0.0015, 0.0015)
        lat = w["lat"] + self.rng.uniform(-0.0015, 0.0015)
        message = IncidentMessage(
            v=1, event_id=uuid.uuid4(), source=Source.GRID_WORKER, matter=m["code"], lon=lon, lat=lat,
            observed_at=datetime.now(CST), reporter=w["code"],
            description=self.rng.choice(DESCRIPTIONS[m["family"]]), attributes={"simulated": True})
        publish_incident(self.redis, message)
        return str(message.event_id)

    def step(self) -> int:
        """Move a few open tasks one step along the loop, as their worker or a supervisor would."""
        cur = self.conn.cursor(row_factory=dict_row)
        rows = cur.execute(q("sim_open_tasks"), {"close_after": timedelta(minutes=self.config.close_after_min)}).fetchall()
        self.conn.rollback()
        done = 0
        for row in self.rng.sample(rows, min(3, len(rows))):
            action, role, actor = {
                "dispatched": ("accept", "grid_worker", row["worker_code"]),
                "accepted": ("start", "grid_worker", row["worker_code"]),
                "in_progress": ("resolve", "grid_worker", row["worker_code"]),
                "resolved": ("close", "supervisor", "supervisor"),
            }[row["status"]]
            note = "已处理完毕，现场已恢复" if action == "resolve" else ("核查属实，结案" if action == "close" else None)
            try:
                result = apply_transition(self.conn, row["id"], action, actor, role, note=note)
            except (StaleTransition, TransitionError) as exc:
                logger.debug("simulated %s on %s refused: %s", action, row["id"], exc)
                continue
            publish_result(self.redis, result)
            done += 1
        return done

    def move(self) -> None:
        """A few workers walk a little and say where they are."""
        moved = []
        for w in self.rng.sample(self.workers, min(20, len(self.workers))):
            w["lon"] += self.rng.uniform(-0.0008, 0.0008)
            w["lat"] += self.rng.uniform(-0.0008, 0.0008)
            row = grid_workers.set_duty_position(self.conn, w["code"], lon=w["lon"], lat=w["lat"])
            if row:
                moved.append(LiveGridWorker(at=datetime.now(timezone.utc), code=row["code"], on_duty=row["on_duty"],
                                        lon=row["lon"], lat=row["lat"]))
        publish_live(self.redis, moved)

    def run(self, duration_s: float | None = None) -> None:
        """Loop until stopped (or for duration_s)."""
        start = time.monotonic()
        due = {"report": 0.0, "step": 0.0, "move": 0.0}
        every = {"report": self.config.report_every_s, "step": self.config.step_every_s,
                 "move": self.config.move_every_s}
        while not self.stopping and (duration_s is None or time.monotonic() - start < duration_s):
            now = time.monotonic()
            for job, at in due.items():
                if now < at:
                    continue
                try:
                    getattr(self, job)()
                except (psycopg.OperationalError, redis.ConnectionError) as exc:
                    logger.warning("simulator %s failed (%s); will retry", job, exc)
                    self._reconnect()
                # Jitter so the street does not tick like a clock.
                due[job] = now + every[job] * self.rng.uniform(0.5, 1.5)
            time.sleep(0.2)

    def _reconnect(self) -> None:
        try:
            self.conn.close()
        except psycopg.Error:
            pass
        time.sleep(1)
        try:
            self.conn = db.connect(self.database_url)
        except psycopg.OperationalError:
            logger.warning("database still unavailable")
