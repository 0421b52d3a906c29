"""gridwatch worker simulator: simulated grid workers for the demo."""

from __future__ import annotations

import signal

from workers.simulator import Simulator, SimulatorConfig


def register(worker_sub) -> None:
    p = worker_sub.add_parser("simulator", help="simulated grid workers that report and work tasks (demo)")
    p.add_argument("--report-every", type=float, default=SimulatorConfig.report_every_s, help="seconds")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.set_defaults(func=run)


def run(args, settings) -> int:
    sim = Simulator(settings.require_database(), settings.require_redis(),
                    SimulatorConfig(report_every_s=args.report_every, seed=args.seed))

    def stop(*_):
        sim.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sim.run(args.duration)
    return 0
