"""The database half of a grid import: check a cleaned file against what is stored, then write it.

`plan()` only reads; `write()` runs the statements. Both run inside the importer's one transaction,
so the schema's own triggers (checked at commit) can still roll everything back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import psycopg
import shapely
from psycopg import sql

from geodata.queries import q
from grid import rules
from grid.rules import Violation, violation

if TYPE_CHECKING:
    from geodata.grid_io import Features

TABLE_PARENT_COLUMN = {
    "district": None,
    "street": "district_code",
    "community": "street_code",
    "sub_grid": "community_code",
    "base_grid": "community_code",
}
CHILD_LEVEL = {"district": "street", "street": "community", "community": "base_grid"}
# Grids that may not overlap under one parent. Sub-grid files are drawn roughly on purpose: their
# polygons only pick whole base grids by centroid.
NO_OVERLAP_LEVELS = ("street", "community", "base_grid")
DEFAULT_SUB_GRID_SUFFIX = "00"  # "00": the community is not subdivided (yet)


def query(name: str, level: str | None = None, **extra) -> sql.Composed | str:
    """A named query with {table} and {parent} filled in for a level (as identifiers)."""
    if not level:
        return q(name)
    parent = TABLE_PARENT_COLUMN[level]
    idents = {"table": sql.Identifier(level),
              "parent": sql.Identifier(parent) if parent else sql.SQL("NULL::text"), **extra}
    return sql.SQL(q(name)).format(**idents)


@dataclass
class Plan:
    """What the import will do, or why it may not."""

    violations: list[Violation] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # sub-grids left without base grids
    moves: dict[str, str] = field(default_factory=dict)  # base grid -> new sub-grid (sub-grid files)
    new_sub_grids: list[tuple[str, str, str]] = field(default_factory=list)  # (code, community, name)
    sub_grid_of: list[str | None] = field(default_factory=list)  # per feature (base-grid files)


def _geoms(conn, level: str, codes) -> dict:
    rows = conn.execute(query("grid_io_geoms_by_code", level), {"codes": list(codes)}).fetchall()
    return {r["code"]: shapely.from_wkb(bytes(r["wkb"])) for r in rows}


def _reindex(found: list[Violation], sel: list[int], codes: list) -> list[Violation]:
    """Map the indexes of a check run on a subset back to the file's feature indexes."""
    out = []
    for v in found:
        i = v.params.get("index")
        if isinstance(i, int):
            v = violation(v.code, **{**v.params, "index": sel[i], "value": codes[sel[i]]})
        out.append(v)
    return out


def plan(conn: psycopg.Connection, level: str, feats: Features, *, replace: bool) -> Plan:
    """Check the file against the stored grids; return the plan with every violation found."""
    p = Plan()
    codes, parents, geoms = feats.codes, feats.parents, feats.geoms
    sel = [int(i) for i in np.flatnonzero(feats.ok) if parents[i] or level == "district"]
    file_codes = sorted({c for c in codes if c})
    existing = {r["code"] for r in conn.execute(query("grid_io_existing", level), {"codes": file_codes})}
    for c in dict.fromkeys(c for c in codes if c):
        (p.updated if c in existing else p.added).append(c)
    if not replace:
        p.violations += [violation("code_exists", index=i, value=c) for i, c in enumerate(codes) if c in existing]

    parent_level = rules.PARENT_LEVEL.get(level)
    parent_codes = sorted({parents[i] for i in sel}) if parent_level else []
    sel_codes = [codes[i] for i in sel]
    sel_parents = [parents[i] for i in sel]
    sel_geoms = [geoms[i] for i in sel]
    if parent_level:
        parent_geoms = _geoms(conn, parent_level, parent_codes)
        found = rules.check_inside_parent(level, sel_codes, sel_parents, sel_geoms, parent_geoms, indexes=range(len(sel)))
        if level == "sub_grid":
            # A sub-grid polygon is only a selector of base grids; only its community must exist.
            found = [v for v in found if v.code == "parent_missing"]
        p.violations += _reindex(found, sel, codes)
        # Features whose parent is unknown cannot be judged any further.
        keep = [k for k in range(len(sel)) if sel_parents[k] in parent_geoms]
        sel = [sel[k] for k in keep]
        sel_codes, sel_parents, sel_geoms = ([x[k] for k in keep] for x in (sel_codes, sel_parents, sel_geoms))

    if level in NO_OVERLAP_LEVELS and sel:
        rows = conn.execute(query("grid_io_siblings", level), {"parents": parent_codes, "codes": file_codes}).fetchall()
        found = rules.check_overlaps(
            sel_codes, sel_parents, sel_geoms,
            other_codes=[r["code"] for r in rows], other_parents=[r["parent"] for r in rows],
            other_geoms=[shapely.from_wkb(bytes(r["wkb"])) for r in rows],
        )
        p.violations += _reindex(found, sel, codes)

    if level in CHILD_LEVEL and replace:
        updated = [k for k in range(len(sel)) if sel_codes[k] in existing]
        rows = conn.execute(query("grid_io_children", CHILD_LEVEL[level]),
                            {"codes": [sel_codes[k] for k in updated]}).fetchall()
        if rows:
            found = rules.check_children_inside(
                level, [sel_codes[k] for k in updated], [sel_geoms[k] for k in updated], CHILD_LEVEL[level],
                [r["code"] for r in rows], [r["parent"] for r in rows],
                [shapely.from_wkb(bytes(r["wkb"])) for r in rows],
            )
            p.violations += _reindex(found, [sel[k] for k in updated], codes)

    if level == "base_grid":
        _plan_base_grids(conn, feats, sel, p, replace)
    elif level == "sub_grid":
        _plan_sub_grids(conn, feats, sel, p, replace)
    return p


def _check_removals(conn, emptied: list[str], p: Plan, replace: bool) -> None:
    """Sub-grids left without base grids are removed: only with --replace, never under open work."""
    if not emptied:
        return
    if not replace:
        p.violations += [violation("sub_grid_empty", value=c) for c in emptied]
        return
    counts = conn.execute(query("grid_io_open_incident_counts", "sub_grid", column=sql.Identifier("sub_grid_code")),
                          {"codes": emptied}).fetchall()
    p.violations += [violation("open_incidents", value=r["code"], level="sub-grid", count=r["n"]) for r in counts]
    assigned = conn.execute(q("grid_io_assigned_sub_grids"), {"codes": emptied}).fetchall()
    p.violations += [violation("has_assignments", value=r["code"]) for r in assigned]
    p.removed = list(emptied)


def _emptied(stored_subs: dict[str, str], membership: dict[str, str], keep: set[str]) -> list[str]:
    """Stored sub-grids no base grid will belong to after the import."""
    used = Counter(membership.values())
    return sorted(c for c in stored_subs if not used[c] and c not in keep)


def _plan_base_grids(conn, feats: Features, sel: list[int], p: Plan, replace: bool) -> None:
    """Each base grid keeps its sub-grid, takes the file's, or goes to its community's "00" sub-grid."""
    communities = sorted({feats.parents[i] for i in sel})
    stored_subs = {r["code"]: r["community_code"]
                   for r in conn.execute(q("grid_io_sub_grids_of"), {"communities": communities})}
    membership = {r["code"]: r["sub_grid_code"]
                  for r in conn.execute(q("grid_io_base_grid_membership"), {"communities": communities})}
    names = {r["code"]: r["name"]
             for r in conn.execute(query("grid_io_names_by_code", "community"), {"codes": communities})}
    p.sub_grid_of = [None] * len(feats.codes)
    new_subs: dict[str, str] = {}
    for i in sel:
        code, community = feats.codes[i], feats.parents[i]
        given = feats.sub_grids[i] if feats.sub_grids else None
        default = community + DEFAULT_SUB_GRID_SUFFIX
        sub = given or (membership.get(code) if membership.get(code, "")[:12] == community else None) or default
        if sub[:12] != community:
            p.violations.append(violation("crosses_community", index=i, value=code, community=community,
                                          other=sub, other_community=sub[:12]))
            continue
        if sub not in stored_subs and sub != default:
            p.violations.append(violation("parent_missing", index=i, value=code, parent=sub, parent_level="sub-grid"))
            continue
        if sub not in stored_subs:
            new_subs[sub] = community
        p.sub_grid_of[i] = sub
        membership[code] = sub
    p.new_sub_grids = [(c, comm, names.get(comm, c)) for c, comm in sorted(new_subs.items())]
    _check_removals(conn, _emptied(stored_subs, membership, set()), p, replace)


def _plan_sub_grids(conn, feats: Features, sel: list[int], p: Plan, replace: bool) -> None:
    """Each stored base grid goes to the file's sub-grid polygon holding its centroid."""
    if not sel:
        return
    communities = sorted({feats.parents[i] for i in sel})
    xmin, ymin, xmax, ymax = shapely.total_bounds(np.asarray([feats.geoms[i] for i in sel], dtype=object))
    rows = conn.execute(q("grid_io_base_grids_near"), {"communities": communities, "xmin": xmin, "ymin": ymin,
                                                     "xmax": xmax, "ymax": ymax}).fetchall()
    found = rules.assign_base_grids(
        [r["code"] for r in rows], [r["community_code"] for r in rows],
        [shapely.from_wkb(bytes(r["wkb"])) for r in rows],
        [feats.codes[i] for i in sel], [feats.parents[i] for i in sel], [feats.geoms[i] for i in sel],
        required_communities=set(communities),
    )
    p.violations += _reindex(found.violations, sel, feats.codes)
    stored = {r["code"]: r["sub_grid_code"] for r in rows}
    p.moves = {b: s for b, s in found.sub_grid_of.items() if stored[b] != s}
    membership = {b: s for b, s in stored.items() if b not in found.sub_grid_of} | found.sub_grid_of
    stored_subs = {r["code"]: r["community_code"]
                   for r in conn.execute(q("grid_io_sub_grids_of"), {"communities": communities})}
    # Sub-grids of other communities may lose base grids only through a crossing, already refused.
    _check_removals(conn, _emptied(stored_subs, membership, set(feats.codes)), p, replace)


def write(conn: psycopg.Connection, level: str, feats: Features, p: Plan) -> None:
    """Run the import's statements (one per kind of change) inside the caller's transaction."""
    idx = [i for i, c in enumerate(feats.codes) if c]
    codes = [feats.codes[i] for i in idx]
    names = [feats.names[i] for i in idx]
    parents = [feats.parents[i] for i in idx]
    wkbs = [shapely.to_wkb(feats.geoms[i]) for i in idx]
    if level == "district":
        conn.execute(q("grid_io_district_upsert"), {"codes": codes, "names": names, "wkbs": wkbs})
    elif level in ("street", "community"):
        conn.execute(query("grid_io_upsert", level), {"codes": codes, "parents": parents, "names": names, "wkbs": wkbs})
    elif level == "base_grid":
        if p.new_sub_grids:
            new = list(zip(*p.new_sub_grids))
            conn.execute(q("grid_io_sub_grid_upsert"), {"codes": list(new[0]), "parents": list(new[1]),
                                                      "names": list(new[2])})
        conn.execute(q("grid_io_base_grid_upsert"), {"codes": codes, "parents": parents, "names": names, "wkbs": wkbs,
                                                  "sub_grids": [p.sub_grid_of[i] for i in idx]})
    else:
        conn.execute(q("grid_io_sub_grid_upsert"), {"codes": codes, "parents": parents, "names": names})
        if p.moves:
            conn.execute(q("grid_io_base_grid_set_sub_grids"),
                         {"codes": list(p.moves), "sub_grids": list(p.moves.values())})
    if p.removed:
        conn.execute(q("grid_io_sub_grid_delete"), {"codes": p.removed})
