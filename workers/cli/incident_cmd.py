"""gridwatch incident list | show | do: read incidents and move them along the closed loop."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from geodata import db, operations
from geodata.transitions import IncidentNotFound
from grid.lifecycle import ACTIONS, Status, TransitionError
from workers.cli.ops_output import live_client, print_outcome


def register(sub) -> None:
    """Add `incident list|show|do` to the gridwatch parser."""
    p = sub.add_parser("incident", help="list, show and act on incidents")
    inc = p.add_subparsers(dest="incident_command", required=True)
    lst = inc.add_parser("list", help="the newest incidents")
    lst.add_argument("--status", choices=[s.value for s in Status])
    lst.add_argument("--limit", type=int, default=50)
    lst.set_defaults(func=run_list)
    show = inc.add_parser("show", help="one incident with its reports and every history step")
    show.add_argument("id")
    show.set_defaults(func=run_show)
    do = inc.add_parser("do", help="apply a transition (accept, resolve, close, dispatch, ...)")
    do.add_argument("id")
    do.add_argument("action", help=f"one of: {', '.join(ACTIONS)}")
    do.add_argument("--by", required=True, help="app_user username acting (role, scope, worker from it)")
    do.add_argument("--note", help="note or reason (required for return, reopen, cancel)")
    do.add_argument("--worker", help="target grid worker for verify / dispatch / redispatch")
    do.add_argument("--queue", choices=["community", "district"], help="target queue instead of a worker")
    do.add_argument("--reset-clock", action="store_true", help="restart the deadline (needs --note)")
    do.add_argument("--preview", action="store_true", help="show what would change, write nothing")
    do.set_defaults(func=run_do)


def _t(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def run_list(args, settings) -> int:
    """Print the newest incidents, one a line."""
    tz = ZoneInfo(settings.timezone)
    with db.connect(settings.require_database()) as conn:
        rows = operations.list_incidents(conn, args.status, max(1, args.limit))
    print(f"{'id':36}  {'status':11}  {'level':9}  {'matter':22}  {'worker':8}  {'sub-grid':14}  created")
    for r in rows:
        print(f"{r['id']:36}  {r['status']:11}  {r['level']:9}  {r['matter_code']:22}  {r['worker_code'] or '-':8}  "
              f"{r['sub_grid_code'] or '-':14}  {_t(r['created_at'], tz)}")
    print(f"({len(rows)} incident(s))")
    return 0


def run_show(args, settings) -> int:
    """Print one incident, its reports and its history."""
    tz = ZoneInfo(settings.timezone)
    with db.connect(settings.require_database()) as conn:
        try:
            inc = operations.incident_detail(conn, args.id)
        except IncidentNotFound as exc:
            print(f"gridwatch incident show: {exc}", file=sys.stderr)
            return 1
    print(f"incident {inc['id']}")
    print(f"  matter   {inc['matter_code']} {inc['matter_name']} ({inc['matter_name_en']}), {inc['family']}, "
          f"priority {inc['priority']}, deadline {inc['deadline_hours']:g} h")
    print(f"  status   {inc['status']}, level {inc['level']}, queue {inc['queue'] or '-'}, "
          f"worker {inc['worker_code'] or '-'}")
    print(f"  where    {inc['lon']:.6f}, {inc['lat']:.6f}  street {inc['street_code'] or '-'} community "
          f"{inc['community_code'] or '-'} sub-grid {inc['sub_grid_code'] or '-'} base grid "
          f"{inc['base_grid_code'] or '-'}{'  OUTSIDE the district' if inc['outside'] else ''}")
    print(f"  source   {inc['source']}{' camera ' + inc['camera_code'] if inc['camera_code'] else ''}, "
          f"{inc['report_count']} report(s)")
    print(f"  clock    dispatched {_t(inc['dispatched_at'], tz)}, due {_t(inc['due_at'], tz)}, warned "
          f"{_t(inc['warned_at'], tz)}, overdue {_t(inc['overdue_at'], tz)}, closed {_t(inc['closed_at'], tz)}"
          f"{'' if inc['on_time'] is None else (', on time' if inc['on_time'] else ', LATE')}")
    if inc["description"]:
        print(f"  text     {inc['description']}")
    print("reports:")
    for r in inc["reports"]:
        media = f" media {json.dumps(r['media'], ensure_ascii=False)}" if r["media"] else ""
        print(f"  {_t(r['observed_at'], tz)}  {r['source']:11}  {r['reporter'] or '-':12}  {r['event_id']}"
              f"  {r['description'] or ''}{media}")
    print(f"history ({settings.timezone}):")
    for e in inc["events"]:
        move = f"{e['from_status'] or '-'} -> {e['to_status'] or '-'}" if e["to_status"] else ""
        extra = {k: v for k, v in (e["data"] or {}).items() if k in ("worker_code", "queue", "level", "routing",
                                                                       "on_time", "reset_clock", "operation")}
        print(f"  {_t(e['at'], tz)}  {e['action']:10}  {e['actor']:18}  {move:26}  {e['note'] or ''}"
              f"{'  ' + json.dumps(extra, ensure_ascii=False) if extra else ''}")
    return 0


def run_do(args, settings) -> int:
    """Apply one transition as an account; refusals exit 2 with the reason."""
    live = None if args.preview else live_client(settings)
    with db.connect(settings.require_database()) as conn:
        try:
            op = operations.load_operator(conn, args.by)
            outcome = operations.do_action(conn, op, args.id, args.action, note=args.note,
                                           target_worker=args.worker, target_queue=args.queue,
                                           reset_clock=args.reset_clock, preview=args.preview, live=live)
        except IncidentNotFound as exc:
            print(f"gridwatch incident do: {exc}", file=sys.stderr)
            return 1
        except (TransitionError, operations.ReassignError) as exc:
            print(f"gridwatch incident do: refused: {exc}", file=sys.stderr)
            return 2
    if outcome.preview:
        print_outcome(outcome)
        return 0
    r = outcome.results[0]
    level = f", level {r.from_level.value} -> {r.to_level.value}" if r.from_level != r.to_level else ""
    worker = r.incident.get("worker_code")
    print(f"{r.action}: incident {r.incident_id} {r.from_status.value} -> {r.to_status.value}{level}"
          f" (queue {r.incident.get('queue') or '-'}, worker {worker or '-'}; history #{r.event_id})")
    return 0
