"""The `gridwatch` console script: one entry point, subcommands registered by small modules."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from geodata import settings as settings_mod

# Each module has register(subparsers) and sets `func(args, settings) -> int` on its parsers.
COMMAND_MODULES = [
    "workers.cli.services_cmd",
    "workers.cli.db_cmd",
    "workers.cli.seed_cmd",
    "workers.cli.grid_cmd",
    "workers.cli.worker_cmd",
    "workers.cli.video_cmd",
    "workers.cli.demo_cmd",
    "workers.cli.analysis_cmd",
    "workers.cli.camera_cmd",
    "workers.cli.media_cmd",
    "workers.cli.incident_cmd",
    "workers.cli.apikey_cmd",
    "workers.cli.user_cmd",
    "workers.cli.dashboard_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gridwatch", description="Pingshan grid and video command system")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    settings = settings_mod.load()
    try:
        return int(args.func(args, settings) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
