"""CountBuckets: zone peaks and line crossings summed per 5-minute bucket, closed by the next bucket's first frame."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from geodata.bus.messages import LineCount, ZoneCount
from video.config import parse_config
from video.lines import Crossing
from workers.count_buckets import CountBuckets

CONFIG = parse_config({"code": "PS-CAM-0001", "url": "x.mp4", "lon": 114.3, "lat": 22.7,
                       "zones": [{"name": "plaza", "polygon": [[0, 0], [1, 0], [1, 1]]}],
                       "lines": [{"name": "gate", "points": [[0.5, 0], [0.5, 1]], "in_side": [0.8, 0.5],
                                  "classes": ["person"]}]})
T0 = 1_777_600_800.0  # 2026-05-01T02:00:00Z, on a bucket boundary


def _x(direction, cls="person", line="gate"):
    return Crossing(line, direction, cls, 0.0, 1)


@pytest.mark.parametrize("frames, peaks, crossings", [
    # (seconds into the bucket, present, crossings) per frame -> zone peaks, (line, class) -> [in, out]
    ([(0, {("plaza", "person"): 2}, []), (1, {("plaza", "person"): 5}, []), (2, {("plaza", "person"): 1}, [])],
     {("plaza", "person"): 5}, {("gate", "person"): (0, 0)}),
    ([(0, {}, [_x("in")]), (3, {}, [_x("in"), _x("out")]), (299, {}, [_x("in")])],
     {}, {("gate", "person"): (3, 1)}),
    # A class the line does not list still counts if video reports it (video decides what it saw).
    ([(0, {("plaza", "vehicle"): 1}, [_x("out", "vehicle")])],
     {("plaza", "vehicle"): 1}, {("gate", "person"): (0, 0), ("gate", "vehicle"): (0, 1)}),
    # Nonsense from a newer video side is dropped, not stored.
    ([(0, {("plaza", "bicycle"): 3}, [_x("sideways"), _x("in", "bicycle")])], {}, {("gate", "person"): (0, 0)}),
])
def test_a_bucket_holds_the_peaks_and_the_crossings_of_its_frames(frames, peaks, crossings):
    b = CountBuckets(CONFIG, partial_every_s=1e9)
    for dt, present, xs in frames:
        assert b.feed(T0 + dt, present, xs) == []
    (closed,) = b.feed(T0 + 300, {}, [])  # the next bucket's first frame closes this one
    assert closed.closed and closed.bucket_s == 300 and closed.camera == "PS-CAM-0001"
    assert closed.bucket_start == datetime(2026, 5, 1, 2, 0, tzinfo=timezone.utc)
    assert {(z.name, z.cls): z.peak for z in closed.zones} == peaks
    assert {(ln.name, ln.cls): (ln.in_, ln.out) for ln in closed.lines} == crossings


def test_partial_counts_come_at_most_every_30_s_and_hold_the_bucket_so_far():
    b = CountBuckets(CONFIG, partial_every_s=30.0)
    got = []
    for k in range(0, 100, 5):  # a frame every 5 s, one crossing each
        got += b.feed(T0 + k, {("plaza", "person"): k // 10}, [_x("in")])
    assert [m.closed for m in got] == [False, False, False]  # at 30, 60 and 90 s
    assert [m.at.timestamp() - T0 for m in got] == [30, 60, 90]
    assert [m.lines[0].in_ for m in got] == [7, 13, 19]  # cumulative, not increments
    assert got[-1].zones == [ZoneCount(name="plaza", cls="person", peak=9)]


def test_stop_closes_the_open_bucket_and_a_gap_skips_empty_buckets():
    b = CountBuckets(CONFIG, partial_every_s=1e9)
    b.feed(T0 + 10, {}, [_x("in")])
    # A camera silent for 20 minutes: its first frame closes the old bucket, none are invented between.
    (closed,) = b.feed(T0 + 1210, {}, [_x("out")])
    assert closed.bucket_start.timestamp() == T0 and closed.lines[0] == LineCount(name="gate", cls="person", in_=1, out=0)
    last = b.close(T0 + 1220)
    assert last.closed and last.bucket_start.timestamp() == T0 + 1200
    assert last.lines[0] == LineCount(name="gate", cls="person", in_=0, out=1)
    assert b.close(T0 + 1230) is None  # nothing open any more


def test_a_restarted_camera_counts_on_from_the_stored_bucket():
    b = CountBuckets(CONFIG, partial_every_s=1e9)
    b.seed(datetime.fromtimestamp(T0, timezone.utc), [ZoneCount(name="plaza", cls="person", peak=4)],
           [LineCount(name="gate", cls="person", in_=10, out=3)])
    b.feed(T0 + 200, {("plaza", "person"): 2}, [_x("in")])
    last = b.close(T0 + 201)
    assert last.zones == [ZoneCount(name="plaza", cls="person", peak=4)]
    assert last.lines == [LineCount(name="gate", cls="person", in_=11, out=3)]


def test_a_camera_with_zones_but_nothing_seen_says_nothing():
    cfg = parse_config({"code": "C", "url": "x.mp4", "lon": 114.3, "lat": 22.7,
                        "zones": [{"name": "plaza", "polygon": [[0, 0], [1, 0], [1, 1]]}]})
    b = CountBuckets(cfg, partial_every_s=0.0)
    assert b.feed(T0, {}, []) == []
    assert b.close(T0 + 1) is None
