"""gridwatch apikey create | revoke | list: keys of Open311 clients."""

from __future__ import annotations

import sys

from geodata import api_keys, db


def register(sub) -> None:
    """Add `apikey create|revoke|list` to the gridwatch parser."""
    p = sub.add_parser("apikey", help="API keys of Open311 clients")
    ks = p.add_subparsers(dest="apikey_command", required=True)
    create = ks.add_parser("create", help="make a key for a client; it is printed once, only its hash is kept")
    create.add_argument("name", help="client name, e.g. the appeal system")
    create.set_defaults(func=run_create)
    revoke = ks.add_parser("revoke", help="revoke a client's live key")
    revoke.add_argument("name")
    revoke.set_defaults(func=run_revoke)
    ks.add_parser("list", help="list keys (never the keys themselves)").set_defaults(func=run_list)


def run_create(args, settings) -> int:
    """Create a key and print it once."""
    with db.connect(settings.require_database()) as conn:
        try:
            key, plain = api_keys.create_key(conn, args.name)
        except api_keys.ApiKeyError as exc:
            print(f"gridwatch apikey create: {exc}", file=sys.stderr)
            return 2
    print(plain)
    print(f"API key #{key.id} for {key.name}: shown once, store it now (only its hash is kept)", file=sys.stderr)
    return 0


def run_revoke(args, settings) -> int:
    """Revoke a client's live key."""
    with db.connect(settings.require_database()) as conn:
        try:
            key = api_keys.revoke_key(conn, args.name)
        except api_keys.ApiKeyError as exc:
            print(f"gridwatch apikey revoke: {exc}", file=sys.stderr)
            return 2
    print(f"revoked API key #{key.id} of {key.name}")
    return 0


def run_list(args, settings) -> int:
    """Print every key's id, name and dates."""
    with db.connect(settings.require_database()) as conn:
        for k in api_keys.list_keys(conn):
            state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "live"
            print(f"{k.id}\t{k.name}\t{k.created_at:%Y-%m-%d %H:%M}\t{state}")
    return 0
