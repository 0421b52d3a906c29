"""gridwatch db migrate|status|schema."""

from __future__ import annotations

import sys
from pathlib import Path

from geodata import db, migrate, schema_dump


def register(sub) -> None:
    p = sub.add_parser(
        "db", help="database schema",
        description="migrate: apply what is missing to the database. status: list applied and pending "
                    "migrations. schema: migrate a scratch database from template0 on the same server, "
                    "write the schema it holds to geodata/schema.sql, drop it (run after adding a "
                    "migration, and commit the file with it).",
    )
    p.add_argument("action", choices=["migrate", "status", "schema"])
    p.add_argument("--check", action="store_true",
                   help="schema: write nothing; exit 1 with a unified diff when the file is out of date")
    p.add_argument("--output", type=Path, default=schema_dump.SCHEMA_FILE,
                   help="schema: the file to write or check (default geodata/schema.sql)")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    url = settings.require_database()
    if args.action == "schema":
        return _schema(url, args.output, args.check)
    with db.connect(url) as conn:
        if args.action == "migrate":
            applied = migrate.migrate(conn)
            for mig in applied:
                print(f"applied {mig.version:04d}_{mig.name}")
            if not applied:
                print("schema is up to date")
        else:
            rows = conn.execute(
                "SELECT version, name, applied_at FROM schema_migration ORDER BY version"
            ).fetchall() if conn.execute("SELECT to_regclass('schema_migration') AS t").fetchone()["t"] else []
            have = {r["version"] for r in rows}
            for mig in migrate.available():
                state = "applied" if mig.version in have else "pending"
                print(f"{mig.version:04d}_{mig.name}: {state}")
    return 0


def _schema(url: str, output: Path, check: bool) -> int:
    # A scratch database, not the user's: the file must say what the migrations alone produce.
    text = schema_dump.migrated_schema(url)
    committed = output.read_text(encoding="utf-8") if output.exists() else ""
    if check:
        changes = schema_dump.diff(committed, text, expected_name=str(output))
        if changes:
            sys.stdout.write(changes)
            print(f"{output} is out of date: run `{schema_dump.UPDATE_COMMAND}` and commit it", file=sys.stderr)
            return 1
        print(f"{output} matches the migrations")
        return 0
    if text == committed:
        print(f"{output} is up to date")
        return 0
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}")
    return 0
