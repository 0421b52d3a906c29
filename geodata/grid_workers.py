"""Grid workers' duty status and last position."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

from geodata.queries import q


def set_duty_position(conn: psycopg.Connection, worker: str, *, on_duty: bool | None = None,
                      lon: float | None = None, lat: float | None = None) -> dict | None:
    """Record a worker's duty and/or position (commits); None keeps what is stored. Returns the new state."""
    with conn.transaction():
        return conn.cursor(row_factory=dict_row).execute(
            q("worker_duty_position"), {"worker": worker, "on_duty": on_duty, "lon": lon, "lat": lat}).fetchone()
