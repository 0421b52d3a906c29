"""Rules and situations as pure logic: (inputs over time, expected hits)."""

import pytest

from video.config import parse_config
from video.rules import Hit, Person, RuleEngine, StillObject
from video.situations import SituationTracker

CFG = parse_config({
    "code": "R1", "url": "a.mp4", "lon": 114.35, "lat": 22.7,
    "zones": [{"name": "z", "polygon": [[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1]],
               "rules": [{"kind": "intrusion"}, {"kind": "loitering", "seconds": 5},
                         {"kind": "crowd", "min_people": 3, "seconds": 2},
                         {"kind": "object_left", "seconds": 4}, {"kind": "vehicle_stopped", "seconds": 6}]}],
})
IN = (0.6, 0.6, 0.7, 0.9)    # foot (0.65, 0.9) inside
OUT = (0.1, 0.1, 0.2, 0.4)   # foot (0.15, 0.4) outside


def _run(timeline):
    eng = RuleEngine(CFG)
    return {t: sorted(h.rule for h in eng.evaluate(t, *timeline(t))) for t in range(0, 12)}


@pytest.mark.parametrize("name, timeline, expected", [
    ("outside is nothing", lambda t: ([Person(1, OUT, 0.9)], []), {t: [] for t in range(12)}),
    ("intrusion at once, loitering after 5 s",
     lambda t: ([Person(1, IN, 0.9)], []), {0: ["intrusion"], 4: ["intrusion"], 5: ["intrusion", "loitering"]}),
    # Three people side by side (three ids on one box would be one person followed three times).
    ("crowd of 3 after 2 s", lambda t: ([Person(i, (0.55 + 0.13 * i, 0.6, 0.65 + 0.13 * i, 0.9), 0.8)
                                         for i in range(3)], []),
     {1: ["intrusion"], 2: ["crowd", "intrusion"]}),
    ("bag after 4 s", lambda t: ([], [StillObject("object", IN, 0.0)]), {3: [], 4: ["object_left"]}),
    ("car after 6 s", lambda t: ([], [StillObject("vehicle", IN, 0.0)]), {5: [], 6: ["vehicle_stopped"]}),
    ("object outside the zone", lambda t: ([], [StillObject("object", OUT, 0.0)]), {11: []}),
])
def test_rule_table(name, timeline, expected):
    got = _run(timeline)
    for t, rules in expected.items():
        assert got[t] == rules, f"{name} at t={t}: {got[t]}"


def test_new_track_restarts_loitering_clock():
    eng = RuleEngine(CFG)
    for t in range(4):
        eng.evaluate(t, [Person(1, IN, 0.9)], [])
    hits = eng.evaluate(10, [Person(2, IN, 0.9)], [])
    assert [h.rule for h in hits] == ["intrusion"]


def test_situation_start_update_end_with_cooldown():
    eng = RuleEngine(CFG)
    st = SituationTracker("R1", cooldown_s=3.0, update_every_s=2.0)
    events = []
    for t in range(20):
        people = [Person(1, IN, 0.9)] if 2 <= t <= 6 or t == 8 else []
        events += st.update(eng.evaluate(float(t), people, []), float(t))
    intr = [e for e in events if e.rule == "intrusion"]
    assert [e.phase for e in intr] == ["start", "update", "update", "update", "end"]
    assert intr[0].start_s == 2 and intr[-1].end_s == 8  # the gap at t=7 is shorter than the cool-down
    assert len({e.id for e in intr}) == 1
    assert intr[-1].as_line()["track"] == 1 and intr[-1].as_line()["zone"] == "z"


def test_loitering_clock_survives_an_id_switch_in_place():
    # The tracker lost someone for a moment and gave them a new id where they stood: same visitor.
    eng = RuleEngine(CFG)
    for t in range(4):
        eng.evaluate(t, [Person(1, IN, 0.9)], [])
    hits = eng.evaluate(5, [Person(7, IN, 0.9)], [])
    assert [h.rule for h in hits] == ["intrusion", "loitering"]
    assert [h.track for h in hits if h.rule == "loitering"] == [7]


def test_crowd_counts_someone_hidden_for_a_moment():
    eng = RuleEngine(CFG)
    three = [Person(i, (0.6 + 0.1 * i, 0.6, 0.65 + 0.1 * i, 0.9), 0.8) for i in range(3)]
    for t in (0.0, 0.5, 1.0, 1.5):
        eng.evaluate(t, three, [])
    # One of the three is occluded for one frame: still a crowd of three.
    hits = eng.evaluate(2.0, three[:2], [])
    assert "crowd" in [h.rule for h in hits]


def test_object_must_settle_before_it_counts():
    # A still blob reported for the first time (someone just walked off) is not yet an object left.
    eng = RuleEngine(CFG)
    bag = StillObject("object", (0.6, 0.8, 0.65, 0.85), since=0.0)
    assert "object_left" not in [h.rule for h in eng.evaluate(10.0, [], [bag])]
    assert "object_left" in [h.rule for h in eng.evaluate(12.0, [], [bag])]


def test_new_visitor_elsewhere_after_a_gap_is_a_new_situation():
    st = SituationTracker("C")
    left, right = (0.1, 0.2, 0.2, 0.9), (0.7, 0.2, 0.8, 0.9)
    events = []
    for t, track, box in [(0.0, 1, right), (1.0, 1, right), (3.5, 2, left), (4.0, 2, left)]:
        events += st.update([Hit("intrusion", "z", box, 0.9, track)], t)
    events += st.finish(5.0)
    spans = [(e.start_s, e.end_s) for e in events if e.phase == "end"]
    assert spans == [(0.0, 1.0), (3.5, 4.0)]
    # The same gap with a new id in the same place is the tracker losing someone: one situation.
    st = SituationTracker("C")
    events = []
    for t, track in [(0.0, 1), (1.0, 1), (3.5, 2), (4.0, 2)]:
        events += st.update([Hit("intrusion", "z", right, 0.9, track)], t)
    events += st.finish(5.0)
    assert [(e.start_s, e.end_s) for e in events if e.phase == "end"] == [(0.0, 4.0)]


def test_a_part_box_under_a_new_id_after_a_gap_is_the_same_visit():
    # Issue 11: HOG boxed a woman at a table whole, then only her head and shoulders under a new id.
    st = SituationTracker("C")
    whole, torso = (0.53, 0.05, 0.75, 1.0), (0.59, 0.0, 0.69, 0.45)
    events = []
    for t, track, box in [(0.0, 1, whole), (1.0, 1, whole), (3.5, 2, torso), (4.0, 2, torso), (4.5, 1, whole)]:
        events += st.update([Hit("intrusion", "z", box, 0.9, track)], t)
    events += st.finish(6.0)
    assert [(e.phase, e.start_s) for e in events] == [("start", 0.0), ("end", 0.0)]
