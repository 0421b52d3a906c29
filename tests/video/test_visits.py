"""Visits to one zone and rule close together are one situation on the bus (VisitJoiner), pure logic."""

from video.rules import Hit
from video.situations import SituationTracker, VisitJoiner

BOX_A = (0.70, 0.5, 0.78, 0.95)
BOX_B = (0.85, 0.5, 0.93, 0.95)


def _published(visits, join_s=60.0, until=200.0):
    """Run a gate's intrusion visits (list of (start, stop, track, box, confidence)) through the
    SituationTracker and the joiner, one frame each 0.2 s: the events a camera worker would publish."""
    tracker, joiner = SituationTracker("C1"), VisitJoiner(join_s)
    out, raw = [], []
    for i in range(int(until / 0.2)):
        t = round(i * 0.2, 1)
        hits = [Hit("intrusion", "gate", box, conf, track) for a, b, track, box, conf in visits if a <= t < b]
        events = tracker.update(hits, t)
        raw += events
        out += [e for e in map(joiner.feed, events) if e is not None]
        out += joiner.due(t)
    return raw, out


def test_walkers_one_after_another_are_one_situation_with_one_start_and_one_end():
    # Two walkers through the gate, 12 s apart: two visits for the offline analysis, one on the bus.
    raw, out = _published([(5.0, 9.0, 1, BOX_A, 0.7), (21.0, 25.0, 2, BOX_B, 0.9)])
    assert [e.phase for e in raw if e.phase != "update"] == ["start", "end", "start", "end"]
    assert [e.phase for e in out] == ["start", "update", "end"]
    assert len({e.id for e in out}) == 1 and out[0].id == raw[0].id
    update, end = out[1], out[2]
    # The second walker's start arrives when it happens, as an update carrying that walker's box.
    assert update.at_s == 21.0 and update.box == BOX_B and update.track == 2 and update.start_s == 5.0
    # One end, a join window after the last visit ended, spanning both visits, with the higher confidence.
    assert end.start_s == 5.0 and abs(end.end_s - 24.8) < 1e-6 and end.confidence == 0.9
    assert abs(end.at_s - (24.8 + 3.0)) < 1e-6  # the tracker's own cool-down; the joiner only held it


def test_the_held_end_goes_out_when_the_join_window_passes():
    _, out = _published([(5.0, 9.0, 1, BOX_A, 0.7)], join_s=30.0, until=60.0)
    ended = [e for e in out if e.phase == "end"]
    assert len(ended) == 1 and abs(ended[0].end_s - 8.8) < 1e-6


def test_visits_further_apart_than_the_window_stay_separate_situations():
    _, out = _published([(5.0, 9.0, 1, BOX_A, 0.7), (90.0, 94.0, 2, BOX_B, 0.9)])
    assert [e.phase for e in out] == ["start", "end", "start", "end"]
    assert out[0].id == out[1].id != out[2].id == out[3].id


def test_a_third_visit_continues_the_same_situation_and_updates_keep_its_id():
    # Long enough for the tracker's own 10 s updates during the second visit.
    raw, out = _published([(5.0, 9.0, 1, BOX_A, 0.7), (20.0, 45.0, 2, BOX_B, 0.8), (60.0, 62.0, 3, BOX_A, 0.75)])
    assert sum(e.phase == "start" for e in raw) == 3 and any(e.phase == "update" for e in raw)
    assert [e.phase for e in out].count("start") == 1 and [e.phase for e in out].count("end") == 1
    assert {e.id for e in out} == {out[0].id} and out[-1].end_s > 61.0


def test_other_zones_rules_and_health_are_not_joined():
    joiner = VisitJoiner(60.0)
    tracker = SituationTracker("C1")
    out = []
    timeline = {0.0: [Hit("intrusion", "gate", BOX_A, 0.8, 1)], 5.0: [], 10.0: [Hit("intrusion", "yard", BOX_A, 0.8, 2)],
                15.0: [Hit("covered", None, None, 1.0, None)], 20.0: []}
    for t, hits in timeline.items():
        out += [e for e in map(joiner.feed, tracker.update(hits, t)) if e is not None]
    # The yard's visit is its own situation, both zones' ends are held, and health passes at once.
    assert [(e.zone, e.phase) for e in out] == [("gate", "start"), ("yard", "start"), (None, "start"), (None, "end")]
    assert out[0].id != out[1].id
    held = joiner.flush()
    assert [(e.zone, e.phase) for e in held] == [("gate", "end"), ("yard", "end")] and joiner.flush() == []
