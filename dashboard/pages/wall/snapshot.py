"""What every wall of one area shows, read once per short period and shared by all its walls.

In a storm each wall asks for a resync about once a second (assets/gridwatch-live.js); without sharing,
every wall and every resync would run the same queries over tens of thousands of open cases. A snapshot
holds rows only (no language, no markup): each request renders them in its own language. Each part
carries a digest, so a wall is sent only the parts that changed since it last got them (the browser
then redraws nothing for an unchanged part: 300 cluster markers rebuilt every second cost more than
the queries).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dashboard import context, data
from dashboard.access import SessionUser, scope_filter
from dashboard.pages.wall import layers
from geodata import wall_repo

SNAPSHOT_TTL_S = 1.0  # one set of queries per area and second at most, however many walls watch
ALARMS_TTL_S = 1.0    # the strip is polled every few seconds by each wall; an acknowledgement shows within ~1 s more
ALARMS_SHOWN = 20     # the strip shows what fits of these two lines, and "+N" for the rest
PARTS = ("kpis", "latest", "ranking", "counts", "clusters", "cameras", "workers")


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
        "cameras": data.cameras(conn),
        "workers": data.grid_worker_positions(conn, user),
    }
    return Snapshot(**parts, digests={p: digest(v) for p, v in parts.items()})


def get(user: SessionUser) -> Snapshot:
    """The shared snapshot of the user's area, at most SNAPSHOT_TTL_S old."""
    tz = context.cfg().timezone

    def make():
        with context.pool().connection() as conn:
            return read(conn, user, tz)
    # Keyed by the area, never the user: two walls of one area see the same rows, and no wall
    # ever gets rows of an area it may not see.
    return context.cache().get(("wall_snapshot", *_scope_key(user), tz), make, ttl_s=SNAPSHOT_TTL_S)


def alarms(user: SessionUser) -> tuple[list[dict], int]:
    """The newest unacknowledged alarms of the user's area and their total, at most ALARMS_TTL_S old."""
    def make():
        with context.pool().connection() as conn:
            return wall_repo.alarms(conn, scope_filter(user), ALARMS_SHOWN)
    return context.cache().get(("wall_alarms", *_scope_key(user)), make, ttl_s=ALARMS_TTL_S)
