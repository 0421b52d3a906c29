"""gridwatch worker KIND: the long-running processes, each registered by its own module."""

from __future__ import annotations

import importlib

# Each module has register(worker_subparsers).
WORKER_MODULES = [
    "workers.cli.worker_ingest_cmd",
    "workers.cli.worker_analysis_cmd",
    "workers.cli.worker_camera_cmd",
    "workers.cli.worker_deadlines_cmd",
    "workers.cli.worker_simulator_cmd",
]


def register(sub) -> None:
    p = sub.add_parser("worker", help="run one of the worker processes")
    worker_sub = p.add_subparsers(dest="worker_kind", required=True)
    for name in WORKER_MODULES:
        importlib.import_module(name).register(worker_sub)
