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

from geodata.demo import accounts, cameras, incidents, layout, manifest, matters, people, plant, rows

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
    workers = people.make_workers(lay, rows.ts(now), rng)
    hot = plant.choose_hot_areas(lay, rng)
    trend = plant.choose_trend(lay, hot, rng)
    start = now - days * 86400.0
    drafts = incidents.make_drafts(lay, cams, workers, hot, trend, total, start, now, rng)
    show.update()
    out = rows.grid_rows(lay)
    out.update(rows.people_rows(lay, workers, now, rng))
    out["camera"] = rows.camera_rows(cams)
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
    }
    return {"rows": out, "manifest": doc, "accounts": accts}


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
