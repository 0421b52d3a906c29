"""gridwatch user add|list|disable|enable: dashboard and tablet accounts."""

from __future__ import annotations

import sys

from geodata import db, users


def register(sub) -> None:
    """Add `user add`, `user list`, `user disable` and `user enable` to the gridwatch parser."""
    p = sub.add_parser("user", help="accounts of the dashboard and the tablet API")
    user_sub = p.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create an account; the password is read from stdin")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=users.ROLES)
    add.add_argument("--scope", help="street or community code a supervisor is limited to")
    add.add_argument("--worker", help="grid worker code (required for role grid_worker)")
    add.add_argument("--password-stdin", action="store_true", required=True,
                     help="read the password from the first line of stdin (never from the command line)")
    add.set_defaults(func=run_add)
    lst = user_sub.add_parser("list", help="list accounts")
    lst.set_defaults(func=run_list)
    for verb, helptext in (("disable", "refuse an account's logins, sessions and tokens from their next request"),
                           ("enable", "let a disabled account log in again")):
        cmd = user_sub.add_parser(verb, help=helptext)
        cmd.add_argument("name")
        cmd.set_defaults(func=run_disable, disabled=verb == "disable")


def run_add(args, settings) -> int:
    """Create one account."""
    password = sys.stdin.readline().rstrip("\r\n")
    with db.connect(settings.require_database()) as conn:
        try:
            user = users.create_user(conn, args.name, password, args.role, scope_code=args.scope,
                                     worker_code=args.worker)
        except users.UserError as exc:
            print(f"gridwatch user add: {exc}", file=sys.stderr)
            return 2
    print(f"created {user.username} ({user.role}{', scope ' + user.scope_code if user.scope_code else ''}"
          f"{', worker ' + user.worker_code if user.worker_code else ''})")
    return 0


def run_list(args, settings) -> int:
    """Print every account, one a line."""
    with db.connect(settings.require_database()) as conn:
        for u in users.list_users(conn):
            flags = " disabled" if u.disabled else ""
            print(f"{u.username}\t{u.role}\t{u.scope_code or '-'}\t{u.worker_code or '-'}{flags}")
    return 0


def run_disable(args, settings) -> int:
    """Disable or enable one account; open sessions and tokens follow at their next request."""
    with db.connect(settings.require_database()) as conn:
        try:
            user = users.set_disabled(conn, args.name, args.disabled)
        except users.UserError as exc:
            print(f"gridwatch user: {exc}", file=sys.stderr)
            return 2
    print(f"{'disabled' if user.disabled else 'enabled'} {user.username}")
    return 0
