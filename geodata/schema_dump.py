"""The schema the migrations produce, as stable text: what geodata/schema.sql pins.

Read from the catalogue (geodata/queries/schema.sql) rather than from pg_dump, whose header and ordering
change between PostgreSQL versions. Everything is sorted by schema-qualified name, function bodies are
kept as the migrations wrote them, and names are printed as seen with search_path = public, so two
servers that ran the same migrations write the same text. Left out: what extensions own (PostGIS's
functions, types and spatial_ref_sys), the bookkeeping table schema_migration (made by
geodata/migrate.py, not by a migration; its rows are checksums, not schema), owners and privileges.
"""

from __future__ import annotations

import difflib
import uuid
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from geodata import migrate
from geodata.queries import q

SCHEMA_FILE = Path(__file__).resolve().parent / "schema.sql"
UPDATE_COMMAND = "gridwatch db schema"
SKIPPED_TABLES = {"public.schema_migration"}

_HEADER = f"""\
-- The schema that geodata/migrations/ produce, read from PostgreSQL's catalogue.
-- Written by `{UPDATE_COMMAND}`; do not edit by hand. tests/geodata/test_schema.py fails while a
-- migration's effect is missing here: run the command and commit this file with the migration.
-- Left out: PostGIS's own objects, the bookkeeping table schema_migration, owners and privileges.
"""
_VOLATILITY = {"i": "IMMUTABLE", "s": "STABLE", "v": "VOLATILE"}
_PARALLEL = {"s": "PARALLEL SAFE", "r": "PARALLEL RESTRICTED"}
_TRIGGER_STATE = {"D": "DISABLE TRIGGER", "R": "ENABLE REPLICA TRIGGER", "A": "ENABLE ALWAYS TRIGGER"}


def dump(conn: psycopg.Connection) -> str:
    """The schema of the database behind conn, as the text geodata/schema.sql holds."""
    cur = conn.cursor(row_factory=dict_row)
    # Rolled back at the end so the caller's search_path is left as it was.
    with conn.transaction(force_rollback=True):
        # Deparsed expressions qualify a name only when it is not on the search path: fix the path.
        cur.execute("SELECT set_config('search_path', 'public', true)")
        rows = {name: cur.execute(q(f"schema_{name}")).fetchall() for name in (
            "extensions", "namespaces", "types", "functions", "sequences", "tables", "columns", "views",
            "constraints", "indexes", "triggers")}
    sections = [
        ("Extensions", [f"CREATE EXTENSION {r['name']};" for r in rows["extensions"]]),
        ("Schemas", [f"CREATE SCHEMA {r['name']};" for r in rows["namespaces"]]),
        ("Types", [_type(r) for r in rows["types"]]),
        ("Functions", [_function(r) for r in rows["functions"]]),
        ("Sequences", [_sequence(r) for r in rows["sequences"] if r["table_name"] not in SKIPPED_TABLES]),
        ("Tables", [_table(r, rows["columns"]) for r in rows["tables"] if r["name"] not in SKIPPED_TABLES]),
        ("Views", [_view(r) for r in rows["views"]]),
        ("Constraints", [f"ALTER TABLE {r['table_name']} ADD CONSTRAINT {r['name']} {r['definition']};"
                         for r in rows["constraints"] if r["table_name"] not in SKIPPED_TABLES]),
        ("Indexes", [f"{r['definition']};" for r in rows["indexes"] if r["table_name"] not in SKIPPED_TABLES]),
        ("Triggers", [_trigger(r) for r in rows["triggers"] if r["table_name"] not in SKIPPED_TABLES]),
    ]
    out = [_HEADER]
    for title, items in sections:
        if items:
            separator = "\n\n" if any("\n" in item for item in items) else "\n"
            out.append(f"\n--\n-- {title}\n--\n\n" + separator.join(items) + "\n")
    return "".join(out)


def diff(expected: str, actual: str, expected_name: str = "geodata/schema.sql",
         actual_name: str = "migrated database") -> str:
    """A unified diff from the committed text to a database's; empty when they agree."""
    return "".join(difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                        fromfile=expected_name, tofile=actual_name))


def migrated_schema(server_url: str) -> str:
    """Migrate a scratch database on server_url's server from template0, dump it, drop it."""
    name = f"gw_schema_{uuid.uuid4().hex[:10]}"
    admin_url = psycopg.conninfo.make_conninfo(server_url, dbname="postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        # template0: nothing a local template1 carries can leak into the pinned schema.
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        with psycopg.connect(psycopg.conninfo.make_conninfo(server_url, dbname=name)) as conn:
            migrate.migrate(conn)  # 0001 creates the postgis extension
            return dump(conn)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _type(r: dict) -> str:
    if r["kind"] == "e":
        return f"CREATE TYPE {r['name']} AS ENUM ({', '.join(r['labels'] or [])});"
    if r["kind"] == "d":
        parts = [f"CREATE DOMAIN {r['name']} AS {r['base_type']}"]
        if r["default_expr"] is not None:
            parts.append(f"DEFAULT {r['default_expr']}")
        if r["not_null"]:
            parts.append("NOT NULL")
        parts += [f"CONSTRAINT {check}" for check in r["checks"] or []]
        return " ".join(parts) + ";"
    if r["kind"] == "r":
        return f"CREATE TYPE {r['name']} AS RANGE (SUBTYPE = {r['range_subtype']});"
    return f"CREATE TYPE {r['name']} AS (\n    " + ",\n    ".join(r["attributes"] or []) + "\n);"


def _function(r: dict) -> str:
    if r["full_definition"]:
        return r["full_definition"].strip() + ";"
    if r["kind"] == "p":
        head = f"CREATE PROCEDURE {r['name']}({r['arguments']})"
    else:
        head = f"CREATE FUNCTION {r['name']}({r['arguments']}) RETURNS {r['result']}"
    traits = [f"LANGUAGE {r['language']}", _VOLATILITY[r["volatility"]]]
    if r["strict"]:
        traits.append("STRICT")
    if r["security_definer"]:
        traits.append("SECURITY DEFINER")
    if r["leakproof"]:
        traits.append("LEAKPROOF")
    if r["parallel"] in _PARALLEL:
        traits.append(_PARALLEL[r["parallel"]])
    if r["cost"] != (1 if r["language"] in ("c", "internal") else 100):
        traits.append(f"COST {r['cost']:g}")
    if r["returns_set"] and r["rows"] != 1000:
        traits.append(f"ROWS {r['rows']:g}")
    traits += [f"SET {setting}" for setting in r["config"] or []]
    # The body as written, minus trailing blanks, which neither PostgreSQL nor a reader cares about.
    lines = [line.rstrip() for line in r["body"].splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    body = "\n".join(lines)
    tag = "$function$"
    while tag in body:
        tag = tag[:-1] + "_$"
    return f"{head}\n    {' '.join(traits)}\n    AS {tag}\n{body}\n{tag};"


def _sequence(r: dict) -> str:
    text = (f"CREATE SEQUENCE {r['name']} AS {r['data_type']} START {r['start']} INCREMENT {r['increment']} "
            f"MINVALUE {r['min_value']} MAXVALUE {r['max_value']} CACHE {r['cache']}")
    if r["cycle"]:
        text += " CYCLE"
    if r["table_name"]:
        text += f" OWNED BY {r['table_name']}.{r['column_name']}"
    return text + ";"


def _column(c: dict) -> str:
    parts = [c["name"], c["data_type"]]
    if c["collation"]:
        parts.append(f"COLLATE {c['collation']}")
    if c["generated"] == "s":
        parts.append(f"GENERATED ALWAYS AS ({c['default_expr']}) STORED")
    elif c["identity"]:
        parts.append(f"GENERATED {'ALWAYS' if c['identity'] == 'a' else 'BY DEFAULT'} AS IDENTITY")
    elif c["default_expr"] is not None:
        parts.append(f"DEFAULT {c['default_expr']}")
    if c["not_null"]:
        parts.append("NOT NULL")
    return " ".join(parts)


def _table(t: dict, columns: list[dict]) -> str:
    mine = [_column(c) for c in columns if c["table_name"] == t["name"]]
    unlogged = "UNLOGGED " if t["persistence"] == "u" else ""
    text = f"CREATE {unlogged}TABLE {t['name']} (\n" + "".join(f"    {c},\n" for c in mine).rstrip(",\n") + "\n)"
    if t["partition_key"]:
        text += f" PARTITION BY {t['partition_key']}"
    if t["options"]:
        text += f" WITH ({', '.join(t['options'])})"
    return text + ";"


def _view(v: dict) -> str:
    kind = "MATERIALIZED VIEW" if v["materialized"] else "VIEW"
    return f"CREATE {kind} {v['name']} AS\n{v['definition'].rstrip().rstrip(';')};"


def _trigger(r: dict) -> str:
    text = f"{r['definition']};"
    if r["enabled"] in _TRIGGER_STATE:
        text += f"\nALTER TABLE {r['table_name']} {_TRIGGER_STATE[r['enabled']]} {r['name']};"
    return text
