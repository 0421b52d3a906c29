"""One analysis refresh as pure frame-in, frame-out steps over the grid/ mathematics (no I/O).

Lattices: the sub-grids (queen contiguity of their shapes) and 200 m squares over UTM 50N restricted
to the cells that touch the district. Times are counted in China Standard Time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from geodata.analysis_repo import GridGeometry, geom_hex
from grid.emerging import count_cube, emerging_hot_spots
from grid.hotspots import hot_spots
from grid.indicators import LEVEL_KEYS, indicators, red_black_ranking
from grid.lattice import PINGSHAN_BBOX, SquareLattice, contiguity_weights, project, subset_weights
from grid.trends import camera_blind_sub_grids, cst_midnight, repeat_clusters, rising_matters, time_bins

SQUARE = "square200"
SUB_GRID = "sub_grid"
WARNING_COLUMNS = ("kind", "dedup_key", "matter_code", "area_level", "area_code", "sub_grid_code",
                   "community_code", "street_code", "lon", "lat", "details", "score")
#: Camera health verdicts that still watch the sub-grid. "unknown" means never diagnosed (no video
#: quality worker has looked yet); counting it as blind would flag every sub-grid on a fresh system.
SEEING = ("online", "unknown")


@dataclass(frozen=True)
class Lattice:
    """One lattice's cells: ids (text), binary contiguity, hex EWKB shapes, centre lon/lat.

    ``area_km2`` is set when cells differ in size (sub-grids): Gi* then runs on incidents per km²,
    since on counts a large sub-grid would look hot merely for being large.
    """

    name: str
    cells: np.ndarray
    w: sparse.csr_matrix
    geom_hex: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    area_km2: np.ndarray | None = None


@dataclass(frozen=True)
class Lattices:
    """Both lattices of one grid revision, plus what maps incidents onto them."""

    revision: int
    square: SquareLattice
    square_pos: np.ndarray        # full lattice id -> position among kept cells, -1 outside
    square_lattice: Lattice
    sub_lattice: Lattice
    sub_grids: pd.DataFrame
    communities: pd.DataFrame
    district_code: str


def build_lattices(geometry: GridGeometry, cell_size: float = 200.0) -> Lattices:
    """Lattices for one grid revision; costly (~0.3 s), so callers cache it on the revision."""
    district = geometry.district
    bbox = PINGSHAN_BBOX
    if not district.is_empty:
        b = district.bounds
        inside = b[0] >= bbox[0] and b[1] >= bbox[1] and b[2] <= bbox[2] and b[3] <= bbox[3]
        # The fixed Pingshan box keeps cell ids stable across grid edits; anything else gets its own.
        bbox = bbox if inside else (b[0] - 0.005, b[1] - 0.005, b[2] + 0.005, b[3] + 0.005)
    square = SquareLattice.over_bbox(bbox, cell_size)
    polys = square.polygons_lonlat()
    shapely.prepare(district)
    keep = np.flatnonzero(shapely.intersects(district, polys)) if not district.is_empty else np.arange(0)
    pos = np.full(square.n_cells, -1, np.int64)
    pos[keep] = np.arange(len(keep))
    clon, clat = square.centers_lonlat()
    sq = Lattice(SQUARE, keep.astype(str).astype(object), subset_weights(square.queen_weights(), keep),
                 geom_hex(polys[keep]), clon[keep], clat[keep])
    subs = geometry.sub_grids
    sub_geoms = np.asarray(subs["geom"], dtype=object)
    w_sub = contiguity_weights(sub_geoms) if len(subs) else sparse.csr_matrix((0, 0))
    metric = shapely.transform(sub_geoms, lambda c: np.column_stack(project(c[:, 0], c[:, 1])))
    sg = Lattice(SUB_GRID, subs["code"].to_numpy(dtype=object), w_sub, geom_hex(sub_geoms),
                 subs["lon"].to_numpy(float), subs["lat"].to_numpy(float), shapely.area(metric) / 1e6)
    comms = geometry.communities
    district_code = str(comms["street_code"].iloc[0])[:6] if len(comms) else "district"
    return Lattices(geometry.revision, square, pos, sq, sg, subs.drop(columns="geom"),
                    comms, district_code)


def cell_positions(incidents: pd.DataFrame, lat: Lattices) -> dict[str, np.ndarray]:
    """Position of each incident's cell on each lattice (-1 when it falls outside)."""
    full = lat.square.cell_of(incidents["lon"].to_numpy(float), incidents["lat"].to_numpy(float))
    square = np.where(full >= 0, lat.square_pos[np.maximum(full, 0)], -1)
    sub = pd.Index(lat.sub_lattice.cells).get_indexer(incidents["sub_grid_code"].astype(object))
    return {SQUARE: square, SUB_GRID: sub.astype(np.int64)}


def _counted(incidents: pd.DataFrame) -> np.ndarray:
    # A cancelled case was a duplicate or a false report: it says nothing about where things happen.
    return (incidents["status"] != "cancelled").to_numpy()


def hotspot_cells(incidents: pd.DataFrame, lat: Lattices, pos: dict[str, np.ndarray], as_of: pd.Timestamp,
                  families, windows) -> pd.DataFrame:
    """Gi* (binary weights, BH-corrected) per lattice, family and window, as rows for hotspot_cell."""
    created = incidents["created_at"]
    counted = _counted(incidents)
    fam = incidents["family"].to_numpy()
    parts = []
    for lattice in (lat.square_lattice, lat.sub_lattice):
        n = len(lattice.cells)
        if n == 0:
            continue
        cells = pos[lattice.name]
        for days in windows:
            in_window = counted & (created >= as_of - pd.Timedelta(days=days)).to_numpy() & (cells >= 0)
            for family in families:
                sel = in_window & (fam == family)
                y = np.bincount(cells[sel], minlength=n).astype(float)
                if lattice.area_km2 is not None:
                    y = y / np.maximum(lattice.area_km2, 1e-6)
                table = hot_spots(y, lattice.w)
                # Empty, unremarkable squares are most of the lattice: the wall has nothing to draw there.
                keep = (table["value"] > 0) | (table["class"] != "not_significant") | (lattice.name == SUB_GRID)
                keep = keep.to_numpy()
                t = table.loc[keep]
                parts.append(pd.DataFrame({
                    "lattice": lattice.name, "cell": lattice.cells[keep], "family": family,
                    "window_days": days, "value": t["value"].to_numpy(), "z": t["z"].to_numpy(),
                    "p": t["p"].to_numpy(), "q": t["q"].to_numpy(), "class": t["class"].to_numpy(),
                    "geom": lattice.geom_hex[keep]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def emerging_cells(incidents: pd.DataFrame, lat: Lattices, pos: dict[str, np.ndarray], as_of: pd.Timestamp,
                   families, days: int = 30) -> pd.DataFrame:
    """Emerging hot spot patterns over the last ``days`` whole CST days, per lattice and family."""
    start = cst_midnight(as_of) - pd.Timedelta(days=days)
    bins = time_bins(incidents["created_at"], start)
    counted = _counted(incidents)
    fam = incidents["family"].to_numpy()
    parts = []
    for lattice in (lat.square_lattice, lat.sub_lattice):
        n = len(lattice.cells)
        if n == 0:
            continue
        cells = pos[lattice.name]
        for family in families:
            sel = counted & (fam == family)
            cube = count_cube(cells[sel], bins[sel], n, days)
            if lattice.area_km2 is not None:
                cube = cube / np.maximum(lattice.area_km2, 1e-6)[:, None]
            frame = emerging_hot_spots(cube, lattice.w).to_frame()
            keep = (frame["pattern"] != "no_pattern").to_numpy()
            f = frame.loc[keep]
            parts.append(pd.DataFrame({
                "lattice": lattice.name, "cell": lattice.cells[keep], "family": family,
                "pattern": f["pattern"].to_numpy(), "trend_z": f["trend_z"].to_numpy(),
                "trend_p": f["trend_p"].to_numpy(), "final_z": f["final_z"].to_numpy(),
                "hot_bins": f["hot_bins"].to_numpy(), "cold_bins": f["cold_bins"].to_numpy(),
                "geom": lattice.geom_hex[keep]}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def week_tag(as_of: pd.Timestamp) -> str:
    """The CST Monday of ``as_of``'s week, which keys a warning to one week."""
    day = cst_midnight(as_of)
    return (day - pd.Timedelta(days=day.weekday())).date().isoformat()


def baseline_weeks_available(first_at, as_of: pd.Timestamp, wanted: int = 4) -> int:
    """Whole baseline weeks the history holds before this week (1..wanted); a young system has fewer."""
    if first_at is None:
        return wanted
    span = (as_of - pd.Timedelta(days=7) - pd.Timestamp(first_at)) / pd.Timedelta(days=7)
    return int(min(wanted, max(1, np.floor(span))))


def rising_warnings(incidents: pd.DataFrame, lat: Lattices, as_of: pd.Timestamp, *, baseline_weeks: int = 4,
                    min_count: int = 5, alpha: float = 0.05) -> pd.DataFrame:
    """A matter rising in a community: this week against the baseline weeks (exact Poisson test, BH)."""
    df = incidents.loc[_counted(incidents) & incidents["community_code"].notna().to_numpy()]
    table = rising_matters(df, as_of, area_col="community_code", baseline_weeks=baseline_weeks,
                           min_count=min_count, alpha=alpha)
    table = table[table["flagged"]]
    comms = lat.communities.set_index("code")
    table = table[table["area"].isin(comms.index)]
    if table.empty:
        return pd.DataFrame(columns=WARNING_COLUMNS)
    tag = week_tag(as_of)
    c = comms.loc[table["area"]]
    return pd.DataFrame({
        "kind": "rising",
        "dedup_key": [f"rising:{a}:{m}:{tag}" for a, m in zip(table["area"], table["matter"])],
        "matter_code": table["matter"].to_numpy(), "area_level": "community",
        "area_code": table["area"].to_numpy(), "sub_grid_code": None,
        "community_code": table["area"].to_numpy(), "street_code": c["street_code"].to_numpy(),
        "lon": c["lon"].to_numpy(float), "lat": c["lat"].to_numpy(float),
        "details": [{"current": int(r.current), "baseline": int(r.baseline), "baseline_weeks": baseline_weeks,
                     "expected_per_week": round(float(r.expected), 2), "ratio": round(float(r.ratio), 2),
                     "p": float(r.p), "q": float(r.q), "week": tag,
                     "window_end": as_of.isoformat()} for r in table.itertuples()],
        "score": table["ratio"].to_numpy(float)})[list(WARNING_COLUMNS)]


def repeat_warnings(incidents: pd.DataFrame, as_of: pd.Timestamp, recent: pd.DataFrame, *, days: int = 7,
                    radius_m: float = 50.0, min_count: int = 3,
                    exclude_sources: tuple[str, ...] = ("camera",)) -> pd.DataFrame:
    """The same matter ``min_count`` times within ``radius_m`` in ``days``; a known place keeps its key.

    Camera events are left out by default: they are located at the camera itself, so every busy camera
    would be a standing "repeat" (the camera's own rule already made each of them a case).
    """
    created = incidents["created_at"]
    window = ((created >= as_of - pd.Timedelta(days=days)) & (created < as_of)).to_numpy()
    # Pre-filtered to the window: repeat_clusters indexes times of the whole input with a mask of the
    # windowed rows, which only lines up when every row is inside the window.
    keep = _counted(incidents) & window & ~incidents["source"].isin(exclude_sources).to_numpy()
    df = incidents.loc[keep]
    places = repeat_clusters(df, as_of, days=days, radius_m=radius_m, min_count=min_count)
    if places.empty:
        return pd.DataFrame(columns=WARNING_COLUMNS)
    places = places.reset_index(drop=True)
    members = places[["ids"]].explode("ids").rename(columns={"ids": "id"})
    members = members.reset_index(names="place").merge(
        df[["id", "created_at", "sub_grid_code", "community_code", "street_code"]], on="id", how="left")
    first_id = members.sort_values(["created_at", "id"]).groupby("place")["id"].first()
    codes = {}
    for col in ("sub_grid_code", "community_code", "street_code"):
        # The most frequent code among the place's cases (a place may straddle a boundary).
        top = members.dropna(subset=[col]).groupby(["place", col]).size().reset_index(name="n")
        top = top.sort_values(["place", "n", col], ascending=[True, False, True]).drop_duplicates("place")
        codes[col] = top.set_index("place")[col].reindex(places.index).astype(object)
        codes[col] = codes[col].where(codes[col].notna(), None)
    keys = np.array([f"repeat:{m}:{i}" for m, i in zip(places["matter"], first_id.reindex(places.index))],
                    dtype=object)
    if len(recent):
        # Keyed by its first case, a place would get a new key once that case ages out; reuse the old one.
        px, py = project(places["lon"].to_numpy(float), places["lat"].to_numpy(float))
        rx, ry = project(recent["lon"].to_numpy(float), recent["lat"].to_numpy(float))
        same = places["matter"].to_numpy()[:, None] == recent["matter_code"].to_numpy()[None, :]
        near = same & (np.hypot(px[:, None] - rx[None, :], py[:, None] - ry[None, :]) <= radius_m)
        hit = near.any(axis=1)
        keys[hit] = recent["dedup_key"].to_numpy()[near[hit].argmax(axis=1)]
    sub, comm = codes["sub_grid_code"], codes["community_code"]
    level = np.where(sub.notna(), "sub_grid", np.where(comm.notna(), "community", "district"))
    out = pd.DataFrame({
        "kind": "repeat", "dedup_key": keys, "matter_code": places["matter"].to_numpy(), "area_level": level,
        "area_code": sub.fillna(comm).fillna("").to_numpy(), "sub_grid_code": sub.to_numpy(),
        "community_code": comm.to_numpy(), "street_code": codes["street_code"].to_numpy(),
        "lon": places["lon"].to_numpy(float), "lat": places["lat"].to_numpy(float),
        "details": [{"count": int(p.count), "radius_m": radius_m, "days": days, "first": p.first.isoformat(),
                     "last": p.last.isoformat(), "incident_ids": [str(i) for i in p.ids]}
                    for p in places.itertuples()],
        "score": places["count"].to_numpy(float)})[list(WARNING_COLUMNS)]
    return out.drop_duplicates("dedup_key", keep="first").reset_index(drop=True)


def camera_blind_warnings(cameras: pd.DataFrame, lat: Lattices, as_of: pd.Timestamp) -> pd.DataFrame:
    """Sub-grids without a working camera; "no camera at all" is one standing warning, outages weekly."""
    subs = lat.sub_grids.set_index("code")
    placed = cameras[cameras["sub_grid_code"].notna()]
    healthy = dict(zip(placed["code"], placed["health"].isin(SEEING)))
    blind = camera_blind_sub_grids(subs.index, dict(zip(placed["code"], placed["sub_grid_code"])), healthy)
    if blind.empty:
        return pd.DataFrame(columns=WARNING_COLUMNS)
    tag = week_tag(as_of)
    s = subs.loc[blind["sub_grid_code"]]
    keys = [f"camera_blind:{c}:no_camera" if r == "no_camera" else f"camera_blind:{c}:down:{tag}"
            for c, r in zip(blind["sub_grid_code"], blind["reason"])]
    return pd.DataFrame({
        "kind": "camera_blind", "dedup_key": keys, "matter_code": None, "area_level": "sub_grid",
        "area_code": blind["sub_grid_code"].to_numpy(), "sub_grid_code": blind["sub_grid_code"].to_numpy(),
        "community_code": s["community_code"].to_numpy(), "street_code": s["street_code"].to_numpy(),
        "lon": s["lon"].to_numpy(float), "lat": s["lat"].to_numpy(float),
        "details": [{"reason": r, "cameras": int(n), "healthy": int(h)}
                    for r, n, h in zip(blind["reason"], blind["cameras"], blind["healthy"])],
        "score": blind["cameras"].to_numpy(float)})[list(WARNING_COLUMNS)]


def indicator_tables(incidents: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, district_code: str,
                     *, min_due: int = 10, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Indicators per level for incidents created in [start, end), and the red/black rankings."""
    df = incidents.loc[_counted(incidents)]
    snaps, ranks = [], []
    tables = {}
    for level, key in LEVEL_KEYS.items():
        t = indicators(df, key, start=start, end=end)
        tables[level] = t
        snaps.append(t.rename(columns={key: "code"}).assign(level=level, period_start=start, period_end=end))
    # (level, parent of the ranking): district-wide, and each community among its street's, each
    # sub-grid among its community's.
    scopes = (("street", None), ("community", None), ("community", 9), ("sub_grid", 12), ("worker", None))
    for level, prefix in scopes:
        t = tables[level].rename(columns={LEVEL_KEYS[level]: "code"})
        t = t.assign(within_code=t["code"].astype(str).str[:prefix] if prefix else district_code)
        r = red_black_ranking(t, "code", n=n, min_due=min_due, within="within_code")
        ranks.append(r.assign(level=level))
    snap = pd.concat(snaps, ignore_index=True)
    rank = pd.concat(ranks, ignore_index=True) if ranks else pd.DataFrame()
    return snap, rank
