"""Fuzzed stream entries through the real ingest path: each is created or dead-lettered with a reason."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata import db
from geodata.bus.stream import Entry
from workers.ingest import Ingestor

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_field = st.sampled_from(["v", "event_id", "source", "matter", "lon", "lat", "camera", "foot", "observed_at",
                          "description", "reporter", "priority", "media", "situation", "attributes"])
_near_valid = st.fixed_dictionaries({
    "v": st.sampled_from([1, 1, 2, "1"]),
    "event_id": st.uuids().map(str) | st.text(max_size=10),
    "source": st.sampled_from(["camera", "grid_worker", "appeal", "open311", "analysis", "nobody"]),
    "matter": st.sampled_from(["DSP-NEIGHBOR", "HAZ-FIRE", "UNKNOWN", ""]),
    "lon": st.floats(min_value=100, max_value=130) | st.floats(),
    "lat": st.floats(min_value=10, max_value=40) | st.floats(),
    "observed_at": st.sampled_from(["2026-11-28T10:00:00+08:00", "2026-11-28T10:00:00", "yesterday"]),
}, optional={"camera": st.sampled_from(["PS-CAM-0001", "NOPE"]), "foot": st.lists(st.floats(), max_size=3),
             "media": st.lists(st.text(max_size=12), max_size=2), "priority": st.integers(-2, 5)})

_entry = (
    st.binary(max_size=200)
    | _near_valid.map(lambda d: json.dumps(d).encode())
    | st.dictionaries(_field, _json_values, max_size=8).map(lambda d: json.dumps(d).encode())
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_entry, min_size=1, max_size=12))
def test_fuzzed_entries_never_crash_and_every_refusal_has_a_reason(small_grid_url, raw_entries):
    with db.connect(small_grid_url, autocommit=True) as conn:
        before = conn.execute("SELECT count(*) AS n FROM incident_report").fetchone()["n"]
        ingestor = Ingestor(conn)
        entries = [Entry(f"{i}-0".encode(), {b"data": raw}) for i, raw in enumerate(raw_entries)]
        # Validation must stop every bad entry before the database sees it.
        outcome, rejected = ingestor.process(entries)
        after = conn.execute("SELECT count(*) AS n FROM incident_report").fetchone()["n"]
    assert all(reason.strip() for _, reason in rejected)
    # Every entry is accounted for: a new report, a replay, or a dead letter with a reason.
    assert after - before + outcome.duplicates + len(rejected) == len(entries)
    assert outcome.created + outcome.merged + outcome.updated == after - before
