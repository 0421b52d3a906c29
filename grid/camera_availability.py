"""Camera availability over time: seconds per camera by health, pooled into rates per any grouping."""

from __future__ import annotations

import pandas as pd

#: Columns of `availability_rates`, after the group keys.
AVAILABILITY_COLUMNS = ("cameras", "online_rate", "available_rate", "offline_hours", "known_share")
#: The share of time a Sharp Eyes camera must be online: maintenance contracts under the Sharp Eyes
#: (雪亮工程) operation and maintenance rules commonly set 98 %; charts draw it as the target line.
AVAILABILITY_TARGET = 0.98


def availability_rates(cams: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Time-weighted camera availability per group of ``keys`` (AVAILABILITY_COLUMNS).

    ``cams`` holds seconds per camera (and usually per day): ``camera_code``, ``online_s``,
    ``degraded_s``, ``offline_s``, ``unknown_s`` and the group keys.
    ``online_rate`` = online / diagnosed time, ``available_rate`` = (online + degraded) / diagnosed
    time: a degraded camera (frozen, covered, blurred, moved) still sends a picture a person may use,
    but the analytics cannot trust it, so both figures are kept. Diagnosed time leaves out 'unknown'
    (never diagnosed, before the log begins, not yet happened): counting it as down would blame
    cameras for the system's own blind spot. Pooled over camera-time, so a camera diagnosed for six
    hours of a day weighs six hours; ``cameras`` counts those with any diagnosed time,
    ``known_share`` is the diagnosed share of all camera-time.
    """
    frame = cams.assign(known_s=cams["online_s"] + cams["degraded_s"] + cams["offline_s"])
    out = frame.groupby(keys, sort=True)[["online_s", "degraded_s", "offline_s", "unknown_s", "known_s"]].sum()
    seen = frame[frame["known_s"] > 0].groupby(keys, sort=True)["camera_code"].nunique()
    out["cameras"] = seen.reindex(out.index, fill_value=0).astype(int)
    denom = out["known_s"].where(out["known_s"] > 0)
    out["online_rate"] = out["online_s"] / denom
    out["available_rate"] = (out["online_s"] + out["degraded_s"]) / denom
    out["offline_hours"] = out["offline_s"] / 3600.0
    total = (out["known_s"] + out["unknown_s"]).where(lambda v: v > 0)
    out["known_share"] = out["known_s"] / total
    return out.reset_index().loc[:, [*keys, *AVAILABILITY_COLUMNS]]
