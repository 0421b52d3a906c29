"""The seed's grid rules as validation: pure shapely 2, vectorised, no I/O.

Every check returns a list of `Violation`s: a stable machine `code`, `params` the dashboard can
render in any language, and a default English `message`. Geometries are WGS84 lon/lat; distances
and areas are judged in a local metric frame (equirectangular around the data's mean latitude,
accurate to well under 0.1 % across a district).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely

LEVELS = ("district", "street", "community", "sub_grid", "base_grid")
PARENT_LEVEL = {"street": "district", "community": "street", "sub_grid": "community", "base_grid": "community"}
CODE_LENGTH = {"district": 6, "street": 9, "community": 12, "sub_grid": 14, "base_grid": 15}

INSIDE_TOLERANCE_M = 1.0
OVERLAP_TOLERANCE_M2 = 1.0

# Mainland China with a margin; anything valid but outside is a CRS mix-up, not a Pingshan grid.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)

_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0

# Reasons only; `violation()` prefixes where it happened (feature index and/or code).
MESSAGES = {
    "missing_field": "field {field!r} is missing",
    "bad_code_format": "code {value!r} is not a {level} code ({expected})",
    "parent_mismatch": "code {value} does not start with its parent code {parent}",
    "duplicate_code": "code {value} appears more than once in the file",
    "code_exists": "code {value} is already in the database (use --replace to update it)",
    "empty_geometry": "geometry is empty",
    "not_polygon": "geometry is a {geom_type}, not a polygon",
    "invalid_geometry": "invalid geometry: {reason}",
    "coordinates_out_of_range": "coordinates outside the lon/lat range (bounds {bounds})",
    "wrong_crs_suspected": "coordinates look like the wrong CRS: {reason} (bounds {bounds})",
    "parent_missing": "parent {parent_level} {parent} is not in the database",
    "outside_parent": "lies outside its {parent_level} {parent} by {outside_m2:.1f} m² (tolerance {tolerance_m:g} m)",
    "overlaps_sibling": "overlaps {other} by {area_m2:.1f} m²",
    "children_outside": "new shape leaves its {child_level} {child} outside",
    "base_grid_uncovered": "no sub-grid polygon holds this base grid's centroid",
    "crosses_community": "base grid of community {community} falls in sub-grid {other} of community {other_community}",
    "ambiguous_sub_grid": "centroid lies in several sub-grid polygons ({others})",
    "sub_grid_empty": "sub-grid would be left without base grids",
    "open_incidents": "cannot be removed or emptied: {count} open incident(s) point at it; close or cancel them first",
    "has_children": ("cannot be removed: {count} {child_level} grid(s) still belong to it ({children}); remove "
                     "them first (import --level {child_level} --replace) or keep it in the file"),
    "has_workers": ("cannot be removed: {count} grid worker(s) belong to this community ({workers}); move them to "
                    "another community first or keep it in the file"),
    "unreadable": "cannot be read: {reason}",
    "several_layers": "holds several layers ({layers}): choose one with --layer",
    "no_such_layer": "has no layer {layer!r} (its layers: {layers})",
    "name_en_unsupported": "{level} grids have no English name column: leave out --name-en-field",
    "gcj02_suspected": ("coordinates look like GCJ-02 (Chinese web-map coordinates) read as {crs}: the features sit "
                        "about {offset_m:.0f} m from where the stored grids put them, the shift GCJ-02 makes here; "
                        "import with --crs gcj02"),
    "bad_crs": "unknown CRS {crs!r}: {reason}",
    "database_rule": "the database refused the import: {reason}",
}


@dataclass(frozen=True)
class Violation:
    """One broken rule: stable code, parameters for any language, default English message."""

    code: str
    params: dict = field(default_factory=dict)
    message: str = ""

    @property
    def where(self) -> str:
        """The feature (index and code), the stored grid (code) or the file the violation is about."""
        return where_label(self.params)

    @property
    def reason(self) -> str:
        """The message without its location prefix."""
        return self.message.split(": ", 1)[1] if ": " in self.message else self.message


def where_label(params: Mapping) -> str:
    """'feature 3 (440310001001002)', '440310001001002', 'file' or 'import'."""
    index, value = params.get("index"), params.get("value")
    if isinstance(index, int):
        return f"feature {index} ({value})" if value else f"feature {index}"
    if index == "file":
        return "file"
    return str(value) if value else "import"


def violation(code: str, **params) -> Violation:
    """Build a Violation with its default English message."""
    try:
        reason = MESSAGES[code].format(**params)
    except (KeyError, IndexError, ValueError):
        # A caller gave fewer params than the template names: still say what went wrong.
        reason = f"{code} {params}"
    return Violation(code, params, f"{where_label(params)}: {reason}")


def feature_lines(violations: Sequence[Violation]) -> list[str]:
    """One line per bad feature: where, then every reason found for it, in first-seen order."""
    grouped: dict[str, list[str]] = {}
    for v in violations:
        grouped.setdefault(v.where, []).append(v.reason)
    return [f"{where}: {'; '.join(dict.fromkeys(reasons))}" for where, reasons in grouped.items()]


def parent_code_of(level: str, code: str) -> str | None:
    """The parent's code implied by a grid code (codes extend their parent's)."""
    parent = PARENT_LEVEL.get(level)
    return code[: CODE_LENGTH[parent]] if parent else None


def _loc(index, code) -> dict:
    return {"index": index, "value": code} if isinstance(index, int) else {"value": code}


def check_codes(level: str, codes: Sequence, names: Sequence, parents: Sequence | None = None) -> list[Violation]:
    """Missing code/name, code format by level, code prefix against the parent, duplicates."""
    out: list[Violation] = []
    pattern = re.compile(rf"^[0-9]{{{CODE_LENGTH[level]}}}$")
    expected = f"{CODE_LENGTH[level]} digits"
    counts = Counter(c for c in codes if c)
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if not code:
            out.append(violation("missing_field", index=i, field="code"))
            continue
        if not names[i]:
            out.append(violation("missing_field", index=i, field="name", value=code))
        if not pattern.match(code):
            out.append(violation("bad_code_format", index=i, value=code, level=level, expected=expected))
            continue
        parent = parents[i] if parents is not None else None
        if PARENT_LEVEL.get(level) and parents is not None and not parent:
            out.append(violation("missing_field", index=i, field="parent", value=code))
        elif PARENT_LEVEL.get(level) and parent and parent_code_of(level, code) != parent:
            out.append(violation("parent_mismatch", index=i, value=code, parent=parent))
        if counts[code] > 1 and code in seen:
            out.append(violation("duplicate_code", index=i, value=code))
        seen.add(code)
    return out


def check_geometries(geoms: Sequence) -> list[Violation]:
    """Empty, non-polygonal and invalid geometries (with explain_validity's reason)."""
    arr = np.asarray(geoms, dtype=object)
    out: list[Violation] = []
    missing = shapely.is_missing(arr)
    empty = missing | shapely.is_empty(arr)
    types = shapely.get_type_id(arr)
    polygonal = np.isin(types, (3, 6))  # Polygon, MultiPolygon
    valid = shapely.is_valid(arr)
    for i in np.flatnonzero(empty | ~polygonal | ~valid):
        if empty[i]:
            out.append(violation("empty_geometry", index=int(i)))
        elif not polygonal[i]:
            out.append(violation("not_polygon", index=int(i), geom_type=arr[i].geom_type))
        else:
            out.append(violation("invalid_geometry", index=int(i), reason=shapely.is_valid_reason(arr[i])))
    return out


def _fmt_bounds(b) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in b) + "]"


def check_coordinates(geoms: Sequence) -> list[Violation]:
    """Lon/lat range, swapped axes and positions far outside China (a CRS mix-up)."""
    arr = np.asarray(geoms, dtype=object)
    b = shapely.bounds(arr)  # NaN rows for empty geometries compare False everywhere below
    minx, miny, maxx, maxy = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    out_of_range = (minx < -180) | (maxx > 180) | (miny < -90) | (maxy > 90)
    in_china = (minx >= CHINA_LON[0]) & (maxx <= CHINA_LON[1]) & (miny >= CHINA_LAT[0]) & (maxy <= CHINA_LAT[1])
    swapped = (minx >= CHINA_LAT[0]) & (maxx <= CHINA_LAT[1]) & (miny >= CHINA_LON[0]) & (maxy <= CHINA_LON[1])
    known = ~np.isnan(minx)
    out: list[Violation] = []
    for i in np.flatnonzero(known & (out_of_range | ~in_china)):
        bounds = _fmt_bounds(b[i])
        if out_of_range[i]:
            out.append(violation("coordinates_out_of_range", index=int(i), bounds=bounds))
        else:
            reason = "latitude and longitude swapped" if swapped[i] else "far outside China"
            out.append(violation("wrong_crs_suspected", index=int(i), reason=reason, bounds=bounds))
    return out


def to_local_metres(geoms, lat0: float):
    """Geometries scaled to metres around latitude lat0 (equirectangular; fine within a district)."""
    kx = _M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat0))
    scale = np.array([kx, _M_PER_DEG_LAT])
    return shapely.transform(geoms, lambda xy: xy * scale)


def reference_latitude(*geom_arrays) -> float:
    """Mean latitude of the arrays' bounds: the origin of the local metric frame."""
    lats = [shapely.bounds(np.asarray(a, dtype=object))[:, [1, 3]] for a in geom_arrays if len(a)]
    stacked = np.concatenate(lats) if lats else np.array([[22.7]])
    value = float(np.nanmean(stacked)) if not np.all(np.isnan(stacked)) else 22.7
    return value


def check_inside_parent(
    level: str,
    codes: Sequence[str],
    parents: Sequence[str],
    geoms: Sequence,
    parent_geoms: Mapping[str, object],
    *,
    indexes: Sequence[int] | None = None,
    tolerance_m: float = INSIDE_TOLERANCE_M,
) -> list[Violation]:
    """Each feature's parent exists and covers it within tolerance_m metres."""
    parent_level = PARENT_LEVEL[level]
    idx = list(indexes) if indexes is not None else list(range(len(codes)))
    out: list[Violation] = []
    have = [k for k in range(len(codes)) if parents[k] in parent_geoms]
    for k in range(len(codes)):
        if parents[k] not in parent_geoms:
            out.append(violation("parent_missing", **_loc(idx[k], codes[k]), parent=parents[k],
                                 parent_level=parent_level))
    if not have:
        return out
    arr = np.asarray(geoms, dtype=object)[have]
    lat0 = reference_latitude(arr)
    local = to_local_metres(arr, lat0)
    # One buffered, prepared parent per distinct code, shared by all its children.
    buffered = {}
    for p in {parents[k] for k in have}:
        g = shapely.buffer(to_local_metres(parent_geoms[p], lat0), tolerance_m)
        shapely.prepare(g)
        buffered[p] = g
    parent_arr = np.array([buffered[parents[k]] for k in have], dtype=object)
    inside = shapely.covered_by(local, parent_arr)
    for j in np.flatnonzero(~inside):
        k = have[j]
        # How much sticks out, so a 1.2 m slip reads differently from a wrong file.
        outside = float(shapely.area(shapely.difference(local[j], parent_arr[j])))
        out.append(violation("outside_parent", **_loc(idx[k], codes[k]), parent=parents[k],
                             parent_level=parent_level, outside_m2=outside, tolerance_m=tolerance_m))
    return out


def check_overlaps(
    codes: Sequence[str],
    parents: Sequence,
    geoms: Sequence,
    *,
    other_codes: Sequence[str] = (),
    other_parents: Sequence = (),
    other_geoms: Sequence = (),
    tolerance_m2: float = OVERLAP_TOLERANCE_M2,
) -> list[Violation]:
    """Siblings (same parent) may touch but not overlap by more than tolerance_m2 square metres.

    Features are checked among themselves and against `other_*` (siblings already stored).
    """
    n = len(codes)
    all_codes = list(codes) + list(other_codes)
    all_parents = list(parents) + list(other_parents)
    all_geoms = np.asarray(list(geoms) + list(other_geoms), dtype=object)
    if n == 0 or len(all_geoms) < 2:
        return []
    local = to_local_metres(all_geoms, reference_latitude(all_geoms))
    tree = shapely.STRtree(local)
    left, right = tree.query(local[:n], predicate="intersects")
    same_parent = np.array([all_parents[a] == all_parents[b] for a, b in zip(left, right)], dtype=bool)
    # Each pair once: file-vs-file pairs with left < right, file-vs-stored pairs always.
    keep = same_parent & (left != right) & ((right >= n) | (left < right))
    left, right = left[keep], right[keep]
    if len(left) == 0:
        return []
    interiors_meet = shapely.relate_pattern(local[left], local[right], "T********")
    left, right = left[interiors_meet], right[interiors_meet]
    areas = shapely.area(shapely.intersection(local[left], local[right]))
    out = []
    for a, b, area in zip(left, right, areas):
        if area > tolerance_m2:
            out.append(violation("overlaps_sibling", index=int(a), value=all_codes[a], other=all_codes[b],
                                 area_m2=float(area)))
    return out


def check_children_inside(
    level: str,
    codes: Sequence[str],
    geoms: Sequence,
    child_level: str,
    child_codes: Sequence[str],
    child_parents: Sequence[str],
    child_geoms: Sequence,
    *,
    tolerance_m: float = INSIDE_TOLERANCE_M,
) -> list[Violation]:
    """A new parent shape must still hold the children already stored under it."""
    where = {c: i for i, c in enumerate(codes)}
    sel = [k for k in range(len(child_codes)) if child_parents[k] in where]
    if not sel:
        return []
    parent_geoms = {c: geoms[i] for c, i in where.items()}
    found = check_inside_parent(
        child_level,
        [child_codes[k] for k in sel],
        [child_parents[k] for k in sel],
        [child_geoms[k] for k in sel],
        parent_geoms,
        indexes=[None] * len(sel),
        tolerance_m=tolerance_m,
    )
    out = []
    for v in found:
        parent = v.params["parent"]
        out.append(violation("children_outside", index=where[parent], value=parent, child=v.params["value"],
                             child_level=child_level))
    return out


@dataclass
class SubGridAssignment:
    """Which sub-grid each base grid goes to, and what could not be assigned."""

    sub_grid_of: dict[str, str]
    violations: list[Violation]


def assign_base_grids(
    base_codes: Sequence[str],
    base_communities: Sequence[str],
    base_geoms: Sequence,
    sub_codes: Sequence[str],
    sub_communities: Sequence[str],
    sub_geoms: Sequence,
    *,
    required_communities: set[str] | None = None,
) -> SubGridAssignment:
    """Give each base grid the sub-grid polygon holding its centroid; report what breaks the rule.

    Base grids of `required_communities` (default: the sub-grids' communities) must all be covered;
    others are only considered if their centroid falls in a sub-grid polygon.
    """
    required = set(sub_communities) if required_communities is None else required_communities
    centroids = shapely.centroid(np.asarray(base_geoms, dtype=object))
    subs = np.asarray(sub_geoms, dtype=object)
    tree = shapely.STRtree(subs)
    base_idx, sub_idx = tree.query(centroids, predicate="within")
    hits: dict[int, list[int]] = {}
    for b, s in zip(base_idx, sub_idx):
        hits.setdefault(int(b), []).append(int(s))
    out: list[Violation] = []
    assigned: dict[str, str] = {}
    for b, code in enumerate(base_codes):
        found = sorted(hits.get(b, []))
        if not found:
            if base_communities[b] in required:
                out.append(violation("base_grid_uncovered", value=code))
            continue
        if len(found) > 1:
            out.append(violation("ambiguous_sub_grid", value=code, others=", ".join(sub_codes[s] for s in found)))
            continue
        s = found[0]
        if sub_communities[s] != base_communities[b]:
            out.append(violation("crosses_community", value=code, community=base_communities[b],
                                 other=sub_codes[s], other_community=sub_communities[s]))
            continue
        assigned[code] = sub_codes[s]
    used = set(assigned.values())
    for s, code in enumerate(sub_codes):
        if code not in used:
            out.append(violation("sub_grid_empty", index=s, value=code))
    return SubGridAssignment(assigned, out)
