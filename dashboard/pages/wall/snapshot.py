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
for them. Now a request is answered from the last snapshot, however old, while one process builds the
next: the first wall opened after a quiet spell paints at once with figures marked with their age (the
page asks again within a second, pages/wall/page.py), instead of waiting for the queries (up to 2.45 s
in the storm run against the 2 s goal). Only the alarm strip is never served old: an alarm acknowledged
meanwhile must not blink and sound again, so a record older than STALE_S has its alarms read afresh.
The shared record is keyed by the area (street, community) and the database, never by the user: two
walls of one area see the same rows, and no wall ever gets rows of an area it may not see.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import asdict, dataclass

import redis

from dashboard import context, data
from dashboard.access import SessionUser, scope_filter
from dashboard.pages.wall import layers, shared
from geodata import wall_repo

logger = logging.getLogger(__name__)

SNAPSHOT_TTL_S = 1.0  # one set of queries per area and second at most, however many walls and processes
# Past SNAPSHOT_TTL_S the last snapshot is still served while one process builds the next (a build
# takes some hundred ms in a storm). Older than STALE_S, the wall is told the age of its figures and
# asks again (assets/wall.js) until it has younger ones; assets/gridwatch-live.js's trailing resync
# comes later than this after a burst's last message.
STALE_S = 2.0
# Served at once up to this age (and kept in Redis as long): a wall opened in the morning after a night
# with no wall open paints last night's figures, labelled, for the second the next build takes.
SERVED_OLD_S = 86_400.0
AGE_SHOWN_S = 5.0  # the wall labels its figures with their age past this (a storm's figures are ~1-3 s old)
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
    return shared.of_app("gridwatch_wall_shared", fresh_s=SNAPSHOT_TTL_S, stale_s=SERVED_OLD_S,
                         lock_s=BUILD_LOCK_S, keep_warm_s=KEEP_WARM_S)


def _record(user: SessionUser) -> tuple[dict, float]:
    """The shared record of the user's area (the snapshot's parts and digests, the alarms and their
    total) and the wall-clock time its build began."""
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
        return _shared().get_at(key, build)
    except redis.RedisError:
        # Sessions live in Redis too, so this is rare and short: the process reads for itself meanwhile.
        logger.warning("wall snapshot not shared (Redis unavailable); read by this process", exc_info=True)

        def timed() -> tuple[dict, float]:
            at = time.time()
            return build(), at
        return context.cache().get(("wall_snapshot", street, community, cfg.timezone), timed, ttl_s=SNAPSHOT_TTL_S)


def get_aged(user: SessionUser) -> tuple[Snapshot, float]:
    """The shared snapshot of the user's area and its age in seconds: at most about SNAPSHOT_TTL_S while
    walls of the area are open, however old (up to SERVED_OLD_S) for the first after a quiet spell."""
    r, at = _record(user)
    return _snapshot_of(r), max(0.0, time.time() - at)


def view(user: SessionUser) -> tuple[Snapshot, float, tuple[list[dict], int]]:
    """get_aged and alarms from one read of the shared record (a wall request reads it once)."""
    r, at = _record(user)
    return _snapshot_of(r), max(0.0, time.time() - at), _alarms_of(user, r, at)


def _snapshot_of(r: dict) -> Snapshot:
    return Snapshot(**{p: r[p] for p in PARTS}, digests=r["digests"])


def prebuild(server) -> threading.Thread:
    """Build the district's snapshot in the background as a serving process starts.

    A value already shared in Redis (up to SERVED_OLD_S old) makes the first wall paint at once; only
    with none at all, as after a new install or a night with Redis emptied, did the first wall wait for
    the queries (2.3 s in the storm run, where the goal is 2 s). A wall of the whole district is the
    common case; a supervisor's area is built on its first request as before.
    """
    user = SessionUser(username="system:wall-prebuild", role="wall")

    def run() -> None:
        try:
            with server.app_context():
                _record(user)
        except Exception:  # noqa: BLE001 - the first wall then builds it, as without this
            logger.warning("wall snapshot not built at start", exc_info=True)

    t = threading.Thread(target=run, daemon=True, name="gridwatch-wall-prebuild")
    t.start()
    return t


def get(user: SessionUser) -> Snapshot:
    """The shared snapshot of the user's area (see get_aged)."""
    return get_aged(user)[0]


def alarms(user: SessionUser) -> tuple[list[dict], int]:
    """The newest unacknowledged alarms of the user's area and their total: the snapshot's, read afresh
    when the snapshot is older than STALE_S (an old strip would sound alarms acknowledged since)."""
    return _alarms_of(user, *_record(user))


def _alarms_of(user: SessionUser, r: dict, at: float) -> tuple[list[dict], int]:
    if time.time() - at <= STALE_S:
        return r["alarms"], r["alarms_total"]
    # One indexed query (migration 0019), a few ms even in a storm; only after a quiet spell.
    with context.pool().connection() as conn:
        return wall_repo.alarms(conn, scope_filter(user), ALARMS_SHOWN)
