"""Who holds a case, as the console's worker column says it: a name, or the queue it waits in."""

from __future__ import annotations

import pytest

from dashboard.pages.console.desk import holder, snapshot_of


@pytest.mark.parametrize("row, lang, expected", [
    ({"worker": "网格员1", "worker_code": "W001", "queue": "worker"}, "zh", "网格员1"),
    ({"worker": None, "worker_code": "W009", "queue": "worker"}, "zh", "W009"),
    ({"worker": None, "worker_code": None, "queue": "verification", "level": "grid"}, "zh", "待核实（核实队列）"),
    ({"worker": None, "worker_code": None, "queue": "community", "level": "grid"}, "zh", "待派遣（社区队列）"),
    ({"worker": None, "worker_code": None, "queue": "district", "level": "street"}, "zh", "待派遣（区队列）"),
    ({"worker": None, "worker_code": None, "queue": "community"}, "en", "to dispatch (community queue)"),
    ({"worker": None, "worker_code": None, "queue": None, "level": "grid"}, "zh", "—"),  # closed or cancelled
])
def test_holder_names_the_worker_or_the_queue_never_the_level(row, lang, expected):
    assert holder(row, lang) == expected


def test_thumbnail_is_the_first_stored_snapshot():
    assert snapshot_of(["https://x.example/a.jpg", "camera/C/1/s.webm", "camera/C/1/s.jpg"]) == "camera/C/1/s.jpg"
    assert snapshot_of(["camera/C/1/s.webm"]) is None and snapshot_of(None) is None
