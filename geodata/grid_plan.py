"""The database half of a grid import: check a cleaned file against what is stored, then write it.

`plan()` only reads; `write()` runs the statements. Both run inside the importer's one transaction,
so the schema's own triggers (checked at commit) can still roll everything back.

With --replace a file is the whole truth for its *scope*: the parents its features name (the
communities of a base-grid or sub-grid file, the streets of a community file, the districts of a
street file) or, for a district file, the whole table. Stored grids of that level and scope that the
file leaves out are removed, unless something live still needs them (open incidents, children,
grid workers): then the import is refused. A grid outside the scope is never touched.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import psycopg
import pyproj
import shapely
from psycopg import sql

from geodata.queries import q
from grid import gcj02, rules
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
INCIDENT_COLUMN = {"street": "street_code", "community": "community_code", "sub_grid": "sub_grid_code",
                   "base_grid": "base_grid_code"}
LABEL = {"district": "district", "street": "street", "community": "community", "sub_grid": "sub-grid",
         "base_grid": "base grid"}
# GCJ-02 moves Shenzhen about 300-600 m; a file that far from the stored grids, and back in place once
# un-shifted, was GCJ-02 read as WGS84.
GCJ02_MIN_OFFSET_M = 150.0
END_ASSIGNMENT_REASON = "sub-grid removed by grid import"


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
    removed: list[str] = field(default_factory=list)  # grids of the level (sub-grid files: emptied ones)
    removed_sub_grids: list[str] = field(default_factory=list)  # base-grid files: sub-grids left empty
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


def scope_of(level: str, feats: Features) -> list[str] | None:
    """The parents whose children a --replace file stands for in full; None: every stored district."""
    if level == "district":
        return None
    return sorted({feats.parents[i] for i, c in enumerate(feats.codes) if c and feats.parents[i]})


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
    # Sub-grids are removed when the file empties them (below), not by their absence alone.
    if replace and level != "sub_grid":
        scope = scope_of(level, feats)
        p.removed = [r["code"] for r in conn.execute(
            query("grid_io_in_scope_missing", level),
            {"everything": scope is None, "parents": scope or [], "codes": file_codes})]
        _check_removed(conn, level, p)

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
        if level != "sub_grid" and any(v.code == "outside_parent" for v in found):
            p.violations += _gcj02_suspected(feats, sel, parent_geoms=parent_geoms)
        # Features whose parent is unknown cannot be judged any further.
        keep = [k for k in range(len(sel)) if sel_parents[k] in parent_geoms]
        sel = [sel[k] for k in keep]
        sel_codes, sel_parents, sel_geoms = ([x[k] for k in keep] for x in (sel_codes, sel_parents, sel_geoms))
    elif sel:
        # A district has no parent to fall outside of: compare it with its stored self instead.
        p.violations += _gcj02_suspected(feats, sel, stored=_geoms(conn, level, [codes[i] for i in sel]))

    if level in NO_OVERLAP_LEVELS and sel:
        # Siblings the import removes cannot overlap anything any more.
        rows = conn.execute(query("grid_io_siblings", level),
                            {"parents": parent_codes, "codes": file_codes + p.removed}).fetchall()
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


def _open_incidents(conn, level: str, codes: list[str]) -> list[Violation]:
    if not codes or level not in INCIDENT_COLUMN:
        return []
    stmt = query("grid_io_open_incident_counts", level, column=sql.Identifier(INCIDENT_COLUMN[level]))
    rows = conn.execute(stmt, {"codes": codes}).fetchall()
    return [violation("open_incidents", value=r["code"], level=LABEL[level], count=r["n"]) for r in rows]


def _check_removed(conn, level: str, p: Plan) -> None:
    """Grids the file leaves out may go only if no open incident, child or grid worker still needs them."""
    if not p.removed:
        return
    p.violations += _open_incidents(conn, level, p.removed)
    child = CHILD_LEVEL.get(level)
    if child:
        rows = conn.execute(query("grid_io_children_of", child), {"codes": p.removed}).fetchall()
        p.violations += [violation("has_children", value=r["code"], count=r["n"], child_level=child,
                                   children=_few(r["children"])) for r in rows]
    if level == "community":
        rows = conn.execute(q("grid_io_workers_of_communities"), {"codes": p.removed}).fetchall()
        p.violations += [violation("has_workers", value=r["code"], count=r["n"], workers=_few(r["workers"]))
                         for r in rows]


def _few(listed: str, limit: int = 5) -> str:
    """The first few of a ', '-joined list, so one line stays readable."""
    items = listed.split(", ")
    return ", ".join(items[:limit]) + (f", ... ({len(items) - limit} more)" if len(items) > limit else "")


def _check_emptied(conn, emptied: list[str], p: Plan, replace: bool) -> list[str]:
    """Sub-grids left without base grids are removed: only with --replace, never under open work.

    Their current worker assignments end when they go (write()); the assignment rows stay as history.
    """
    if not emptied:
        return []
    if not replace:
        p.violations += [violation("sub_grid_empty", value=c) for c in emptied]
        return []
    p.violations += _open_incidents(conn, "sub_grid", emptied)
    return list(emptied)


def _gcj02_suspected(feats: Features, sel: list[int], *, parent_geoms: dict | None = None,
                     stored: dict | None = None) -> list[Violation]:
    """Name the likely mistake when un-shifting the file from GCJ-02 puts it where the stored grids are.

    Judged against the features' parents (what they fall outside of) or, for districts, the stored
    grids of the same codes. Silent whenever the file fits as it is or was declared GCJ-02 already.
    """
    declared = feats.declared_crs or "EPSG:4326"
    if declared.lower().replace("-", "") == "gcj02" or not pyproj.CRS.from_user_input(declared).is_geographic:
        return []
    refs = parent_geoms if parent_geoms is not None else (stored or {})
    keys = [feats.parents[i] if parent_geoms is not None else feats.codes[i] for i in sel]
    keep = [k for k, key in enumerate(keys) if key in refs]
    if not keep:
        return []
    raw = np.asarray([feats.geoms[sel[k]] for k in keep], dtype=object)
    ref = np.asarray([refs[keys[k]] for k in keep], dtype=object)
    lat0 = rules.reference_latitude(ref)
    raw_m = rules.to_local_metres(raw, lat0)
    fixed_m = rules.to_local_metres(gcj02.geoms_gcj02_to_wgs84(raw), lat0)
    ref_m = rules.to_local_metres(ref, lat0)
    if parent_geoms is not None:
        # Un-shifted, every feature must sit inside its parent, and as read a real part must not.
        inside = shapely.covered_by(fixed_m, shapely.buffer(ref_m, rules.INSIDE_TOLERANCE_M))
        outside_share = shapely.area(shapely.difference(raw_m, ref_m)).sum() / shapely.area(raw_m).sum()
        offset = float(np.median(shapely.distance(shapely.centroid(raw_m), shapely.centroid(fixed_m))))
        suspected = bool(inside.all()) and outside_share > 0.02
    else:
        offset = float(np.median(shapely.distance(shapely.centroid(raw_m), shapely.centroid(ref_m))))
        fixed_offset = float(np.median(shapely.distance(shapely.centroid(fixed_m), shapely.centroid(ref_m))))
        suspected = offset > GCJ02_MIN_OFFSET_M and fixed_offset < offset / 4
    if not suspected:
        return []
    return [violation("gcj02_suspected", index="file", crs=declared, offset_m=offset)]


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
    for code in p.removed:
        membership.pop(code, None)
    p.removed_sub_grids = _check_emptied(conn, _emptied(stored_subs, membership, set()), p, replace)


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
    p.removed = _check_emptied(conn, _emptied(stored_subs, membership, set(feats.codes)), p, replace)


def write(conn: psycopg.Connection, level: str, feats: Features, p: Plan) -> int:
    """Run the import's statements (one per kind of change) in the caller's transaction; return assignments ended."""
    idx = [i for i, c in enumerate(feats.codes) if c]
    codes = [feats.codes[i] for i in idx]
    names = [feats.names[i] for i in idx]
    parents = [feats.parents[i] for i in idx]
    wkbs = [shapely.to_wkb(feats.geoms[i]) for i in idx]
    english = {"names_en": [feats.names_en[i] for i in idx] if feats.names_en is not None else [None] * len(idx),
               "has_name_en": feats.names_en is not None}
    if level == "district":
        conn.execute(q("grid_io_district_upsert"), {"codes": codes, "names": names, "wkbs": wkbs, **english})
    elif level in ("street", "community"):
        conn.execute(query("grid_io_upsert", level),
                     {"codes": codes, "parents": parents, "names": names, "wkbs": wkbs, **english})
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
    # Children first: a base grid goes before the sub-grid it empties. Every delete statement also
    # bumps grid_revision (trigger), so the ingest worker reloads its location index.
    if p.removed and level != "sub_grid":
        conn.execute(query("grid_io_delete", level), {"codes": p.removed})
    gone_sub_grids = p.removed if level == "sub_grid" else p.removed_sub_grids
    if not gone_sub_grids:
        return 0
    ended = conn.execute(q("grid_io_end_assignments"), {"codes": gone_sub_grids, "reason": END_ASSIGNMENT_REASON})
    conn.execute(query("grid_io_delete", "sub_grid"), {"codes": gone_sub_grids})
    return ended.rowcount
