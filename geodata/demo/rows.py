"""Table rows from the generated objects, geometries as EWKB hex, ready for COPY."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import shapely

from geodata.demo import places, timeline
from geodata.demo.camera_health import HealthHistory
from geodata.demo.cameras import Cameras
from geodata.demo.incidents import Drafts
from geodata.demo.layout import Layout, random_points_in
from geodata.demo.matters import MATTERS
from geodata.demo.people import GridWorkers


def ewkb(geoms_metric) -> list[str]:
    """Metric geometries to WGS84 EWKB hex (SRID 4326) strings."""
    arr = places.to_wgs84(np.asarray(geoms_metric, dtype=object))
    return list(shapely.to_wkb(shapely.set_srid(arr, 4326), hex=True, include_srid=True))


def multi_ewkb(geoms_metric) -> list[str]:
    """Polygonal geometries as valid WGS84 MultiPolygon EWKB hex."""
    wgs = places.to_wgs84(np.asarray(geoms_metric, dtype=object))
    fixed = [places.as_multi(g if g.is_valid else shapely.make_valid(g)) for g in wgs]
    return list(shapely.to_wkb(shapely.set_srid(np.array(fixed, dtype=object), 4326), hex=True, include_srid=True))


def ts(t: float | None) -> datetime | None:
    """Epoch seconds to an aware UTC datetime."""
    return None if t is None else datetime.fromtimestamp(t, UTC)


def grid_rows(layout: Layout) -> dict[str, list[tuple]]:
    """Rows of district, street, community, sub_grid and base_grid (sub-grid shapes left to the database)."""
    pl = layout.places
    comms = pl.communities
    streets = {c.street_code: c for c in comms}
    street_codes = list(streets)
    district = [(places.DISTRICT_CODE, places.DISTRICT_NAME, places.DISTRICT_NAME_EN, multi_ewkb([pl.outline])[0])]
    street_geom = multi_ewkb([pl.street_geoms[s] for s in street_codes])
    street = [(s, places.DISTRICT_CODE, streets[s].street_name, streets[s].street_name_en, g)
              for s, g in zip(street_codes, street_geom)]
    community = [(c.code, c.street_code, c.name, c.name_en, g)
                 for c, g in zip(comms, multi_ewkb(pl.community_geoms))]
    sub = [(code, comms[k].code, f"{comms[k].name}第{int(code[-2:])}综治网格")
           for code, k in zip(layout.sub_codes, layout.sub_comm)]
    base = [(code, comms[k].code, layout.sub_codes[s], f"{comms[k].name}{code[-3:]}号基础网格", g)
            for code, k, s, g in zip(layout.base_codes, layout.base_comm, layout.base_sub,
                                      multi_ewkb(layout.base_geoms))]
    return {"district": district, "street": street, "community": community, "sub_grid": sub, "base_grid": base}


def people_rows(layout: Layout, workers: GridWorkers, now: float, rng: np.random.Generator) -> dict[str, list[tuple]]:
    """Rows of grid_worker (with a last position in their own sub-grid) and sub_grid_assignment."""
    comms = layout.communities
    home_sub = {}
    for s, w in enumerate(workers.primary_of_sub):
        home_sub[int(w)] = s
    for s, w in enumerate(workers.backup_of_sub):
        home_sub.setdefault(int(w), s)
    pick = []
    for w in range(len(workers.codes)):
        s = home_sub.get(w)
        cands = np.flatnonzero(layout.base_sub == s) if s is not None else np.flatnonzero(layout.base_comm == workers.comm[w])
        pick.append(int(rng.choice(cands)))
    x, y = random_points_in(layout.base_geoms, np.array(pick), rng)
    pts = ewkb(shapely.points(x, y))
    seen = now - rng.uniform(60, 7200, size=len(pick))
    worker = [(code, name, phone, comms[k].code, bool(on), pt, ts(t))
              for code, name, phone, k, on, pt, t in zip(workers.codes, workers.names, workers.phones,
                                                        workers.comm, workers.on_duty, pts, seen)]
    assign = [(layout.sub_codes[s], workers.codes[w], role, since, until, "demo", reason)
              for s, w, role, since, until, reason in workers.assignments]
    return {"grid_worker": worker, "sub_grid_assignment": assign}


def camera_rows(cams: Cameras, health: HealthHistory) -> list[tuple]:
    """Rows of camera with its JSON configuration, registered when its health history begins.

    Health is left at its default ('unknown'), which the insert trigger logs; `seed_demo` then plays
    the history through the update trigger (`seed.replay_health`).
    """
    pts = ewkb(shapely.points(cams.x, cams.y))
    return [(c["code"], c["name"], c["url"], pt, c["heading"], json.dumps(c, ensure_ascii=False), ts(reg))
            for c, pt, reg in zip(cams.configs, pts, health.registered)]


def incident_rows(layout: Layout, workers: GridWorkers, cams: Cameras, drafts: Drafts, now: float,
                  rng: np.random.Generator) -> dict[str, list[tuple]]:
    """Rows of incident, incident_report and incident_event, histories cut at seed time."""
    n = len(drafts)
    ids = timeline.make_ids(rng, n)
    z = rng.standard_normal((n, 9))
    u = rng.random((n, 7))
    pts = ewkb(shapely.points(drafts.x, drafts.y))
    comms = layout.communities
    codes = np.array(workers.codes, dtype=object)
    subs = layout.base_sub[drafts.base]
    prim, back = codes[workers.primary_of_sub[subs]], codes[workers.backup_of_sub[subs]]
    inc, rep, evs = [], [], []
    for i in range(n):
        mi, src, b = int(drafts.matter[i]), str(drafts.source[i]), int(drafts.base[i])
        m = MATTERS[mi]
        case = timeline.make_case(i, mi, src, float(drafts.t[i]), prim[i], back[i], z[i], u[i], ids[i],
                                  str(drafts.reporter[i]))
        events = timeline.cut(case, now)
        st = timeline.row_state(events, case.worker, m.deadline_hours, m.family == "maintenance")
        comm = comms[layout.base_comm[b]]
        cam = int(drafts.camera[i])
        cam_code = cams.codes[cam] if cam >= 0 else None
        place = f"{comm.name}{layout.base_codes[b][-3:]}号网格"
        desc = f"{cam_code} 检测到{m.name}" if cam_code else f"{m.name}：{place}"
        situation = f"demo-{i:06d}" if cam_code and m.family != "maintenance" else None
        inc.append((
            case.id, m.code, src, st.status, st.level, m.priority, st.queue, pts[i], False,
            layout.base_codes[b], layout.sub_codes[subs[i]], comm.code, comm.street_code, st.worker, cam_code,
            situation, desc, 1, ts(drafts.t[i]), ts(case.received), ts(st.updated_at), ts(st.dispatched_at),
            ts(st.due_at), ts(st.warned_at), ts(st.overdue_at), ts(st.closed_at), st.on_time, '{"demo": true}',
        ))
        rep.append((case.id, case.id, src, m.code, str(drafts.reporter[i]), ts(drafts.t[i]), ts(case.received),
                    pts[i], desc))
        for e in events:
            evs.append((case.id, ts(e.t), e.actor, e.action, e.from_status, e.to_status, e.note,
                        json.dumps(e.data or {}, ensure_ascii=False)))
    return {"incident": inc, "incident_report": rep, "incident_event": evs}


COLUMNS: dict[str, tuple[str, ...]] = {
    "district": ("code", "name", "name_en", "geom"),
    "street": ("code", "district_code", "name", "name_en", "geom"),
    "community": ("code", "street_code", "name", "name_en", "geom"),
    "sub_grid": ("code", "community_code", "name"),
    "base_grid": ("code", "community_code", "sub_grid_code", "name", "geom"),
    "grid_worker": ("code", "name", "phone", "community_code", "on_duty", "last_geom", "last_seen_at"),
    "sub_grid_assignment": ("sub_grid_code", "worker_code", "role", "valid_from", "valid_to", "assigned_by", "reason"),
    "camera": ("code", "name", "url", "geom", "heading", "config", "created_at"),
    "matter": ("code", "name", "name_en", "family", "priority", "deadline_hours", "escalation"),
    "incident": (
        "id", "matter_code", "source", "status", "level", "priority", "queue", "geom", "outside",
        "base_grid_code", "sub_grid_code", "community_code", "street_code", "worker_code", "camera_code",
        "situation_id", "description", "report_count", "observed_at", "created_at", "updated_at",
        "dispatched_at", "due_at", "warned_at", "overdue_at", "closed_at", "on_time", "attributes",
    ),
    "incident_report": ("event_id", "incident_id", "source", "matter_code", "reporter", "observed_at",
                        "received_at", "geom", "description"),
    "incident_event": ("incident_id", "at", "actor", "action", "from_status", "to_status", "note", "data"),
    "app_user": ("username", "password_hash", "role", "scope_code", "worker_code"),
}
