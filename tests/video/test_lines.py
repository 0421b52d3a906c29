"""LineCounter (issue 14): directions, hysteresis against jitter, repeated crossings, polylines, classes."""

import json

import pytest

from video.config import Line, Zone
from video.lines import BlobCrossings, Crossing, LineCounter, TrackPoint, count_present, match_crossings
from video.situations import Situation
from video.zones import PolygonZone

VERTICAL = Line(name="gate", points=[[0.5, 0.0], [0.5, 1.0]], in_side=[0.8, 0.5])
# An L: down the middle, then right along y = 0.6; in is the lower-left corner's side.
ELBOW = Line(name="elbow", points=[[0.5, 0.1], [0.5, 0.6], [0.9, 0.6]], in_side=[0.3, 0.8])


def _run(line: Line, xs_ys: list[tuple[float, float]], cls: str = "person", track: int = 1, **kw) -> list[Crossing]:
    # Geometry first: one observation across is enough here; the default (two in a row) is tested below.
    kw.setdefault("confirm", 1)
    counter = LineCounter([line], **kw)
    out = []
    for i, p in enumerate(xs_ys):
        out += counter.update(i * 0.2, [TrackPoint(track, cls, p)])
    return out


def _dirs(crossings: list[Crossing]) -> list[str]:
    return [c.direction for c in crossings]


@pytest.mark.parametrize("path, expected", [
    ([(0.2, 0.5), (0.4, 0.5), (0.6, 0.5), (0.8, 0.5)], ["in"]),       # towards in_side
    ([(0.8, 0.5), (0.6, 0.5), (0.4, 0.5), (0.2, 0.5)], ["out"]),      # away from it
    ([(0.2, 0.2), (0.3, 0.3), (0.45, 0.4)], []),                       # never reaches the line
    ([(0.2, 0.5), (0.8, 0.5), (0.2, 0.5), (0.8, 0.5)], ["in", "out", "in"]),  # each real crossing counts
    ([(0.3, 0.5), (0.6, 0.5), (0.6, 0.5), (0.6, 0.5)], ["in"]),       # standing on the far side: once
], ids=["in", "out", "short", "back-and-forth", "stays"])
def test_directions(path, expected):
    assert _dirs(_run(VERTICAL, path)) == expected


def test_jitter_on_the_line_counts_once():
    # Feet wobbling a few thousandths either side of the line for two seconds, then walking on.
    path = [(0.3, 0.5)] + [(0.5 + (0.008 if i % 2 else -0.008), 0.5) for i in range(10)] + [(0.7, 0.5)]
    got = _run(VERTICAL, path)
    assert _dirs(got) == ["in"]
    assert got[0].t_s == pytest.approx(11 * 0.2)


def test_jitter_after_a_crossing_adds_nothing():
    path = [(0.3, 0.5), (0.7, 0.5)] + [(0.5 + (0.01 if i % 2 else -0.01), 0.5) for i in range(8)] + [(0.7, 0.5)]
    assert _dirs(_run(VERTICAL, path)) == ["in"]


def test_a_larger_margin_holds_larger_jitter_and_a_smaller_one_does_not():
    path = [(0.3, 0.5)] + [(0.5 + (0.03 if i % 2 else -0.03), 0.5) for i in range(6)]
    assert _dirs(_run(VERTICAL, path, margin=0.05)) == []
    assert _dirs(_run(VERTICAL, path, margin=0.01)) == ["in", "out", "in", "out", "in"]


def test_a_new_side_must_hold_for_two_observations_and_the_first_gives_the_time():
    # A coasting box wobbling across the line as its person leaves: out, back, out, out.
    path = [(0.3, 0.5), (0.3, 0.5), (0.55, 0.5), (0.47, 0.5), (0.53, 0.5), (0.6, 0.5), (0.7, 0.5)]
    got = _run(VERTICAL, path, confirm=2)
    assert _dirs(got) == ["in"]
    assert got[0].t_s == pytest.approx(4 * 0.2)
    # One observation across and the track is gone: not enough.
    assert _run(VERTICAL, [(0.3, 0.5), (0.3, 0.5), (0.7, 0.5)], confirm=2) == []
    assert LineCounter([VERTICAL]).confirm == 2


def test_walking_round_the_end_of_a_line_is_no_crossing():
    short = Line(name="stub", points=[[0.5, 0.4], [0.5, 0.6]], in_side=[0.8, 0.5])
    # Left of it, below its end, right of it: the side changed, the line was never cut.
    assert _run(short, [(0.3, 0.5), (0.3, 0.8), (0.7, 0.8), (0.7, 0.5)]) == []
    # Back across it, through it this time.
    assert _dirs(_run(short, [(0.3, 0.8), (0.7, 0.8), (0.7, 0.5), (0.3, 0.5)])) == ["out"]


@pytest.mark.parametrize("path, expected", [
    ([(0.3, 0.3), (0.7, 0.3)], ["out"]),   # across the vertical leg, away from the in side
    ([(0.7, 0.8), (0.7, 0.4)], ["out"]),   # up across the horizontal leg
    ([(0.7, 0.4), (0.7, 0.8)], ["in"]),    # down across it, into the in side
    ([(0.7, 0.3), (0.3, 0.3)], ["in"]),
    ([(0.3, 0.8), (0.6, 0.8), (0.95, 0.8)], []),  # below the line all along: same side
], ids=["leg1-out", "leg2-out", "leg2-in", "leg1-in", "same-side"])
def test_polyline(path, expected):
    assert _dirs(_run(ELBOW, path)) == expected


def test_classes_tracks_and_records():
    people_only = Line(name="door", points=[[0.5, 0.0], [0.5, 1.0]], in_side=[0.2, 0.5], classes=["person"])
    counter = LineCounter([people_only, VERTICAL], confirm=1)
    counter.update(0.0, [TrackPoint(1, "vehicle", (0.3, 0.5)), TrackPoint(2, "person", (0.7, 0.5))])
    got = counter.update(0.4, [TrackPoint(1, "vehicle", (0.7, 0.5)), TrackPoint(2, "person", (0.3, 0.5))])
    # The vehicle crosses only the line that counts vehicles; the person crosses both, one in, one out.
    assert sorted((c.line, c.cls, c.track, c.direction) for c in got) == [
        ("door", "person", 2, "in"), ("gate", "person", 2, "out"), ("gate", "vehicle", 1, "in")]
    line = got[0].as_line()
    assert set(line) == {"rule", "line", "direction", "class", "t_s", "track"}
    assert line["rule"] == "line_crossing" and line["t_s"] == 0.4 and isinstance(line["track"], int)
    json.dumps(line)


def test_same_id_in_two_classes_is_two_tracks():
    counter = LineCounter([VERTICAL], confirm=1)
    counter.update(0.0, [TrackPoint(7, "person", (0.3, 0.5)), TrackPoint(7, "vehicle", (0.7, 0.5))])
    got = counter.update(0.2, [TrackPoint(7, "person", (0.7, 0.5)), TrackPoint(7, "vehicle", (0.3, 0.5))])
    assert sorted((c.cls, c.direction) for c in got) == [("person", "in"), ("vehicle", "out")]


def test_a_track_appearing_on_the_line_is_not_counted_until_it_crosses():
    assert _dirs(_run(VERTICAL, [(0.505, 0.5), (0.7, 0.5), (0.3, 0.5)])) == ["out"]


def _blob_run(path, named_at=None, tracked=(), person=5, **kw):
    """A blob track (id 1) walking `path` (one point per 0.2 s, then gone), named person `person` from
    frame `named_at` on (None: never); `tracked`: person-track crossings, by frame. All frames' outputs."""
    blobs = BlobCrossings([VERTICAL], **kw)
    out = []
    for i in range(len(path) + 20):
        t = round(i * 0.2, 6)
        points = [(1, path[i])] if i < len(path) else []
        named = {1: person} if named_at is not None and named_at <= i < len(path) else {}
        out += [(t, c) for c in blobs.update(t, points, named, [c for j, c in tracked if j == i])]
    return out


def test_a_blob_a_person_box_names_after_the_crossing_counts_at_the_blob_s_time():
    # Walking in from the left edge: across at frame 2 (0.4 s), the detector finds them at frame 4.
    got = _blob_run([(0.1, 0.9), (0.3, 0.9), (0.6, 0.9), (0.7, 0.9), (0.8, 0.9), (0.9, 0.9)], named_at=4)
    assert [(c.line, c.direction, c.cls, c.track) for _, c in got] == [("gate", "in", "person", 5)]
    t_emit, c = got[0]
    assert c.t_s == pytest.approx(0.4)
    # Held until hold_s after the crossing, so that a person track's own crossing is known first.
    assert t_emit == pytest.approx(0.4 + 2.0)


def test_a_blob_named_before_the_crossing_counts_even_once_it_is_gone():
    # Boxed once at the table, never again, walks out across the line and out of the picture.
    got = _blob_run([(0.8, 0.9), (0.7, 0.9), (0.4, 0.9), (0.2, 0.9)], named_at=0)
    assert [(c.direction, c.track, round(c.t_s, 2)) for _, c in got] == [("out", 5, 0.4)]


def test_a_blob_no_person_covered_counts_nothing():
    assert _blob_run([(0.1, 0.9), (0.3, 0.9), (0.6, 0.9), (0.7, 0.9), (0.8, 0.9)]) == []


def test_a_blob_whose_person_track_crossed_too_counts_once_by_the_track():
    path = [(0.1, 0.9), (0.3, 0.9), (0.6, 0.9), (0.7, 0.9), (0.8, 0.9)]
    # The person track crosses 0.8 s after the blob (it lags behind): the same walker.
    track = (6, Crossing("gate", "in", "person", 1.2, 5))
    assert _blob_run(path, named_at=0, tracked=[track]) == []
    # A crossing the other way, or of the same way 2.4 s later, is somebody else's.
    other = (6, Crossing("gate", "out", "person", 1.2, 5))
    later = (14, Crossing("gate", "in", "person", 2.8, 7))
    assert len(_blob_run(path, named_at=0, tracked=[other])) == 1
    assert len(_blob_run(path, named_at=0, tracked=[later])) == 1


def test_blob_crossings_only_on_person_lines():
    cars = Line(name="lane", points=[[0.5, 0.0], [0.5, 1.0]], in_side=[0.8, 0.5], classes=["vehicle"])
    blobs = BlobCrossings([cars])
    assert blobs.counter.lines == []
    assert blobs.update(0.0, [(1, (0.3, 0.5))], {1: 2}, []) == []


def test_no_lines_no_work():
    assert LineCounter([]).update(1.0, [TrackPoint(1, "person", (0.5, 0.5))]) == []


def test_situation_lines_carry_an_integer_track_or_null():
    base = dict(id="x", camera="C", rule="intrusion", zone="gate", phase="end", at_s=2.0, start_s=1.0,
                end_s=2.0, box=(0.1, 0.1, 0.2, 0.2), confidence=0.9)
    assert Situation(**base, track=3).as_line()["track"] == 3
    assert Situation(**{**base, "rule": "covered", "zone": None, "box": None}, track=None).as_line()["track"] is None


@pytest.mark.parametrize("pred, truth, pairs", [
    ([{"line": "a", "direction": "in", "class": "vehicle", "t_s": 5.9}],
     [{"line": "a", "direction": "in", "class": "vehicle", "t_s": 5.0}], [(0, 0)]),
    ([{"line": "a", "direction": "in", "class": "vehicle", "t_s": 6.1}],
     [{"line": "a", "direction": "in", "class": "vehicle", "t_s": 5.0}], []),          # over 1 s late
    ([{"line": "a", "direction": "out", "class": "vehicle", "t_s": 5.0}],
     [{"line": "a", "direction": "in", "class": "vehicle", "t_s": 5.0}], []),          # wrong direction
    ([{"line": "b", "direction": "in", "class": "vehicle", "t_s": 5.0}],
     [{"line": "a", "direction": "in", "class": "vehicle", "t_s": 5.0}], []),          # wrong line
    ([{"line": "a", "direction": "in", "class": "person", "t_s": 5.0}],
     [{"line": "a", "direction": "in", "class": "vehicle", "t_s": 5.0}], []),          # wrong class
    ([{"line": "a", "direction": "in", "class": "vehicle", "t_s": 5.2},
      {"line": "a", "direction": "in", "class": "vehicle", "t_s": 5.3}],
     [{"line": "a", "direction": "in", "class": "vehicle", "t_s": 5.0}], [(0, 0)]),    # one to one
])
def test_match_crossings(pred, truth, pairs):
    assert match_crossings(pred, truth) == pairs


def test_count_present_by_foot_point():
    zones = [PolygonZone.from_config(Zone(name="left", polygon=[[0, 0], [0.5, 0], [0.5, 1], [0, 1]])),
             PolygonZone.from_config(Zone(name="all", polygon=[[0, 0], [1, 0], [1, 1], [0, 1]]))]
    people = [(0.1, 0.2, 0.2, 0.6), (0.6, 0.2, 0.7, 0.6), (0.3, 0.5, 0.4, 1.2)]  # the last one's feet below the edge
    vehicles = [(0.55, 0.5, 0.9, 0.8)]
    assert count_present(zones, people, vehicles) == {
        ("left", "person"): 2, ("all", "person"): 3, ("all", "vehicle"): 1}
    assert count_present(zones, [], []) == {}
