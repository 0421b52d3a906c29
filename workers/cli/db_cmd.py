"""gridwatch db migrate|status."""

from __future__ import annotations

from geodata import db, migrate


def register(sub) -> None:
    p = sub.add_parser("db", help="database schema")
    p.add_argument("action", choices=["migrate", "status"])
    p.set_defaults(func=run)


def run(args, settings) -> int:
    url = settings.require_database()
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
