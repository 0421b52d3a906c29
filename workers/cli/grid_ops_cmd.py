"""gridwatch grid move-base | assign: a supervisor's or dispatcher's reassignment of areas and workers."""

from __future__ import annotations

import sys

from geodata import db, operations
from grid.lifecycle import TransitionError
from workers.cli.ops_output import live_client, print_outcome


def register(grid_sub) -> None:
    """Add `grid move-base` and `grid assign` to the grid subcommands."""
    mv = grid_sub.add_parser("move-base", help="move a base grid to another sub-grid of its community")
    mv.add_argument("base", help="base grid code (15 digits)")
    mv.add_argument("subgrid", help="target sub-grid code (14 digits), same community")
    _common(mv)
    mv.set_defaults(func=run_move)
    asg = grid_sub.add_parser("assign", help="assign or replace a sub-grid's primary (or backup) worker")
    asg.add_argument("subgrid", help="sub-grid code (14 digits)")
    asg.add_argument("worker", help="grid worker code")
    asg.add_argument("--backup", action="store_true", help="the backup worker instead of the primary")
    _common(asg)
    asg.set_defaults(func=run_assign)


def _common(p) -> None:
    p.add_argument("--by", required=True, help="app_user username acting (role and scope come from it)")
    p.add_argument("--reason", help="why (required unless --preview; written to the audit log)")
    p.add_argument("--preview", action="store_true", help="show what would change, write nothing")


def _refused(cmd: str, exc: Exception) -> int:
    print(f"gridwatch grid {cmd}: refused: {exc}", file=sys.stderr)
    return 2


def _operate(cmd: str, args, settings, operation) -> int:
    """Run one supervisor operation as the account `--by`; refusals exit 2 with the reason."""
    live = None if args.preview else live_client(settings)
    with db.connect(settings.require_database()) as conn:
        try:
            outcome = operation(conn, operations.load_operator(conn, args.by), live)
        except (operations.ReassignError, TransitionError) as exc:
            return _refused(cmd, exc)
    print_outcome(outcome)
    return 0


def run_move(args, settings) -> int:
    """Move one base grid (or preview it)."""
    return _operate("move-base", args, settings, lambda conn, op, live: operations.move_base_grid(
        conn, op, args.base, args.subgrid, reason=args.reason, preview=args.preview, live=live))


def run_assign(args, settings) -> int:
    """Assign a worker to a sub-grid (or preview it)."""
    return _operate("assign", args, settings, lambda conn, op, live: operations.assign_grid_worker(
        conn, op, args.subgrid, args.worker, backup=args.backup, reason=args.reason, preview=args.preview,
        live=live))
