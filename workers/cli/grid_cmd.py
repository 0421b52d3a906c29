"""gridwatch grid ...: the grid's subcommands, each registered by its own module."""

from __future__ import annotations

import importlib

# Each module has register(grid_subparsers).
GRID_MODULES = [
    "workers.cli.grid_locate_cmd",
    "workers.cli.grid_io_cmd",
    "workers.cli.grid_ops_cmd",
]


def register(sub) -> None:
    p = sub.add_parser("grid", help="the grid hierarchy: import, export, locate, reassign")
    grid_sub = p.add_subparsers(dest="grid_command", required=True)
    for name in GRID_MODULES:
        importlib.import_module(name).register(grid_sub)
