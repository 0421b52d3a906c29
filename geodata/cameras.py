"""Cameras in PostGIS: register (add / all-or-nothing import), list, the worker's reads and health writes.

A camera row holds the identity columns (code, name, url, geom, heading) and `config` jsonb with
the rest of its `video.config.CameraConfig` (zones, rules, counting lines, health, calibration, fps). The URL is kept
in its column only, never in `config`, because `config` is shown by the dashboard and URLs may carry
credentials.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg.types.json import Jsonb

from geodata.queries import q
from video.config import CameraConfig, ConfigError, parse_config

logger = logging.getLogger(__name__)

# Columns of the table, not of config; everything else of a CameraConfig goes to config.
_IDENTITY = ("code", "name", "url", "lon", "lat", "heading")
# A .csv file carries these as JSON text in their columns; counting lines travel exactly as zones do.
_JSON_COLUMNS = ("zones", "lines", "health", "calibration")


class CameraImportError(ValueError):
    """A camera file that cannot be imported; `problems` has one line per bad camera or field."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CameraRow:
    """A stored camera: its validated config (None when the stored one is invalid) and health."""

    code: str
    config: CameraConfig | None
    problem: str | None
    health: str
    health_at: datetime | None
    raw: dict


def row_to_config(row: dict) -> CameraConfig:
    """A CameraConfig from a camera row: the columns win over any copy inside config."""
    data = {k: v for k, v in (row.get("config") or {}).items() if k not in _IDENTITY}
    data.update(code=row["code"], name=row.get("name") or "", url=row.get("url") or "",
                lon=float(row["lon"]), lat=float(row["lat"]))
    if row.get("heading") is not None:
        data["heading"] = float(row["heading"])
    return parse_config(data, f"camera {row['code']}")


def config_json(config: CameraConfig) -> dict:
    """What goes into the config column: everything but identity columns (and never the URL)."""
    return config.model_dump(mode="json", exclude=set(_IDENTITY))


def _records_from_csv(text: str) -> list[tuple[str, dict]]:
    """(where, fields) per data row; `where` names the row and the file line it starts on.

    A quoted JSON cell may hold line breaks, so a row's number and its file line differ: both are named.
    """
    out = []
    reader = csv.DictReader(io.StringIO(text))
    reader.fieldnames  # reads the header, so line_num counts from it
    row_no = 0
    while True:
        start = reader.line_num + 1
        try:
            rec = next(reader)
        except StopIteration:
            break
        row_no += 1
        where = f"row {row_no} (line {start})"
        data: dict = {}
        for key, value in rec.items():
            if key is None:
                raise CameraImportError([f"{where}: more values than columns"])
            value = (value or "").strip()
            if value == "":
                continue
            if key in _JSON_COLUMNS:
                try:
                    data[key] = json.loads(value)
                except json.JSONDecodeError as exc:
                    raise CameraImportError([f"{where}: column {key}: not JSON ({exc.msg})"]) from None
            elif key in ("lon", "lat", "heading", "fps"):
                try:
                    data[key] = float(value)
                except ValueError:
                    raise CameraImportError([f"{where}: column {key}: not a number: {value!r}"]) from None
            else:
                data[key] = value
        out.append((where, data))
    return out


def read_camera_file(path: str | Path) -> list[CameraConfig]:
    """Validate every camera of a .json (object or list) or .csv file; raise with all problems at once."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        records = _records_from_csv(text)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CameraImportError([f"{path.name}: not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}"]) from None
        items = data if isinstance(data, list) else data.get("cameras", [data]) if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise CameraImportError([f"{path.name}: expected a camera object or a list of them"])
        records = [(f"camera #{i + 1}", item) for i, item in enumerate(items)]
    problems: list[str] = []
    configs: list[CameraConfig] = []
    for where, data in records:
        if not isinstance(data, dict):
            problems.append(f"{where}: not an object")
            continue
        label = f"{where} ({data.get('code')})" if data.get("code") else where
        try:
            configs.append(parse_config(data, label))
        except ConfigError as exc:
            problems.append(str(exc))
    codes = [c.code for c in configs]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        problems.append(f"camera code repeated in the file: {', '.join(dupes)}")
    if not records:
        problems.append(f"{path.name}: no cameras")
    if problems:
        raise CameraImportError(problems)
    return configs


def save_cameras(conn: psycopg.Connection, configs: list[CameraConfig], replace: bool = False) -> tuple[int, int]:
    """Write cameras in one transaction; existing codes are refused unless replace. Returns (added, updated)."""
    codes = [c.code for c in configs]
    cur = conn.cursor(row_factory=tuple_row)
    existing = {r[0] for r in cur.execute(q("camera_codes_present"), {"codes": codes}).fetchall()}
    if existing and not replace:
        conn.rollback()
        raise CameraImportError([f"camera already registered (use --replace): {', '.join(sorted(existing))}"])
    with conn.transaction():
        for c in configs:
            conn.execute(q("camera_upsert"), {
                "code": c.code, "name": c.name or c.code, "url": c.url, "lon": c.lon, "lat": c.lat,
                "heading": c.heading, "config": Jsonb(config_json(c)),
            })
    conn.commit()
    return len(configs) - len(existing), len(existing)


def load_cameras(conn: psycopg.Connection) -> list[CameraRow]:
    """Every stored camera, validated; an invalid stored config is reported, not raised."""
    out = []
    for row in conn.cursor(row_factory=dict_row).execute(q("camera_list")).fetchall():
        try:
            config, problem = row_to_config(row), None
        except ConfigError as exc:
            config, problem = None, str(exc)
        out.append(CameraRow(row["code"], config, problem, row["health"], row["health_at"], row))
    return out


def set_health(conn: psycopg.Connection, code: str, health: str, at: datetime, reason: str | None = None) -> bool:
    """Record a camera's health when it changed, logged with ``reason``; True when a row was updated."""
    # One transaction: the reason is a transaction-local setting the log trigger reads.
    with conn.transaction():
        conn.execute(q("camera_health_reason"), {"reason": reason})
        cur = conn.execute(q("camera_set_health"), {"code": code, "health": health, "at": at})
    if not conn.autocommit:
        conn.commit()
    return cur.rowcount > 0


def active_matters(conn: psycopg.Connection) -> dict[str, str]:
    """Active matter codes and their families."""
    rows = conn.cursor(row_factory=dict_row).execute(q("camera_matters_active")).fetchall()
    return {r["code"]: r["family"] for r in rows}


def first_positions(conn: psycopg.Connection, n: int) -> list[dict]:
    """Code, name, position and heading of the first n cameras by code."""
    rows = conn.cursor(row_factory=dict_row).execute(q("camera_positions_first"), {"n": n}).fetchall()
    conn.rollback()
    return rows


def revision(conn: psycopg.Connection) -> int:
    """The grid revision; it moves whenever a camera's position or config changes."""
    row = conn.cursor(row_factory=dict_row).execute(q("grid_revision")).fetchone()
    conn.rollback()
    return int(row["rev"]) if row else 0
