"""The database's own grid rules (triggers and keys), independent of the importer's checks."""

from __future__ import annotations

import psycopg
import pytest
import shapely

from geodata import db
from grid import rules

from .conftest import C1, C2, box, frame

SUB_C1 = C1 + "00"
INSERT_BASE = ("INSERT INTO base_grid (code, community_code, sub_grid_code, name, geom) "
               "VALUES (%s, %s, %s, 'x', ST_Multi(ST_GeomFromText(%s, 4326)))")
M = 1e-5  # about a metre


def commit_fails(url: str, *statements) -> psycopg.Error | None:
    """Run statements in one transaction; return the error that stopped it, if any."""
    with db.connect(url) as conn:
        try:
            with conn.transaction():
                for stmt, params in statements:
                    conn.execute(stmt, params)
        except psycopg.Error as exc:
            return exc
    return None


@pytest.mark.parametrize(
    "code, community, sub_grid, geom, constraint",
    [
        # Five metres west of community C1.
        (C1 + "005", C1, SUB_C1, box(114.30 - 5 * M, 22.65, 114.30 + M, 22.66), "base_grid_inside_community"),
        # Half a metre out is within the 1 m tolerance.
        (C1 + "005", C1, SUB_C1, box(114.30 - 0.5 * M, 22.651, 114.30, 22.652), None),
        # Overlaps base grid 001 by 50 m x 1.1 km.
        (C1 + "005", C1, SUB_C1, box(114.3095, 22.65, 114.3105, 22.66), "base_grid_no_overlap"),
        # Points at a sub-grid of another community: the composite foreign key cannot match.
        (C2 + "001", C2, SUB_C1, box(114.30, 22.67, 114.31, 22.68), "base_grid_sub_grid_code_community_code_fkey"),
    ],
    ids=["outside", "within-tolerance", "overlap", "other-communitys-sub-grid"],
)
def test_base_grid_rules(io_grid, code, community, sub_grid, geom, constraint):
    before = io_grid.snapshot()
    error = commit_fails(io_grid.url, (INSERT_BASE, (code, community, sub_grid, geom.wkt)))
    if constraint is None:
        assert error is None
        assert len(io_grid.snapshot()["base_grid"]) == len(before["base_grid"]) + 1
    else:
        assert error is not None and error.diag.constraint_name == constraint
        assert io_grid.snapshot() == before


def test_hand_written_sub_grid_geometry_is_replaced_by_the_union(io_grid):
    with db.connect(io_grid.url) as conn:
        conn.execute("UPDATE sub_grid SET geom = ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326)) WHERE code = %s",
                     (SUB_C1,))
        conn.execute("INSERT INTO sub_grid (code, community_code, name, geom) VALUES "
                     "(%s, %s, 'hand-drawn', ST_Multi(ST_MakeEnvelope(0, 0, 1, 1, 4326)))", (C1 + "01", C1))
        conn.execute("UPDATE base_grid SET sub_grid_code = %s WHERE code = %s", (C1 + "01", C1 + "004"))
        conn.commit()
        rows = {r["code"]: shapely.from_wkb(bytes(r["wkb"])) for r in conn.execute(
            "SELECT code, ST_AsBinary(geom) AS wkb FROM sub_grid ORDER BY code")}
    # The union is snapped to a 1e-9 degree grid: compare shapes, not bits.
    l_shape = box(114.30, 22.65, 114.32, 22.67).difference(box(114.31, 22.66, 114.32, 22.67))
    assert shapely.hausdorff_distance(rows[SUB_C1], l_shape) < 1e-8
    assert shapely.hausdorff_distance(rows[C1 + "01"], box(114.31, 22.66, 114.32, 22.67)) < 1e-8
    assert rows[SUB_C1].area == pytest.approx(3e-4) and rows[C1 + "01"].area == pytest.approx(1e-4)


@pytest.mark.parametrize(
    "statements",
    [
        # Move every base grid out of C1 00 into a new sub-grid.
        [("INSERT INTO sub_grid (code, community_code, name) VALUES (%s, %s, 'new')", (C1 + "01", C1)),
         ("UPDATE base_grid SET sub_grid_code = %s", (C1 + "01",))],
        # Delete every base grid of C1 00.
        [("DELETE FROM base_grid WHERE sub_grid_code = %s", (SUB_C1,))],
        # A sub-grid created with no base grid at all.
        [("INSERT INTO sub_grid (code, community_code, name) VALUES (%s, %s, 'empty')", (C2 + "01", C2))],
    ],
    ids=["moved-out", "deleted", "created-empty"],
)
def test_an_empty_sub_grid_is_refused_at_commit(io_grid, statements):
    before = io_grid.snapshot()
    error = commit_fails(io_grid.url, *statements)
    assert error is not None and error.diag.constraint_name == "sub_grid_not_empty"
    assert io_grid.snapshot() == before


def test_emptied_sub_grid_may_go_in_the_same_transaction(io_grid):
    error = commit_fails(
        io_grid.url,
        ("INSERT INTO sub_grid (code, community_code, name) VALUES (%s, %s, 'new')", (C1 + "01", C1)),
        ("UPDATE base_grid SET sub_grid_code = %s", (C1 + "01",)),
        ("DELETE FROM sub_grid WHERE code = %s", (SUB_C1,)),
    )
    assert error is None
    assert [r["code"] for r in io_grid.snapshot()["sub_grid"]] == [C1 + "01"]


def test_database_refusal_rolls_back_the_whole_import(io_grid, run_grid_cli, monkeypatch):
    # Blind the importer's own inside-parent check: the schema's trigger must still stop the file.
    monkeypatch.setattr(rules, "check_inside_parent", lambda *args, **kwargs: [])
    before = io_grid.snapshot()
    rows = [(C2 + "001", "好", C2, box(114.30, 22.67, 114.31, 22.68)),
            (C2 + "002", "越界", C2, box(114.32, 22.67, 114.33, 22.68))]
    status, _, err = run_grid_cli(io_grid.url, "import", io_grid.write(frame(rows), "c2.geojson"),
                             "--level", "base_grid")
    assert status == 2
    assert err.splitlines()[0] == (f"import: the database refused the import: base grid {C2}002 is not inside "
                                   f"its community {C2}")
    assert io_grid.snapshot() == before
