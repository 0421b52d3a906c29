"""A reporting period: whole CST days, half-open, refused when empty."""

from __future__ import annotations

import pandas as pd
import pytest

from grid.period import Period


def test_a_period_is_whole_cst_days_end_excluded():
    p = Period.from_days("2026-11-16", "2026-11-22")
    assert p.start == pd.Timestamp("2026-11-15T16:00:00Z")
    assert p.end == pd.Timestamp("2026-11-22T16:00:00Z")
    assert p.label() == "2026-11-16 – 2026-11-22"
    assert Period.from_days("2026-11-16", "2026-11-16").label() == "2026-11-16 – 2026-11-16"


def test_a_reversed_period_is_refused():
    with pytest.raises(ValueError, match="empty period"):
        Period.from_days("2026-11-22", "2026-11-16")
