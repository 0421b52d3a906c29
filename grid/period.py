"""A reporting period: whole China Standard Time days, as the half-open interval the indicators count."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from grid.trends import CST


@dataclass(frozen=True)
class Period:
    """[start, end) in CST, from whole days."""

    start: pd.Timestamp
    end: pd.Timestamp

    @classmethod
    def from_days(cls, first_day: str, last_day: str) -> Period:
        """The CST days first_day..last_day inclusive (YYYY-MM-DD)."""
        start = pd.Timestamp(first_day).tz_localize(CST)
        end = pd.Timestamp(last_day).tz_localize(CST) + pd.Timedelta(days=1)
        if end <= start:
            raise ValueError(f"empty period: {first_day} .. {last_day}")
        return cls(start, end)

    def label(self) -> str:
        """The period as 'YYYY-MM-DD – YYYY-MM-DD' (inclusive, CST)."""
        last = self.end - pd.Timedelta(days=1)
        return f"{self.start.date().isoformat()} – {last.date().isoformat()}"
