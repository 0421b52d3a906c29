"""gridwatch seed demo [--seed N] [--days 30] [--incidents 20000]."""

from __future__ import annotations

from geodata import db
from geodata.demo import DEFAULT_SEED, seed_demo


def register(sub) -> None:
    """Add `seed demo` to the console script."""
    p = sub.add_parser("seed", help="fill an empty database with demo data")
    seed_sub = p.add_subparsers(dest="seed_command", required=True)
    demo = seed_sub.add_parser("demo", help="the Pingshan demo: grids, workers, cameras, 30 days of incidents")
    demo.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (same seed, same data)")
    demo.add_argument("--days", type=int, default=30, help="days of past incidents, ending now")
    demo.add_argument("--incidents", type=int, default=20000, help="about this many past incidents")
    demo.set_defaults(func=run)


def run(args, settings) -> int:
    """Seed the configured database; an already filled database is left alone (exit 0)."""
    with db.connect(settings.require_database()) as conn:
        summary = seed_demo(conn, settings.home, seed=args.seed, days=args.days, incidents_total=args.incidents)
    print(summary.message)
    if not summary.seeded:
        return 0
    for table, n in summary.counts.items():
        print(f"  {table}: {n}")
    print(f"manifest: {summary.manifest_path} (and table demo_manifest)")
    print(f"took {summary.seconds:.1f} s")
    print("demo accounts (username / password / role):")
    for a in summary.accounts:
        extra = f" scope {a.scope}" if a.scope else (f" worker {a.worker}" if a.worker else "")
        print(f"  {a.username} / {a.password} / {a.role}{extra}")
    return 0
