"""gridwatch analysis: refresh now, list warnings, indicators (CSV), the period report, warning to case."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import redis

from geodata import analysis_repo as repo
from geodata import db, warning_cases
from geodata.reports_repo import period_indicators
from grid.indicators import LEVEL_KEYS
from grid.period import Period
from workers import analysis

logger = logging.getLogger(__name__)


def register(sub) -> None:
    """Add `gridwatch analysis ...` and its subcommands."""
    p = sub.add_parser("analysis", help="analysis and early warning (分析研判)")
    a = p.add_subparsers(dest="analysis_command", required=True)

    r = a.add_parser("run", help="one full refresh now, stored and published")
    r.add_argument("--as-of", help="ISO time with offset to analyse at (default now)")
    r.add_argument("--via-worker", action="store_true", help="ask the running analysis worker instead")
    r.set_defaults(func=run)

    w = a.add_parser("warnings", help="list early warnings")
    w.add_argument("--status", default="open", choices=["open", "case_made", "dismissed", "all"])
    w.add_argument("--limit", type=int, default=50)
    w.add_argument("--json", action="store_true", help="one JSON object per line")
    w.set_defaults(func=warnings)

    i = a.add_parser("indicators", help="indicators per level for a period of CST days")
    i.add_argument("--level", required=True, choices=sorted(LEVEL_KEYS))
    i.add_argument("--from", dest="first", required=True, metavar="DATE", help="first CST day, YYYY-MM-DD")
    i.add_argument("--to", dest="last", required=True, metavar="DATE", help="last CST day (inclusive)")
    i.add_argument("--csv", metavar="FILE", help="write CSV (UTF-8 with BOM, opens in Excel) instead of a table")
    i.set_defaults(func=indicators_cmd)

    rep = a.add_parser("report", help="printable period report (HTML for A4)")
    rep.add_argument("--from", dest="first", required=True, metavar="DATE")
    rep.add_argument("--to", dest="last", required=True, metavar="DATE")
    rep.add_argument("--out", required=True, metavar="FILE")
    rep.add_argument("--shade", choices=["on_time_rate", "density"], default="on_time_rate",
                     help="what the map's colours show")
    rep.set_defaults(func=report)

    m = a.add_parser("make-case", help="turn a warning into a case (through the incident stream)")
    m.add_argument("warning_id", type=int, metavar="WARNING_ID")
    m.add_argument("--by", required=True, metavar="USER", help="who decided")
    m.add_argument("--matter", help="matter code (needed for camera-blind warnings)")
    m.set_defaults(func=make_case)

    d = a.add_parser("dismiss", help="dismiss a warning")
    d.add_argument("warning_id", type=int, metavar="WARNING_ID")
    d.add_argument("--by", required=True, metavar="USER")
    d.set_defaults(func=dismiss)


def run(args, settings) -> int:
    """Refresh now in this process (or ask the worker), store and publish."""
    client = redis.Redis.from_url(settings.require_redis())
    try:
        if args.via_worker:
            analysis.request_refresh(client, "cli")
            print(f"refresh requested on {analysis.REQUEST_KEY}")
            return 0
        as_of = pd.Timestamp(args.as_of).to_pydatetime() if args.as_of else None
        if as_of is not None and as_of.tzinfo is None:
            raise SystemExit("--as-of needs an offset, e.g. 2024-05-01T09:00:00+08:00")
        with db.connect(settings.require_database(), autocommit=True) as conn:
            # Through the live outbox: a publish that fails is done by the next worker to start.
            result = analysis.Analyzer().refresh(conn, as_of=as_of, outbox=True)
            analysis.publish(client, result, conn=conn)
    finally:
        client.close()
    print(f"run {result.run_id} at {result.computed_at.isoformat()} in {result.seconds:.2f} s")
    print(json.dumps(result.summary, ensure_ascii=False, indent=2))
    return 0


def warnings(args, settings) -> int:
    """Print early warnings, one line (or JSON object) each."""
    with db.connect(settings.require_database()) as conn:
        rows = repo.warnings(conn, None if args.status == "all" else args.status, args.limit)
    for w in rows:
        if args.json:
            print(json.dumps(w, ensure_ascii=False, default=str))
            continue
        d = w["details"] or {}
        what = {"rising": lambda: f"{d.get('current')} this week, {d.get('expected_per_week')}/week before, "
                                  f"x{d.get('ratio')} q={d.get('q', 0):.3g}",
                "repeat": lambda: f"{d.get('count')} times within {d.get('radius_m')} m in {d.get('days')} days",
                "camera_blind": lambda: f"{d.get('reason')} ({d.get('cameras')} camera(s))"}[w["kind"]]()
        print(f"#{w['id']:<5} {w['status']:<9} {w['kind']:<12} {w['matter_code'] or '-':<24} "
              f"{w['area_code']:<15} {w['community_name'] or '':<8} {what}")
    if not args.json:
        print(f"{len(rows)} warning(s)", file=sys.stderr)
    return 0


def indicators_cmd(args, settings) -> int:
    """Print or export (CSV) indicators per level for a period."""
    period = Period.from_days(args.first, args.last)
    with db.connect(settings.require_database()) as conn:
        table = period_indicators(conn, period, args.level)
    table.insert(0, "period", period.label())
    if args.csv:
        table.to_csv(args.csv, index=False, encoding="utf-8-sig", float_format="%.4f")
        print(f"{len(table)} row(s) written to {args.csv}")
    else:
        with pd.option_context("display.max_rows", 500, "display.width", 200):
            print(table.drop(columns="period").to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return 0


def report(args, settings) -> int:
    """Write the printable period report (HTML), rendered by the dashboard's reports page."""
    # Imported here, as `gridwatch dashboard` does: the other commands need not load Dash to start.
    from dashboard.pages.reports.printed import render_report

    period = Period.from_days(args.first, args.last)
    with db.connect(settings.require_database()) as conn:
        text = render_report(conn, period, shade=args.shade)
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"report for {period.label()} written to {args.out}")
    return 0


def make_case(args, settings) -> int:
    """Turn an open warning into a case on the incident stream."""
    client = redis.Redis.from_url(settings.require_redis())
    try:
        with db.connect(settings.require_database(), autocommit=True) as conn:
            msg = warning_cases.make_case(conn, client, args.warning_id, args.by, matter=args.matter)
    except warning_cases.CaseError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    print(f"warning {args.warning_id}: case {msg.event_id} put on the incident stream")
    return 0


def dismiss(args, settings) -> int:
    """Dismiss an open warning."""
    with db.connect(settings.require_database(), autocommit=True) as conn:
        ok = repo.dismiss_warning(conn, args.warning_id, args.by, datetime.now(UTC))
    if not ok:
        print(f"refused: warning {args.warning_id} is not open", file=sys.stderr)
        return 1
    print(f"warning {args.warning_id} dismissed")
    return 0
