"""`seed_demo`: generate the Pingshan demo and write it in one transaction with COPY.

The seeder is the one allowed bulk writer of past incidents: it writes finished histories directly
and bypasses the transition function on purpose. It only seeds an empty database.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from tqdm import tqdm

from geodata.demo import accounts, camera_health, cameras, incidents, layout, manifest, matters, people, plant, rows
from geodata.queries import q

logger = logging.getLogger(__name__)

DEFAULT_SEED = 440310
# Any constant: keeps two seeders from filling one database at once.
_LOCK_KEY = 0x64656D6F
_GRID_TABLES = ("district", "street", "community", "base_grid", "incident")


@dataclass
class SeedSummary:
    """What `seed_demo` did: row counts, the accounts with their passwords, the manifest."""

    seeded: bool
    message: str
    counts: dict[str, int] = field(default_factory=dict)
    accounts: list[accounts.Account] = field(default_factory=list)
    manifest_path: Path | None = None
    manifest: dict | None = None
    seconds: float = 0.0


def copy_rows(cur: psycopg.Cursor, table: str, data: list[tuple]) -> None:
    """COPY rows into `table` using rows.COLUMNS for the column list."""
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in rows.COLUMNS[table]))
    with cur.copy(stmt) as cp:
        for row in data:
            cp.write_row(row)


def database_is_empty(conn: psycopg.Connection) -> bool:
    """True when no grid or incident data is there."""
    for table in _GRID_TABLES:
        found = conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))).fetchone()
        if (found[0] if isinstance(found, tuple) else next(iter(found.values()))):
            return False
    return True


def generate(seed: int, days: int, total: int, now: float, show: tqdm) -> dict:
    """Everything the demo writes, as table rows, plus the manifest (no database needed)."""
    rng = np.random.default_rng(seed)
    lay = layout.make_layout(rng)
    show.update()
    cams = cameras.make_cameras(lay, rng)
    workers = people.make_grid_workers(lay, rows.ts(now), rng)
    hot = plant.choose_hot_areas(lay, rng)
    trend = plant.choose_trend(lay, hot, rng)
    start = now - days * 86400.0
    drafts = incidents.make_drafts(lay, cams, workers, hot, trend, total, start, now, rng)
    show.update()
    out = rows.grid_rows(lay)
    out.update(rows.people_rows(lay, workers, now, rng))
    health = camera_health.make_history(len(cams.codes), start, now, seed)
    out["camera"] = rows.camera_rows(cams, health)
    out["matter"] = matters.matter_rows()
    out.update(rows.incident_rows(lay, workers, cams, drafts, now, rng))
    show.update()
    # The demo grid worker is the one answering for the first hot area: their tablet has work.
    first = hot[0].bases[0]
    worker = workers.codes[workers.primary_of_sub[lay.base_sub[first]]]
    street = lay.communities[hot[0].community].street_code
    accts = accounts.demo_accounts(street, worker)
    out["app_user"] = accounts.account_rows(accts)
    doc = {
        "version": 1,
        "seed": seed,
        "generated_at": rows.ts(now).isoformat(),
        "window": {"start": rows.ts(start).isoformat(), "end": rows.ts(now).isoformat(), "days": days},
        "timezone": "Asia/Shanghai",
        "hot_areas": manifest.hot_area_doc(lay, drafts, hot),
        "trend": manifest.trend_doc(lay, drafts, trend, now),
        "accounts": [{"username": a.username, "role": a.role, "scope": a.scope, "worker": a.worker} for a in accts],
        "camera_health": {"dead": [cams.codes[i] for i in health.dead],
                          "long_outages": [cams.codes[i] for i in health.long_outages],
                          "registered_late": [cams.codes[i] for i in health.late]},
    }
    return {"rows": out, "manifest": doc, "accounts": accts, "health_rounds": health_rounds(cams, health)}


def health_rounds(cams: cameras.Cameras, health: camera_health.HealthHistory) -> list[tuple[str | None, list[tuple]]]:
    """The history as batches of (reason, [(code, health, at), ...]): batch k holds the k-th change of
    every camera that has one, split by reason, so each camera's changes are applied in time order."""
    out = []
    for k in range(max(len(log) for log in health.changes)):
        by_reason: dict[str | None, list[tuple]] = {}
        for code, log in zip(cams.codes, health.changes):
            if k < len(log):
                by_reason.setdefault(log[k].reason, []).append((code, log[k].health_to, rows.ts(log[k].t)))
        out.extend(by_reason.items())
    return out


def replay_health(conn: psycopg.Connection, rounds: list[tuple[str | None, list[tuple]]]) -> None:
    """Play the health history through the camera trigger, so camera_health_log is written as in
    production (a coherent chain of from/to states with reasons) and camera.health ends at its last state.

    A COPY of log rows would be quicker, but the trigger would still log the final UPDATE of each
    camera with the health it had before (its registration 'unknown'), breaking the chain; ~200 small
    UPDATEs take a fraction of a second.
    """
    for reason, items in rounds:
        conn.execute(q("camera_health_reason"), {"reason": reason})
        codes, healths, ats = (list(col) for col in zip(*items))
        conn.execute(q("camera_set_health_many"), {"codes": codes, "healths": healths, "ats": ats})
    conn.execute(q("camera_health_reason"), {"reason": None})


def seed_demo(conn: psycopg.Connection, home: Path, *, seed: int = DEFAULT_SEED, days: int = 30,
              incidents_total: int = 20000, now: datetime | None = None, progress: bool = True) -> SeedSummary:
    """Seed an empty, migrated database with the Pingshan demo; refuse (seeded=False) if it holds data."""
    began = time.monotonic()
    now_ts = (now or datetime.now(UTC)).timestamp()
    order = list(rows.COLUMNS)
    with tqdm(total=4 + len(order), desc="seed demo", unit="step", file=sys.stderr, disable=not progress) as show:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            if not database_is_empty(conn):
                return SeedSummary(False, "the database already holds grid or incident data: not seeded")
            made = generate(seed, days, incidents_total, now_ts, show)
            cur = conn.cursor()
            # Sub-grids before base grids (composite FK); their shapes are derived by the database.
            for table in order:
                show.set_postfix_str(table)
                copy_rows(cur, table, made["rows"][table])
                show.update()
            show.set_postfix_str("camera health")
            replay_health(conn, made["health_rounds"])
            for key in ("hot_areas", "trend"):
                conn.execute("INSERT INTO demo_manifest (key, data) VALUES (%s, %s)", (key, Jsonb(made["manifest"][key])))
            conn.execute("INSERT INTO demo_manifest (key, data) VALUES (%s, %s)", ("manifest", Jsonb(made["manifest"])))
            show.set_postfix_str("commit")
        show.update()
    path = manifest.write_file(Path(home), made["manifest"])
    counts = {t: len(r) for t, r in made["rows"].items()}
    seconds = time.monotonic() - began
    logger.info("demo seeded in %.1f s: %s", seconds, json.dumps(counts))
    return SeedSummary(True, f"demo seeded (seed {seed})", counts, made["accounts"], path, made["manifest"], seconds)
