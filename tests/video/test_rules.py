"""Rules and situations as pure logic: (inputs over time, expected hits)."""

import pytest

from video.config import parse_config
from video.rules import Person, RuleEngine, StillObject
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
    ("crowd of 3 after 2 s", lambda t: ([Person(i, IN, 0.8) for i in range(3)], []),
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
