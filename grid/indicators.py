"""Work indicators per worker, sub-grid, community or street, and the red/black ranking (红黑榜).

Input: one row per incident, columns

- ``created_at``, ``dispatched_at``, ``accepted_at``, ``resolved_at``, ``closed_at``: timezone-aware
  timestamps, NaT where the step has not happened;
- ``on_time``: True when closed within its deadline, False when closed late, NA while open;
- ``due_at`` (optional): the deadline; with ``as_of`` an open case past it counts as late;
- ``returned``: how many times the case was sent back; ``escalated``: whether it ever climbed a level;
- the grouping codes: ``worker_code``, ``sub_grid_code``, ``community_code``, ``street_code``.

The deadline clock starts at dispatch (GB/T 30428), so time to accept and to resolve are measured
from dispatch; time to dispatch from creation. Durations are in minutes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Indicator levels and the incident column that names the group.
LEVEL_KEYS = {"worker": "worker_code", "sub_grid": "sub_grid_code", "community": "community_code",
              "street": "street_code"}
COLUMNS = (
    "incidents",
    "closed",
    "due",
    "on_time",
    "on_time_rate",
    "mean_dispatch_min",
    "mean_accept_min",
    "mean_resolve_min",
    "returned",
    "escalated",
)


def _minutes(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (pd.to_datetime(later) - pd.to_datetime(earlier)).dt.total_seconds() / 60.0


def incident_measures(incidents: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """Per-incident measures the indicators sum: closed, due, on_time, durations, returned, escalated."""
    df = incidents
    closed = df["closed_at"].notna()
    on_time = df["on_time"].astype("boolean")
    late_open = pd.Series(False, index=df.index)
    if as_of is not None and "due_at" in df:
        late_open = ~closed & df["due_at"].notna() & (pd.to_datetime(df["due_at"]) < pd.Timestamp(as_of))
    # A case counts towards the rate once it is closed or its deadline has passed.
    due = (closed & on_time.notna()) | late_open
    return pd.DataFrame(
        {
            "closed": closed.astype(int),
            "due": due.astype(int),
            "on_time": (closed & on_time.fillna(False)).astype(int),
            "dispatch_min": _minutes(df["dispatched_at"], df["created_at"]),
            "accept_min": _minutes(df["accepted_at"], df["dispatched_at"]),
            "resolve_min": _minutes(df["resolved_at"], df["dispatched_at"]),
            "returned": pd.to_numeric(df["returned"]).fillna(0).astype(int),
            "escalated": df["escalated"].astype("boolean").fillna(False).astype(int),
        },
        index=df.index,
    )


def indicators(incidents: pd.DataFrame, by, *, start=None, end=None, as_of=None) -> pd.DataFrame:
    """Indicators per group ``by`` (a column or list) for incidents created in [start, end).

    Columns: the ``by`` columns, then incidents, closed, due, on_time, on_time_rate (on_time / due,
    NaN when nothing is due), mean_dispatch_min, mean_accept_min, mean_resolve_min, returned,
    escalated. ``as_of`` (default ``end``) decides which open cases are already late.
    """
    keys = [by] if isinstance(by, str) else list(by)
    df = incidents
    created = pd.to_datetime(df["created_at"])
    mask = pd.Series(True, index=df.index)
    if start is not None:
        mask &= created >= pd.Timestamp(start)
    if end is not None:
        mask &= created < pd.Timestamp(end)
    df = df.loc[mask]
    m = incident_measures(df, as_of=as_of if as_of is not None else end)
    for k in keys:
        m[k] = df[k].to_numpy()
    g = m.groupby(keys, sort=True, dropna=True)
    out = g.agg(
        incidents=("closed", "size"),
        closed=("closed", "sum"),
        due=("due", "sum"),
        on_time=("on_time", "sum"),
        mean_dispatch_min=("dispatch_min", "mean"),
        mean_accept_min=("accept_min", "mean"),
        mean_resolve_min=("resolve_min", "mean"),
        returned=("returned", "sum"),
        escalated=("escalated", "sum"),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["on_time_rate"] = np.where(out["due"] > 0, out["on_time"] / out["due"], np.nan)
    return out.reset_index()[keys + list(COLUMNS)]


def red_black_ranking(
    table: pd.DataFrame, key: str, *, n: int = 5, min_due: int = 10, within: str | None = None
) -> pd.DataFrame:
    """Best ("red") and worst ("black") ``n`` groups by on-time closure rate, per ``within`` group.

    Only groups with at least ``min_due`` cases due take part. Ties on the rate go to the group
    with more cases due (more evidence), then the faster mean time to resolve, then the code. No
    group is on both lists: with fewer than 2n eligible groups each list takes half, rounded down.
    Returns the ``within`` column (if any), ``key``, list, rank, on_time_rate, due, incidents.
    """
    cols = ([within] if within else []) + [key, "list", "rank", "on_time_rate", "due", "incidents"]
    eligible = table[(table["due"] >= min_due) & table["on_time_rate"].notna()]
    parts = [eligible] if within is None else [grp for _, grp in eligible.groupby(within, sort=True)]
    rows = []
    for part in parts:
        k = min(n, len(part) // 2)
        if k == 0:
            continue
        resolve = part["mean_resolve_min"].fillna(np.inf)
        best = part.assign(_r=-part["on_time_rate"], _d=-part["due"], _t=resolve)
        best = best.sort_values(["_r", "_d", "_t", key], kind="stable").head(k)
        worst = part.assign(_r=part["on_time_rate"], _d=-part["due"], _t=-resolve)
        worst = worst.sort_values(["_r", "_d", "_t", key], kind="stable").head(k)
        rows.append(best.assign(list="red", rank=np.arange(1, k + 1)))
        rows.append(worst.assign(list="black", rank=np.arange(1, k + 1)))
    if not rows:
        return pd.DataFrame(columns=cols)
    return pd.concat(rows, ignore_index=True)[cols]
