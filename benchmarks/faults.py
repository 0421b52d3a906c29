"""Ingest killed with -9 again and again, at a scale the test suite has no time for.

The same N reports are drained twice by `gridwatch worker ingest` on throw-away private servers: once
undisturbed (the reference), once with `--kills` kill -9s spread over the run, each followed by a fresh
worker. Prints the drain time with kills as a ratio against the reference, then the figures: reports
sent, stored, lost, duplicated, and the same on the live feed (tests/system/faults/harness.tally).

    .venv/bin/python benchmarks/faults.py [--messages 20000] [--kills 3]
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repo first: benchmarks/video.py would shadow the video package

import psycopg  # noqa: E402
import redis  # noqa: E402

from geodata import migrate  # noqa: E402
from geodata.bus import INCIDENT_STREAM, INGEST_GROUP  # noqa: E402
from tests.conftest import SMALL_GRID_SQL  # noqa: E402
from tests.system.faults.harness import (LiveFeed, counts, lattice_messages, push, reset, start_ingest, stop,  # noqa: E402
                                         tally, wait_for)
from workers.services import PrivateServices  # noqa: E402


def drain(info, messages: list[dict], kills: int, log: Path) -> tuple[float, list[float], LiveFeed]:
    """Seconds to store every report, with `kills` kill -9s on the way; also each recovery's seconds."""
    reset(info)
    client = redis.Redis.from_url(info["redis_url"])
    n = len(messages)
    live = LiveFeed(info["redis_url"]).__enter__()
    push(client, messages)
    began = time.monotonic()
    worker = start_ingest(info, "w0", log)
    recoveries = []
    try:
        for k in range(kills):
            wait_for(lambda: counts(info)[1] >= (k + 1) * n // (kills + 1), 600, f"stage {k + 1}")
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            killed, at = time.monotonic(), counts(info)[1]
            worker = start_ingest(info, f"w{k + 1}", log)
            wait_for(lambda: counts(info)[1] > at, 600, "the restarted worker's first batch")
            recoveries.append(time.monotonic() - killed)
        wait_for(lambda: counts(info)[1] == n and client.xpending(INCIDENT_STREAM, INGEST_GROUP)["pending"] == 0,
                 1200, "every report")
        took = time.monotonic() - began
        live.settle(n)
    finally:
        stop(worker)
        live.__exit__(None, None, None)
    return took, recoveries, live


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--kills", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gridwatch-faults-") as tmp:
        services = PrivateServices(Path(tmp))
        info = services.up()
        try:
            with psycopg.connect(info["database_url"]) as conn:
                migrate.migrate(conn)
                conn.execute(SMALL_GRID_SQL)
            log = Path(tmp) / "ingest.log"
            clean, _, _ = drain(info, lattice_messages(args.messages, per_place=2), 0, log)
            messages = lattice_messages(args.messages, per_place=2)
            faulty, recoveries, live = drain(info, messages, args.kills, log)
            fig = tally(info, f"ingest, {args.kills} x kill -9", {m["event_id"] for m in messages}, live)
        finally:
            services.destroy()
    print(f"drain time with {args.kills} kill -9: {faulty / clean:.2f} x the undisturbed run "
          f"({faulty:.1f} s against {clean:.1f} s for {args.messages} reports)")
    print("first batch after each restart: " + ", ".join(f"{s:.1f} s" for s in recoveries))
    fig.show()
    ok = (fig.lost, fig.duplicated, fig.live_lost, fig.live_duplicated) == (0, 0, 0, 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
