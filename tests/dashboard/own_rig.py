"""A dashboard of its own for tests that add hundreds of cases or stack tasks on one spot: a database cloned
from the migrated template and seeded with the test grid, a server on it, and cases made by the real
ingest step (the only creator of incidents). The session's shared server is left as other tests expect it."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from psycopg import sql

from geodata import db
from geodata.bus import stream
from geodata.bus.messages import IncidentMessage, Source, incident_message
from tests.dashboard import griddata
from tests.dashboard.conftest import Server
from workers.ingest import Ingestor


@contextlib.contextmanager
def own_dashboard(admin_url: str, template_db: str, redis_url: str, media: Path,
                  prefix: str) -> Iterator[tuple[str, dict, Server]]:
    """(database URL, seeded ids, started server); everything is dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template_db)))
    info = psycopg.conninfo.conninfo_to_dict(admin_url)
    info["dbname"] = name
    url = psycopg.conninfo.make_conninfo(**info)
    srv = None
    try:
        ids = griddata.seed(url)
        srv = Server(url, redis_url, media).start()
        yield url, ids, srv
    finally:
        if srv is not None:
            srv.stop()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def message(matter: str, lon: float, lat: float, *, source: Source = Source.GRID_WORKER, description: str = "",
            media: tuple[str, ...] = (), not_duplicate_of: list[str] | None = None) -> IncidentMessage:
    """One report as a producer would publish it (a grid worker's unless `source` says otherwise)."""
    return incident_message(v=1, event_id=uuid.uuid4(), source=source, matter=matter, lon=lon, lat=lat,
                            observed_at=datetime.now(timezone.utc), description=description,
                            reporter="W003" if source is Source.GRID_WORKER else None, media=list(media),
                            attributes={"not_duplicate_of": not_duplicate_of} if not_duplicate_of else {})


def ingest(db_url: str, messages: list[IncidentMessage]):
    """Run the ingest worker's own batch step on these messages (real Ingestor, real PostGIS)."""
    entries = [stream.Entry(f"0-{i + 1}".encode(), {b"data": m.model_dump_json().encode()})
               for i, m in enumerate(messages)]
    with db.connect(db_url, autocommit=True) as conn:
        outcome, rejected = Ingestor(conn).process(entries)
    assert rejected == []
    return outcome
