"""Camera counts in PostGIS (issue 14): one row per camera, 5-minute bucket, zone or line, class and direction.

The camera worker is the only writer: `write_bucket` stores one `LiveCameraCounts` (the same typed
object it then publishes on `gridwatch:live`) in one transaction. `series` reads a camera's counts for
its chart on /cameras. Queries in geodata/queries/camera_counts.sql; the table is migration 0017.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from geodata.bus.messages import LineCount, LiveCameraCounts, ZoneCount
from geodata.queries import q

logger = logging.getLogger(__name__)

BUCKET_S = 300
"""Length of a count bucket: 5 minutes, aligned on the epoch (so on the hour in every time zone)."""
# A day of 5-minute buckets for 16 lines x 2 classes x 2 directions and as many zone series is far
# below this; it only keeps one odd camera from making a page read unbounded.
MAX_SERIES_ROWS = 50_000


@dataclass(frozen=True)
class CountRow:
    """One stored count: `direction` is 'in' or 'out' for a line, None for a zone's peak."""

    bucket_start: datetime
    kind: str
    name: str
    cls: str
    direction: str | None
    count: int


def bucket_of(epoch_s: float, bucket_s: int = BUCKET_S) -> float:
    """The start (epoch seconds) of the bucket that holds `epoch_s`."""
    return epoch_s - (epoch_s % bucket_s)


def _rows_of(counts: LiveCameraCounts) -> list[tuple[str, str, str, str | None, int]]:
    rows: list[tuple[str, str, str, str | None, int]] = []
    for z in counts.zones:
        rows.append(("zone", z.name, z.cls, None, z.peak))
    for ln in counts.lines:
        rows.append(("line", ln.name, ln.cls, "in", ln.in_))
        rows.append(("line", ln.name, ln.cls, "out", ln.out))
    return rows


def write_bucket(conn: psycopg.Connection, counts: LiveCameraCounts) -> int:
    """Upsert one camera's bucket in one transaction (commits); return how many rows it holds."""
    rows = _rows_of(counts)
    if not rows:
        return 0
    kinds, names, classes, directions, values = (list(col) for col in zip(*rows))
    with conn.transaction():
        conn.execute(q("camera_count_upsert"), {
            "camera": counts.camera, "bucket_start": counts.bucket_start, "kinds": kinds, "names": names,
            "classes": classes, "directions": directions, "counts": values})
    if not conn.autocommit:
        # Inside a transaction the caller left open the block above was only a savepoint.
        conn.commit()
    return len(rows)


def stored_bucket(conn: psycopg.Connection, camera: str, bucket_start: datetime) -> tuple[list[ZoneCount], list[LineCount]]:
    """What is stored of one bucket, as the message's zone and line lists (empty when nothing is)."""
    cur = conn.cursor(row_factory=dict_row)
    found = cur.execute(q("camera_count_bucket"), {"camera": camera, "bucket_start": bucket_start}).fetchall()
    zones = [ZoneCount(name=r["name"], cls=r["class"], peak=r["count"]) for r in found if r["kind"] == "zone"]
    lines: dict[tuple[str, str], dict[str, int]] = {}
    for r in found:
        if r["kind"] == "line":
            lines.setdefault((r["name"], r["class"]), {"in": 0, "out": 0})[r["direction"]] = r["count"]
    return zones, [LineCount(name=n, cls=c, in_=d["in"], out=d["out"]) for (n, c), d in sorted(lines.items())]


def series(conn: psycopg.Connection, camera: str, since: datetime, until: datetime,
           limit: int = MAX_SERIES_ROWS) -> list[CountRow]:
    """A camera's stored counts with since <= bucket_start < until, oldest first."""
    cur = conn.cursor(row_factory=dict_row)
    found = cur.execute(q("camera_count_series"), {"camera": camera, "since": since, "until": until,
                                                  "limit": limit}).fetchall()
    if len(found) >= limit:
        logger.warning("camera %s: counts series cut at %s rows", camera, limit, extra={"camera": camera})
    return [CountRow(r["bucket_start"], r["kind"], r["name"], r["class"], r["direction"], r["count"]) for r in found]
