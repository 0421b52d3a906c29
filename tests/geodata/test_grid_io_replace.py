"""gridwatch grid import --replace: the file is the whole truth for its scope, and removes what it leaves out.

Removal never rewrites history (closed incidents and ended assignments keep their codes) and never
strands live work (open incidents, children, grid workers): then the whole file is refused.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from geodata import db

from .conftest import C1, C2, DISTRICT, STREET_E, STREET_W, base_tiles, box, frame

C1_TILES = base_tiles(C1, 114.30, 22.65)  # 001 SW, 002 SE, 003 NW, 004 NE
WEST, EAST = [C1_TILES[0], C1_TILES[2]], [C1_TILES[1], C1_TILES[3]]
INCIDENT = ("INSERT INTO incident (id, matter_code, source, status, priority, geom, observed_at, base_grid_code, "
            "sub_grid_code, community_code, street_code) VALUES (%(id)s, 'M01', 'grid_worker', %(status)s, 2, "
            "ST_SetSRID(ST_Point(114.315, 22.665), 4326), now(), %(base)s, %(sub)s, %(community)s, %(street)s)")


def add_incident(url: str, status: str, base=None, sub=None, community=C1, street=STREET_W) -> uuid.UUID:
    """One incident filed under the given codes (a matter is created on first use)."""
    incident_id = uuid.uuid4()
    with db.connect(url) as conn:
        conn.execute("INSERT INTO matter (code, name, name_en, family, priority, deadline_hours) "
                     "VALUES ('M01', '占道经营', 'street vending', 'hazard', 2, 24) ON CONFLICT DO NOTHING")
        conn.execute(INCIDENT, {"id": incident_id, "status": status, "base": base, "sub": sub,
                                "community": community, "street": street})
        conn.commit()
    return incident_id


def revision(url: str) -> int:
    with db.connect(url) as conn:
        return conn.execute("SELECT rev FROM grid_revision").fetchone()["rev"]


@pytest.fixture
def split_grid(io_grid):
    """C1 split into sub-grids 01 (west: 001, 003) and 02 (east: 002, 004); C2 has its own four base grids."""
    io_grid.fill()
    return io_grid


def test_base_grids_left_out_are_removed_within_the_file_communities_only(split_grid, run_grid_cli):
    rev = revision(split_grid.url)
    path = split_grid.write(frame(C1_TILES[:3]), "c1.geojson")
    status, out, err = run_grid_cli(split_grid.url, "import", path, "--level", "base_grid", "--replace")
    assert status == 0, err
    assert out.strip() == f"base_grid: 0 added, 3 updated, removed: {C1}004"
    codes = [r["code"] for r in split_grid.snapshot()["base_grid"]]
    # C2 is outside the file's scope: its base grids stay although the file does not list them.
    assert codes == [f"{C1}00{k}" for k in (1, 2, 3)] + [f"{C2}00{k}" for k in (1, 2, 3, 4)]
    # The ingest worker reloads its location index when the revision moves.
    assert revision(split_grid.url) > rev


def test_emptied_sub_grid_goes_and_its_assignments_end_but_history_stays(split_grid, run_grid_cli):
    url = split_grid.url
    with db.connect(url) as conn:
        conn.execute("INSERT INTO grid_worker (code, name, community_code) VALUES ('W1', '张伟', %s), "
                     "('W2', '李娜', %s)", (C1, C1))
        conn.execute("INSERT INTO sub_grid_assignment (sub_grid_code, worker_code, role, valid_from, valid_to) "
                     "VALUES (%s, 'W2', 'primary', now() - interval '30 days', now() - interval '10 days'), "
                     "(%s, 'W1', 'primary', now() - interval '10 days', NULL)", (C1 + "02", C1 + "02"))
        conn.commit()
    closed = add_incident(url, "closed", base=C1 + "002", sub=C1 + "02")
    status, out, err = run_grid_cli(url, "import", split_grid.write(frame(WEST), "west.geojson"),
                                    "--level", "base_grid", "--replace")
    assert status == 0, err
    assert out.strip() == (f"base_grid: 0 added, 2 updated, removed: {C1}002, {C1}004, "
                           f"sub-grid(s) removed: {C1}02, 1 worker assignment(s) ended")
    with db.connect(url) as conn:
        subs = [r["code"] for r in conn.execute("SELECT code FROM sub_grid WHERE community_code = %s", (C1,))]
        assignments = conn.execute("SELECT worker_code, valid_to IS NOT NULL AS ended, reason "
                                   "FROM sub_grid_assignment WHERE sub_grid_code = %s ORDER BY worker_code",
                                   (C1 + "02",)).fetchall()
        incident = conn.execute("SELECT base_grid_code, sub_grid_code, community_code FROM incident WHERE id = %s",
                                (closed,)).fetchone()
    assert subs == [C1 + "01"]
    # Both rows stay as history; the current one was ended, not deleted.
    assert [(a["worker_code"], a["ended"]) for a in assignments] == [("W1", True), ("W2", True)]
    assert assignments[0]["reason"] == "sub-grid removed by grid import"
    # The closed incident keeps the codes it was filed under, as text.
    assert dict(incident) == {"base_grid_code": C1 + "002", "sub_grid_code": C1 + "02", "community_code": C1}


def test_empty_community_is_removed_and_closed_incidents_keep_its_code(io_grid, run_grid_cli):
    closed = add_incident(io_grid.url, "cancelled", community=C2)
    rev = revision(io_grid.url)
    path = io_grid.write(frame([(C1, "六和社区", STREET_W, box(114.30, 22.65, 114.32, 22.67))]), "c1.geojson")
    status, out, err = run_grid_cli(io_grid.url, "import", path, "--level", "community", "--replace")
    assert status == 0, err
    assert out.strip() == f"community: 0 added, 1 updated, removed: {C2}"
    assert [r["code"] for r in io_grid.snapshot()["community"]] == [C1]
    assert revision(io_grid.url) > rev
    with db.connect(io_grid.url) as conn:
        row = conn.execute("SELECT community_code, street_code FROM incident WHERE id = %s", (closed,)).fetchone()
    assert (row["community_code"], row["street_code"]) == (C2, STREET_W)


REFUSED = [
    pytest.param(
        "district", frame([("440311", "龙岗区", None, box(114.30, 22.65, 114.34, 22.69))]),
        [f"{DISTRICT}: cannot be removed: 2 street grid(s) still belong to it ({STREET_W}, {STREET_E}); remove them "
         "first (import --level street --replace) or keep it in the file"],
        id="district-with-streets"),
    pytest.param(
        "street", frame([(STREET_E, "坑梓街道", DISTRICT, box(114.32, 22.65, 114.34, 22.69))]),
        [f"{STREET_W}: cannot be removed or emptied: 1 open incident(s) point at it; close or cancel them first; "
         f"cannot be removed: 2 community grid(s) still belong to it ({C1}, {C2}); remove them first "
         "(import --level community --replace) or keep it in the file"],
        id="street-with-communities"),
    pytest.param(
        "community", frame([(C2, "六联社区", STREET_W, box(114.30, 22.67, 114.32, 22.69))]),
        [f"{C1}: cannot be removed or emptied: 1 open incident(s) point at it; close or cancel them first; "
         f"cannot be removed: 4 base_grid grid(s) still belong to it ({C1}001, {C1}002, {C1}003, {C1}004); remove "
         "them first (import --level base_grid --replace) or keep it in the file; cannot be removed: 1 grid "
         "worker(s) belong to this community (W1); move them to another community first or keep it in the file"],
        id="community-with-base-grids-and-workers"),
    pytest.param(
        "base_grid", frame(C1_TILES[:3]),
        [f"{C1}004: cannot be removed or emptied: 1 open incident(s) point at it; close or cancel them first"],
        id="base-grid-with-open-incident"),
]


@pytest.mark.parametrize("level, gdf, lines", REFUSED)
def test_removal_under_live_work_refuses_the_whole_file(io_grid, run_grid_cli, level, gdf, lines):
    with db.connect(io_grid.url) as conn:
        conn.execute("INSERT INTO grid_worker (code, name, community_code) VALUES ('W1', '张伟', %s)", (C1,))
        conn.commit()
    add_incident(io_grid.url, "in_progress", base=C1 + "004", sub=C1 + "00")
    add_incident(io_grid.url, "closed", base=C1 + "001", sub=C1 + "00")  # closed ones never hold a grid
    before = io_grid.snapshot()
    status, _, err = run_grid_cli(io_grid.url, "import", io_grid.write(gdf, f"{level}.geojson"),
                                  "--level", level, "--replace")
    assert status == 2
    assert err.splitlines()[:-1] == lines
    assert err.splitlines()[-1].startswith("import refused: nothing was written")
    assert io_grid.snapshot() == before


def test_without_replace_nothing_is_removed(io_grid, run_grid_cli):
    path = io_grid.write(frame(base_tiles(C2, 114.30, 22.67)), "c2.geojson")
    status, out, err = run_grid_cli(io_grid.url, "import", path, "--level", "base_grid")
    assert status == 0, err and "removed" not in out
    path = io_grid.write(frame(C1_TILES[:1]), "one.geojson")
    status, _, err = run_grid_cli(io_grid.url, "import", path, "--level", "base_grid")
    assert status == 2 and "already in the database (use --replace" in err
    assert len(io_grid.snapshot()["base_grid"]) == 8


def test_the_schema_guards_live_references_and_keeps_history(io_grid):
    """Migration 0012: what the importer checks, the database holds for every other writer too."""
    open_id = add_incident(io_grid.url, "dispatched", base=C1 + "004", sub=C1 + "00")
    with db.connect(io_grid.url) as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="1 open incident"):
            conn.execute("DELETE FROM base_grid WHERE code = %s", (C1 + "004",))
        conn.rollback()
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="points at a grid that is not stored"):
            add_incident(io_grid.url, "closed", community="440310001099")
        conn.execute("UPDATE incident SET status = 'closed' WHERE id = %s", (open_id,))
        conn.execute("DELETE FROM base_grid WHERE code = %s", (C1 + "004",))
        conn.commit()
        # A closed incident filed under a removed grid can still be edited.
        conn.execute("UPDATE incident SET description = 'archived' WHERE id = %s", (open_id,))
        row = conn.execute("SELECT base_grid_code, description FROM incident WHERE id = %s", (open_id,)).fetchone()
    assert (row["base_grid_code"], row["description"]) == (C1 + "004", "archived")


def test_a_sub_grid_with_current_workers_cannot_go(small_grid_url):
    with db.connect(small_grid_url) as conn:
        conn.execute("UPDATE base_grid SET sub_grid_code = '44031000100102' WHERE sub_grid_code = '44031000100101'")
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="2 current worker assignment"):
            conn.execute("DELETE FROM sub_grid WHERE code = '44031000100101'")
