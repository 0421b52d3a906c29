"""Garbage on the incident stream against a running ingest worker process, with valid reports between.

Every garbage entry ends in the dead-letter stream with a reason, every valid report is stored once
(sent again, still once), and the worker process is alive at the end. Deterministic: a seeded
generator, so a failure names an entry that can be sent again.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timezone

import psycopg

from geodata.bus import DATA_FIELD, DEAD_STREAM, INCIDENT_STREAM, incident_message, publish_incident
from grid.routing import Source
from tests.system.hostile.conftest import wait_for

GARBAGE, VALID = 240, 60
VALID_FIELDS = {"v": 1, "source": "appeal", "matter": "dispute_neighbour", "lon": 114.32, "lat": 22.66,
                "observed_at": "2026-11-28T10:00:00+08:00"}


def garbage(rng: random.Random) -> dict[bytes, bytes]:
    """One stream entry's fields that no consumer may accept, of a kind picked at random."""
    base = {**VALID_FIELDS, "event_id": str(uuid.UUID(int=rng.getrandbits(128)))}
    kind = rng.randrange(12)
    if kind == 0:
        data = rng.randbytes(rng.randrange(0, 300))
    elif kind == 1:
        data = json.dumps(base).encode()[: rng.randrange(1, 60)]  # cut short
    elif kind == 2:
        data = json.dumps(rng.choice([None, 1, "x", [], [base], True])).encode()
    elif kind == 3:
        data = json.dumps({**base, "lon": rng.choice(["114", None, [], "nan", "inf"])}).encode()
    elif kind == 4:
        data = json.dumps({**base, "matter": rng.choice(["", "UNKNOWN", "dispute\x00", "x" * 500])}).encode()
    elif kind == 5:
        data = json.dumps({**base, "description": "a\x00b" if rng.random() < 0.5 else "x" * 5000}).encode()
    elif kind == 6:
        data = json.dumps({**base, "v": rng.choice([0, 2, 99, "one", None])}).encode()
    elif kind == 7:
        data = json.dumps({**base, "event_id": rng.choice(["", "not-a-uuid", "1' OR '1'='1", 7])}).encode()
    elif kind == 8:
        data = json.dumps({**base, "source": rng.choice(["", "nobody", "CAMERA", None])}).encode()
    elif kind == 9:
        depth = rng.randrange(200, 5000)  # deeper than a recursive parser may go
        data = (json.dumps(base)[:-1] + ', "attributes": {"deep": ' + "[" * depth + "1" + "]" * depth + "}}").encode()
    elif kind == 10:
        data = json.dumps({**base, "lat": rng.choice([91, -91, 1e308, "22,66"])}).encode()
    else:
        # No data field at all, or the data under another name.
        return {b"payload": json.dumps(base).encode(), b"x": rng.randbytes(8)}
    return {DATA_FIELD.encode(): data}


def test_garbage_is_dead_lettered_and_valid_reports_stored_once(dash_db, rds, ingest):
    rng = random.Random(20261205)
    dead_before = rds.xlen(DEAD_STREAM)
    valid_ids, garbage_ids, sent = [], [], []
    for i in range(GARBAGE + VALID):
        if i % 5 == 4:
            msg = incident_message(v=1, event_id=uuid.uuid4(), source=Source.APPEAL, matter="dispute_neighbour",
                                   lon=114.30 + rng.random() * 0.05, lat=22.65 + rng.random() * 0.05,
                                   observed_at=datetime.now(timezone.utc), description=f"valid {i}")
            publish_incident(rds, msg)
            valid_ids.append(str(msg.event_id))
            sent.append(msg)
        else:
            garbage_ids.append(rds.xadd(INCIDENT_STREAM, garbage(rng)))
    assert len(valid_ids) == VALID and len(garbage_ids) == GARBAGE

    def stored() -> int:
        with psycopg.connect(dash_db[0]) as conn:
            return conn.execute("SELECT count(*) FROM incident_report WHERE event_id::text = ANY(%s)",
                                (valid_ids,)).fetchone()[0]

    def all_dead() -> bool:
        return rds.xlen(DEAD_STREAM) - dead_before >= GARBAGE

    assert wait_for(lambda: stored() == VALID and all_dead(), 90), (stored(), rds.xlen(DEAD_STREAM) - dead_before)
    dead = {e[1][b"entry"]: e[1][b"reason"].decode() for e in rds.xrange(DEAD_STREAM)}
    assert set(garbage_ids) <= set(dead), "a garbage entry was not dead-lettered"
    assert all(dead[g].strip() for g in garbage_ids), "a dead letter without a reason"
    assert rds.xlen(DEAD_STREAM) - dead_before == GARBAGE, "a valid report was dead-lettered"
    # Sent again (a producer's retry): still stored once each.
    with psycopg.connect(dash_db[0]) as conn:
        created = conn.execute("SELECT count(*) FROM incident WHERE id::text = ANY(%s)", (valid_ids,)).fetchone()[0]
    for msg in sent[:10]:
        publish_incident(rds, msg)
    assert wait_for(lambda: rds.xpending(INCIDENT_STREAM, "ingest")["pending"] == 0 and not rds.xinfo_groups(
        INCIDENT_STREAM)[0]["lag"], 30)
    assert stored() == VALID
    assert ingest.alive(), f"the ingest worker died: see {ingest.log}"
    reasons = sorted({r.split(":")[0][:40] for r in (dead[g] for g in garbage_ids)})
    print(f"bus fuzz: {GARBAGE} garbage entries dead-lettered with {len(reasons)} kinds of reason, "
          f"{VALID} valid reports stored once ({created} of them new cases), 10 replays stored 0 times")
