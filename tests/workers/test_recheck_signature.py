"""A forged `recheck` on the bus reopens nothing (issue 12): ingest believes only a camera worker's signature.

Real PostGIS (the key of migration 0018) and real Redis (the incident stream, the dead letters), the
ingest worker as it runs.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest
import redis as redis_lib

from geodata import db, rechecks
from geodata.bus.messages import RecheckMessage
from geodata.transitions import apply_transition
from grid.lifecycle import Role
from tests.workers.test_camera_recheck import dead, recheck, resolved_case, rows
from tests.workers.test_ingest import push, run_worker


@pytest.fixture
def client(redis_url):
    c = redis_lib.Redis.from_url(redis_url)
    yield c
    c.close()


@pytest.fixture
def key(small_grid_url) -> bytes:
    with db.connect(small_grid_url) as conn:
        return rechecks.signing_key(conn)


def test_the_key_is_made_by_the_migration_and_not_guessable(small_grid_url, key):
    assert len(key) == 32 and len(set(key)) > 8  # 32 random bytes, not a constant


def test_forged_rechecks_are_dead_lettered_and_change_nothing(small_grid_url, redis_url, client, key):
    case, resolution = resolved_case(small_grid_url, redis_url, client)
    other, other_resolution = resolved_case(small_grid_url, redis_url, client)
    before = [rows(small_grid_url, c) for c in (case, other)]
    # A genuine signed message about `other` (sent, say, by a camera worker and read off the stream)...
    genuine = recheck(key, other, "gone", resolution=other_resolution)
    # ...whose signature a forger copies onto a `present` for `case` (the same camera, rule and zone).
    replayed = {**recheck(None, case, "present", resolution=resolution), "sig": genuine["sig"]}
    unsigned = recheck(None, case, "present", resolution=resolution)
    wrong_key = recheck(os.urandom(32), case, "present", resolution=resolution)
    # The genuine message itself, altered after signing: `gone` turned into `present`.
    altered = {**genuine, "result": "present", "event_id": str(uuid.uuid4())}
    bad_shape = {**recheck(None, case, "present", resolution=resolution), "sig": "not-hex"}
    forged = [unsigned, wrong_key, replayed, altered, bad_shape]
    push(client, *forged)
    run_worker(small_grid_url, redis_url)
    reasons = {d["event_id"]: r for d, r in dead(client)}
    assert len(reasons) == len(forged), reasons
    said = [reasons[m["event_id"]] for m in forged]
    assert said[0].startswith("sig: a recheck must be signed by a camera worker"), said[0]
    for reason in said[1:4]:
        assert reason.startswith("sig: signature does not match this message"), reason
    assert said[4].startswith("sig: String should match pattern"), said[4]
    # Nothing written: both cases still resolved, with the same history, and still owed a look.
    assert [rows(small_grid_url, c) for c in (case, other)] == before
    assert all(s == "resolved" for s, _ in before)
    with db.connect(small_grid_url) as conn:
        assert {str(d.incident_id) for d in rechecks.due(conn)} == {case, other}


def test_a_genuine_recheck_is_applied_once_even_replayed(small_grid_url, redis_url, client, key):
    case, resolution = resolved_case(small_grid_url, redis_url, client)
    # Without `resolution` (it is optional on the wire): only its event_id can stop a replay later.
    genuine = recheck(key, case, "present")
    assert RecheckMessage.model_validate_json(json.dumps(genuine)).sig == genuine["sig"]
    push(client, genuine, genuine)
    run_worker(small_grid_url, redis_url)
    status, events = rows(small_grid_url, case)
    assert status == "in_progress" and [e["action"] for e in events].count("reopen") == 1
    assert events[-1]["actor"] == "system:camera" and events[-1]["data"]["event_id"] == genuine["event_id"]
    assert dead(client) == []
    assert events[-1]["data"]["recheck_of"] == resolution
    # Resolved again, the same signed message replayed: its signature still holds, but it was applied.
    with db.connect(small_grid_url, autocommit=True) as conn:
        apply_transition(conn, case, "resolve", "admin1", Role.ADMIN, note="gone now")
    after = rows(small_grid_url, case)
    push(client, genuine)
    run_worker(small_grid_url, redis_url)
    assert rows(small_grid_url, case) == after and dead(client) == []
