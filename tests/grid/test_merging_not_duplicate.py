"""grid.merging with a reporter's "not the same as these": the listed cases never match, the others do."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from grid import merging

T0 = datetime(2025, 5, 1, 9, 30, tzinfo=timezone.utc)
NEAR = merging.Candidate("11111111-1111-4111-8111-111111111111", "HZ01", "dispatched", 114.30000, 22.70000, T0)
NEXT = merging.Candidate("22222222-2222-4222-8222-222222222222", "HZ01", "accepted", 114.30020, 22.70000, T0)
FAR = merging.Candidate("33333333-3333-4333-8333-333333333333", "HZ01", "dispatched", 114.30200, 22.70000, T0)
CLOSED = merging.Candidate("44444444-4444-4444-8444-444444444444", "HZ01", "closed", 114.30001, 22.70000, T0)
OTHER = merging.Candidate("55555555-5555-4555-8555-555555555555", "DS01", "dispatched", 114.30001, 22.70000, T0)
ALL = [FAR, NEXT, NEAR, CLOSED, OTHER]


def report(*excluded: str, minutes: float = 5) -> merging.Report:
    return merging.Report("HZ01", 114.30005, 22.70000, T0 + timedelta(minutes=minutes),
                          merging.not_duplicate_ids(list(excluded)))


@pytest.mark.parametrize("excluded, target", [
    ((), NEAR),
    ((NEAR.incident_id,), NEXT),
    ((NEAR.incident_id.upper(),), NEXT),  # ids compare as UUIDs, whatever their case
    ((NEAR.incident_id, NEXT.incident_id), None),
    ((FAR.incident_id,), NEAR),  # naming a case out of range changes nothing
])
def test_merge_target_skips_only_the_listed_cases(excluded, target):
    assert merging.merge_target(report(*excluded), ALL) == target


def test_duplicates_lists_what_the_reporter_is_shown_nearest_first():
    assert merging.duplicates(report(), ALL) == [NEAR, NEXT]
    assert merging.duplicates(report(NEAR.incident_id), ALL) == [NEXT]
    assert merging.duplicates(report(minutes=45), ALL) == []  # outside the 30 min window: ingest would not merge


@pytest.mark.parametrize("value, ids", [
    (None, frozenset()), ("x", frozenset()), ([], frozenset()),
    (["AA-B", 3, "c"], frozenset({"aa-b", "c"})),
])
def test_not_duplicate_ids_reads_only_strings(value, ids):
    assert merging.not_duplicate_ids(value) == ids
