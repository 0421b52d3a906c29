"""Hostile grid files through the `gridwatch grid import` command, run as a user runs it.

The rules themselves are tested one by one in tests/geodata/test_grid_import.py (in-process); here the
installed command gets whole bad files (and a huge one) and must exit 2 naming the reason, with every
grid table as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.dashboard.conftest import ROOT
from tests.geodata.conftest import C2, base_tiles, box, frame
from tests.geodata.test_grid_import import BOWTIE, replace_feature


def c2_tiles():
    return base_tiles(C2, 114.30, 22.67)


def huge_rows():
    """20,000 tiny base grids, all claiming one code: big enough to be slow, wrong enough to be refused."""
    return [(C2 + "001", f"t{i}", C2, box(114.30 + (i % 200) * 4e-5, 22.67 + (i // 200) * 4e-5,
                                           114.30 + (i % 200) * 4e-5 + 3e-5, 22.67 + (i // 200) * 4e-5 + 3e-5))
            for i in range(20_000)]


def many_bad():
    """Four good tiles turned into four kinds of bad one: each must be named, none written."""
    rows = replace_feature(c2_tiles(), 0, geom=box(114.32, 22.68, 114.33, 22.69))  # outside its community
    rows = replace_feature(rows, 1, geom=BOWTIE)  # self-intersecting
    rows = replace_feature(rows, 2, geom=box(114.305, 22.68, 114.315, 22.69))  # overlapping a neighbour
    rows = replace_feature(rows, 3, code=C2 + "001")  # a code twice
    return frame(rows)


# A command start costs seconds on a busy machine: few files, each with several faults.
CASES = [
    pytest.param(many_bad, "base_grid", ["outside its community", "Self-intersection", "overlaps", "more than once"],
                 id="invalid-overlapping-outside-duplicate"),
    pytest.param(lambda: frame(c2_tiles(), crs="EPSG:3857"), "base_grid", ["wrong CRS"], id="wrong-crs"),
    pytest.param(lambda: frame(huge_rows()), "base_grid", ["more than once"], id="huge-20000"),
]


@pytest.mark.parametrize("make, level, reasons", CASES)
def test_a_hostile_file_is_refused_whole_with_a_named_reason(shared_io_grid, make, level, reasons):
    before = shared_io_grid.snapshot()
    path = shared_io_grid.write(make(), "hostile.geojson")
    env = {**os.environ, "GRIDWATCH_DATABASE_URL": shared_io_grid.url, "GRIDWATCH_REDIS_URL": "redis://unused"}
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "workers.cli", "grid", "import", str(path), "--level", level],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, (done.returncode, done.stderr[-800:])
    for reason in reasons:
        assert reason in done.stderr, (reason, done.stderr[-800:])
    assert "import refused: nothing was written" in done.stderr
    assert shared_io_grid.snapshot() == before
    print(f"import {path.name}: refused in {time.monotonic() - t0:.1f} s, "
          f"{len(done.stderr.splitlines()) - 1} reasons named")
