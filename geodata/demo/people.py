"""Grid workers (网格员) with plausible names and obviously fake phone numbers, and their sub-grids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from geodata.demo.layout import Layout

TOTAL_WORKERS = 300

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许邓冯韩曾彭"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红文斌辉鹏海燕晓东丹雪梅琳"


@dataclass
class GridWorkers:
    """Workers as parallel lists, and assignment rows."""

    codes: list[str]
    names: list[str]
    phones: list[str]
    comm: np.ndarray                # community index per worker
    on_duty: np.ndarray
    primary_of_sub: np.ndarray      # worker index per sub-grid
    backup_of_sub: np.ndarray
    # (sub index, worker index, role, valid_from, valid_to or None, reason)
    assignments: list[tuple[int, int, str, datetime, datetime | None, str]]


def _name(rng: np.random.Generator) -> str:
    given = "".join(rng.choice(list(_GIVEN), size=int(rng.choice([1, 2], p=[0.3, 0.7]))))
    return str(rng.choice(list(_SURNAMES))) + given


def _per_community(layout: Layout) -> np.ndarray:
    n_comm = len(layout.communities)
    subs = np.bincount(layout.sub_comm, minlength=n_comm)
    # Every sub-grid needs a primary and some backups; the rest follow the amount of ground.
    floor = subs + np.ceil(subs / 2).astype(int)
    spare = TOTAL_WORKERS - floor.sum()
    area = np.bincount(layout.base_comm, weights=layout.base_area, minlength=n_comm)
    share = spare * area / area.sum()
    extra = np.floor(share).astype(int)
    left = spare - extra.sum()
    extra[np.argsort(-(share - extra), kind="stable")[:left]] += 1
    return floor + extra


def make_grid_workers(layout: Layout, now: datetime, rng: np.random.Generator) -> GridWorkers:
    """About 300 workers, one primary per sub-grid, backups from the same community."""
    per_comm = _per_community(layout)
    codes, names, phones, comm = [], [], [], []
    n_sub = len(layout.sub_codes)
    primary = np.zeros(n_sub, dtype=int)
    backup = np.zeros(n_sub, dtype=int)
    rows = []
    for k, count in enumerate(per_comm):
        first = len(codes)
        for _ in range(count):
            n = len(codes) + 1
            codes.append(f"GW{n:04d}")
            names.append(_name(rng))
            phones.append(f"138-0000-{n:04d}")
            comm.append(k)
        subs = np.flatnonzero(layout.sub_comm == k)
        pool = list(range(first + len(subs), first + count))
        for j, s in enumerate(subs):
            primary[s] = first + j
            backup[s] = pool[j % len(pool)]
        since = now - timedelta(days=int(rng.integers(60, 200)))
        for s in subs:
            rows.append((int(s), int(primary[s]), "primary", since, None, "demo: initial assignment"))
            rows.append((int(s), int(backup[s]), "backup", since, None, "demo: initial assignment"))
        # Pool members with no current duty were primaries earlier: that is the assignment history.
        handed = {int(s): since for s in subs}
        for j, w in enumerate(pool[len(subs):]):
            s = int(subs[j % len(subs)])
            start = handed[s] - timedelta(days=int(rng.integers(90, 400)))
            rows.append((s, w, "primary", start, handed[s], "demo: handed over"))
            handed[s] = start
    on_duty = rng.random(len(codes)) > 0.1
    return GridWorkers(codes, names, phones, np.array(comm), on_duty, primary, backup, rows)
