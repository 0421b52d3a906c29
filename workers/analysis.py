"""The analysis worker (分析研判): refreshes hot spots, emerging hot spots, warnings and indicators.

A refresh loads the incidents of the last 35 days in one query, computes everything in memory
(workers/analysis_compute.py), stores it in one transaction stamped with `computed_at`, then
publishes on `gridwatch:live`: an `early_warning` message per new warning and one `analysis`
message saying new results exist (docs/analysis.md). The worker writes those messages to
`live_outbox` in the refresh's own transaction and publishes them from there after the commit
(geodata/live_outbox.py), as ingest and deadlines do: killed between commit and publish, or cut from
Redis, it publishes them at its next start, once. It runs every `interval_s` and whenever a
request is pushed on the Redis list `gridwatch:analysis:request`. A warning becomes a case through
the incident stream, like every other new case (`geodata.warning_cases.make_case`).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd
import psycopg
import redis

from geodata import analysis_repo as repo
from geodata import db, live_outbox
from workers import analysis_compute as compute
from geodata.bus import LIVE_CHANNEL, LiveAnalysis, publish_live
from geodata.warning_cases import warning_message

logger = logging.getLogger(__name__)

REQUEST_KEY = "gridwatch:analysis:request"
"""Redis list: push anything to ask the worker for a refresh now."""
ACTOR = "system:analysis"


@dataclass(frozen=True)
class AnalysisConfig:
    """What a refresh computes and how often the worker runs it."""

    families: tuple[str, ...] = ("crime", "dispute", "hazard")
    windows: tuple[int, ...] = (7, 30)
    emerging_days: int = 30
    cell_size: float = 200.0
    indicator_days: int = 30
    baseline_weeks: int = 4
    rising_min_count: int = 5
    alpha: float = 0.05
    repeat_days: int = 7
    repeat_radius_m: float = 50.0
    repeat_min_count: int = 3
    keep_runs: int = 6
    interval_s: float = 300.0


@dataclass
class RunResult:
    """What one refresh did: ids, times per step, counts, and the warnings that are new."""

    run_id: int
    computed_at: datetime
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    new_warnings: list[dict] = field(default_factory=list)
    # The run's live messages in `live_outbox`, committed with the results (refresh with outbox=True).
    staged: live_outbox.Staged | None = None


class Analyzer:
    """Runs refreshes on one connection; keeps the lattices until the grid revision changes."""

    def __init__(self, config: AnalysisConfig | None = None):
        self.config = config or AnalysisConfig()
        self._lattices: compute.Lattices | None = None

    def lattices(self, conn: psycopg.Connection) -> compute.Lattices:
        """The lattices of the current grid revision (rebuilt only when the grid changed)."""
        rev = repo.grid_revision(conn)
        if self._lattices is None or self._lattices.revision != rev:
            self._lattices = compute.build_lattices(repo.load_geometry(conn), self.config.cell_size)
            logger.info("analysis lattices built for grid revision %s: %s squares, %s sub-grids", rev,
                        len(self._lattices.square_lattice.cells), len(self._lattices.sub_lattice.cells))
        return self._lattices

    def refresh(self, conn: psycopg.Connection, as_of: datetime | None = None, *, outbox: bool = False) -> RunResult:
        """One full refresh at ``as_of`` (default now), stored in one transaction; ``conn`` must autocommit.

        With ``outbox`` its live messages are written to `live_outbox` in that transaction (then
        `publish` them with the connection); without, nothing is owed to the feed until `publish`.
        """
        if not conn.autocommit:
            # Otherwise the first read opens a transaction and the write block becomes a mere savepoint.
            raise ValueError("the analysis connection must be in autocommit mode")
        cfg = self.config
        began = time.perf_counter()
        timings: dict[str, float] = {}

        def lap(name: str, t0: float) -> float:
            now = time.perf_counter()
            timings[name] = round(now - t0, 4)
            return now

        computed_at = datetime.now(UTC)
        end = pd.Timestamp(as_of or computed_at)
        weeks = compute.baseline_weeks_available(repo.first_incident_at(conn), end, cfg.baseline_weeks)
        span = max(max(cfg.windows), cfg.emerging_days + 1, cfg.indicator_days, 7 * (1 + weeks))
        start = end - pd.Timedelta(days=span)
        t = time.perf_counter()
        lat = self.lattices(conn)
        t = lap("lattices", t)
        incidents = repo.load_incidents(conn, start.to_pydatetime(), end.to_pydatetime())
        cameras = repo.load_cameras(conn)
        recent = repo.recent_repeats(conn, (end - pd.Timedelta(days=cfg.repeat_days)).to_pydatetime())
        t = lap("load", t)
        pos = compute.cell_positions(incidents, lat)
        hot = compute.hotspot_cells(incidents, lat, pos, end, cfg.families, cfg.windows)
        t = lap("hotspots", t)
        emerging = compute.emerging_cells(incidents, lat, pos, end, cfg.families, cfg.emerging_days)
        t = lap("emerging", t)
        warnings = pd.concat([
            compute.rising_warnings(incidents, lat, end, baseline_weeks=weeks, min_count=cfg.rising_min_count,
                                    alpha=cfg.alpha),
            compute.repeat_warnings(incidents, end, recent, days=cfg.repeat_days, radius_m=cfg.repeat_radius_m,
                                    min_count=cfg.repeat_min_count),
            compute.camera_blind_warnings(cameras, lat, end),
        ], ignore_index=True)
        t = lap("warnings", t)
        snap, rank = compute.indicator_tables(incidents, end - pd.Timedelta(days=cfg.indicator_days), end,
                                              lat.district_code)
        t = lap("indicators", t)
        params = {"families": list(cfg.families), "windows": list(cfg.windows), "emerging_days": cfg.emerging_days,
                  "cell_size": cfg.cell_size, "baseline_weeks": weeks, "as_of": end.isoformat(),
                  "grid_revision": lat.revision}
        with conn.transaction():
            run_id = repo.insert_run(conn, computed_at, start.to_pydatetime(), end.to_pydatetime(), params)
            n_hot = repo.copy_rows(conn, "hotspot_cell", run_id, hot, repo.HOTSPOT_COLUMNS)
            n_em = repo.copy_rows(conn, "emerging_cell", run_id, emerging, repo.EMERGING_COLUMNS)
            repo.copy_rows(conn, "indicator_snapshot", run_id, snap, repo.INDICATOR_COLUMNS)
            repo.copy_rows(conn, "ranking", run_id, rank, repo.RANKING_COLUMNS)
            stored = repo.upsert_warnings(conn, run_id, computed_at, warnings)
            t = lap("store", t)
            summary = {
                "incidents": int(len(incidents)), "hotspot_rows": n_hot, "emerging_rows": n_em,
                "hot_cells": _class_counts(hot), "warnings": {k: int(v) for k, v in warnings["kind"].value_counts().items()},
                "new_warnings": sum(1 for w in stored if w["inserted"]), "timings": timings,
            }
            seconds = time.perf_counter() - began
            repo.finish_run(conn, run_id, seconds, summary)
            repo.prune_runs(conn, cfg.keep_runs)
            result = RunResult(run_id, computed_at, seconds, timings, summary, [w for w in stored if w["inserted"]])
            if outbox:
                # In the results' transaction: committed results always have their messages owed.
                result.staged = live_outbox.stage(conn, live_messages(result))
        logger.info("analysis run %s: %s incidents, %s new warning(s) in %.2f s", run_id, len(incidents),
                    summary["new_warnings"], seconds, extra={"run_id": run_id})
        return result


def _class_counts(hot: pd.DataFrame) -> dict[str, int]:
    if hot.empty:
        return {}
    sig = hot[hot["class"].str.startswith("hot_")]
    return {f"{lat}:{fam}:{days}": int(n) for (lat, fam, days), n in
            sig.groupby(["lattice", "family", "window_days"]).size().items()}


# ---- live messages --------------------------------------------------------------------------------

def ready_message(result: RunResult) -> LiveAnalysis:
    """The `analysis` live message: new results exist (see docs/analysis.md)."""
    return LiveAnalysis(at=datetime.now(UTC), run_id=result.run_id, computed_at=result.computed_at,
                        seconds=round(result.seconds, 3), new_warnings=len(result.new_warnings))


def live_messages(result: RunResult) -> list:
    """The run's live messages in order: each new warning, then the ready message."""
    return [*(warning_message(w) for w in result.new_warnings), ready_message(result)]


def publish(client: redis.Redis, result: RunResult, channel: str = LIVE_CHANNEL,
            conn: psycopg.Connection | None = None) -> int:
    """Publish the run's live messages after its commit; return how many were sent now.

    A run refreshed with the outbox is published from its `live_outbox` row (``conn`` deletes it),
    exactly once; one without is published directly.
    """
    if result.staged is not None:
        if conn is None:
            raise ValueError("a run staged in live_outbox is published with its connection")
        return live_outbox.deliver(conn, client, [result.staged], channel)
    return publish_live(client, live_messages(result), channel)


# ---- the worker --------------------------------------------------------------------------------------

class AnalysisWorker:
    """Refreshes every ``interval_s`` and on request; ``stopping`` ends the loop after the current run."""

    def __init__(self, database_url: str, redis_url: str, config: AnalysisConfig | None = None):
        self.database_url = database_url
        self.redis_url = redis_url
        self.analyzer = Analyzer(config)
        self.stopping = False

    def run_once(self, conn: psycopg.Connection, client: redis.Redis) -> RunResult:
        """One refresh, committed with its live messages in the outbox, then those published."""
        result = self.analyzer.refresh(conn, outbox=True)
        publish(client, result, conn=conn)
        return result

    def run(self, once: bool = False) -> int:
        """Loop until stopped (or one run with ``once``); return the number of runs."""
        runs = 0
        client = redis.Redis.from_url(self.redis_url, socket_timeout=10, socket_connect_timeout=5)
        conn: psycopg.Connection | None = None
        # After a start or an outage: messages committed and never published (by us or a killed worker).
        left_owed = True
        try:
            while not self.stopping:
                try:
                    if conn is None or conn.closed:
                        conn = db.connect(self.database_url, autocommit=True)
                    if left_owed:
                        if n := live_outbox.deliver_left(conn, client):
                            logger.info("published %s live message(s) left in the outbox", n)
                        left_owed = False
                    self.run_once(conn, client)
                    runs += 1
                except (psycopg.Error, redis.RedisError) as exc:
                    # A run committed before the failure keeps its messages in the outbox: sent next time.
                    logger.error("analysis refresh failed: %s", exc)
                    left_owed = True
                    conn = _drop(conn)
                if once:
                    break
                self._wait(client)
        finally:
            client.close()
            _drop(conn)
        return runs

    def _wait(self, client: redis.Redis) -> None:
        # Short BLPOPs so a stop signal is noticed within a second; a request cuts the wait short.
        deadline = time.monotonic() + self.analyzer.config.interval_s
        while not self.stopping and time.monotonic() < deadline:
            try:
                if client.blpop([REQUEST_KEY], timeout=1):
                    # Requests that piled up during a run are all answered by the next one.
                    client.delete(REQUEST_KEY)
                    return
            except redis.RedisError as exc:
                logger.warning("analysis request list unavailable: %s", exc)
                time.sleep(1)


def _drop(conn: psycopg.Connection | None) -> None:
    """Close a connection that may be broken (a new one is opened for the next run)."""
    if conn is not None:
        try:
            conn.close()
        except psycopg.Error:
            pass
    return None


def request_refresh(client: redis.Redis, by: str) -> None:
    """Ask a running analysis worker for a refresh now."""
    client.rpush(REQUEST_KEY, json.dumps({"by": by, "at": datetime.now(UTC).isoformat()}))
