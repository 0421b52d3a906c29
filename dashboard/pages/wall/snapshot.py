"""What every wall of one area shows, read once per short period and shared by all its walls.

In a storm each wall asks for a resync about once a second (assets/gridwatch-live.js); without sharing,
every wall and every resync would run the same queries over tens of thousands of open cases. A snapshot
holds rows only (no language, no markup): each request renders them in its own language. Each part
carries a digest, so a wall is sent only the parts that changed since it last got them (the browser
then redraws nothing for an unchanged part: 300 cluster markers rebuilt every second cost more than
the queries).

The snapshot and the alarm strip of an area are built by one dashboard process at a time and shared
with the others through Redis (pages/wall/shared.py): with gunicorn's workers each building its own,
a storm ran the queries once per worker and second, and a resync that found its copy expired waited
for them. Now a resync is answered from the last snapshot (at most STALE_S old) while one process
builds the next. The shared record is keyed by the area (street, community) and the database, never
by the user: two walls of one area see the same rows, and no wall ever gets rows of an area it may not see.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass

import redis

from dashboard import context, data
from dashboard.access import SessionUser, scope_filter
from dashboard.pages.wall import layers, shared
from geodata import wall_repo

logger = logging.getLogger(__name__)

SNAPSHOT_TTL_S = 1.0  # one set of queries per area and second at most, however many walls and processes
# Past SNAPSHOT_TTL_S the last snapshot is still shown, up to this age, while one process builds the
# next (a build takes some hundred ms in a storm): a wall's figures are at most ~1 s later than before.
# assets/gridwatch-live.js's trailing resync comes later than this after a burst's last message.
STALE_S = 2.0
KEEP_WARM_S = 10.0  # kept fresh this long after a wall last asked: a storm's resyncs come every 3 s
# The builder's lock: longer than any build; a process with nothing to show waits at most this long.
BUILD_LOCK_S = 10.0
# The strip comes with the snapshot, so an acknowledgement on the console shows within ~1-2 s.
ALARMS_SHOWN = 20     # the strip shows what fits of these two lines, and "+N" for the rest
PARTS = ("kpis", "latest", "ranking", "counts", "clusters", "cameras", "workers")
CAMERA_FIELDS = ("code", "health", "lon", "lat")
WORKER_FIELDS = ("code", "on_duty", "lon", "lat")


def digest(value) -> str:
    """A short fingerprint of plain rows (dicts, lists, numbers, strings, datetimes)."""
    return hashlib.blake2b(repr(value).encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """The wall's rows for one area at one moment, and a digest per part (see PARTS)."""

    kpis: dict
    latest: list[dict]
    ranking: list[dict]
    counts: dict[str, int]  # open cases per sub-grid code of the area (the page keeps those it draws)
    clusters: list[dict]
    cameras: list[dict]
    workers: list[dict]
    digests: dict[str, str]


def _scope_key(user: SessionUser) -> tuple:
    scope = scope_filter(user)
    return scope["scope_street"], scope["scope_community"]


def read(conn, user: SessionUser, tz: str) -> Snapshot:
    """Run the wall's queries for the user's area (no cache): the open cases in one pass, then the few
    figures they do not give."""
    scope = scope_filter(user)
    rollup = wall_repo.open_rollup(conn, scope, layers.cluster_cell(wall_repo.open_count(conn, scope)))
    k = wall_repo.kpis_closed(conn, scope, data.day_start(tz))
    kpis = {**k, "open": rollup["open"], "overdue": rollup["overdue"],
            "on_time_rate": k["closed_on_time"] / k["closed"] if k["closed"] else None}
    ranking = sorted(({**s, "open": rollup["streets"].get(s["code"], (0, 0))[0],
                       "overdue": rollup["streets"].get(s["code"], (0, 0))[1]} for s in wall_repo.streets(conn, scope)),
                     key=lambda r: (-r["open"], r["code"]))
    parts = {
        "kpis": kpis,
        "latest": data.latest(conn, user),
        "ranking": ranking,
        "counts": dict(sorted(rollup["sub_grids"].items())),  # in a fixed order: rows come in hash order
        "clusters": wall_repo.merge_cells(rollup["cells"], 1, layers.MAX_CLUSTERS),
        # Only what the wall draws: a camera's config (zones, rules) or a heartbeat's time would make
        # every snapshot bigger to share and to digest, and a new digest resends the layer for nothing.
        "cameras": [{k: c[k] for k in CAMERA_FIELDS} for c in data.cameras(conn)],
        "workers": [{k: w[k] for k in WORKER_FIELDS} for w in data.grid_worker_positions(conn, user)],
    }
    return Snapshot(**parts, digests={p: digest(v) for p, v in parts.items()})


def _shared() -> shared.SharedValues:
    """This app's SharedValues of wall snapshots (one per process)."""
    return shared.of_app("gridwatch_wall_shared", fresh_s=SNAPSHOT_TTL_S, stale_s=STALE_S, lock_s=BUILD_LOCK_S,
                         keep_warm_s=KEEP_WARM_S)


def _record(user: SessionUser) -> dict:
    """The shared record of the user's area: the snapshot's parts and digests, the alarms and their total."""
    cfg, pool = context.cfg(), context.pool()
    street, community = _scope_key(user)
    key = f"gridwatch:wall:snapshot:{shared.db_tag(cfg.database_url)}:{street or '*'}:{community or '*'}:{cfg.timezone}"

    def build() -> dict:
        # Runs in the request or in a background thread: no Flask context here, only what it was handed.
        with pool.connection() as conn:
            snap = read(conn, user, cfg.timezone)
            rows, total = wall_repo.alarms(conn, scope_filter(user), ALARMS_SHOWN)
        return {**asdict(snap), "alarms": rows, "alarms_total": total}

    try:
        return _shared().get(key, build)
    except redis.RedisError:
        # Sessions live in Redis too, so this is rare and short: the process reads for itself meanwhile.
        logger.warning("wall snapshot not shared (Redis unavailable); read by this process", exc_info=True)
        return context.cache().get(("wall_snapshot", street, community, cfg.timezone), build, ttl_s=SNAPSHOT_TTL_S)


def get(user: SessionUser) -> Snapshot:
    """The shared snapshot of the user's area, at most SNAPSHOT_TTL_S old (STALE_S while the next is built)."""
    r = _record(user)
    return Snapshot(**{p: r[p] for p in PARTS}, digests=r["digests"])


def alarms(user: SessionUser) -> tuple[list[dict], int]:
    """The newest unacknowledged alarms of the user's area and their total, as old as the snapshot."""
    r = _record(user)
    return r["alarms"], r["alarms_total"]
