"""gridwatch camera add FILE.json | import FILE.csv|FILE.json | list: register and show cameras."""

from __future__ import annotations

import sys

from geodata import cameras, db
from video.sources import redact

EXIT_REFUSED = 2


def register(sub) -> None:
    """Add `camera add`, `camera import` and `camera list`."""
    p = sub.add_parser("camera", help="register and list cameras (configs: docs/cameras.md)")
    csub = p.add_subparsers(dest="camera_command", required=True)
    add = csub.add_parser("add", help="register one camera from a JSON config")
    add.add_argument("path", help="camera config JSON (one object)")
    add.add_argument("--replace", action="store_true", help="update a camera whose code is already registered")
    add.set_defaults(func=run_add)
    imp = csub.add_parser("import", help="register many cameras from .json (list) or .csv; all or nothing")
    imp.add_argument("path", help=".json list of configs, or .csv with a header (zones, lines, health, calibration as JSON)")
    imp.add_argument("--replace", action="store_true", help="update cameras whose code is already registered")
    imp.set_defaults(func=run_import)
    lst = csub.add_parser("list", help="list cameras with health (URLs redacted)")
    lst.set_defaults(func=run_list)


def _save(path: str, replace: bool, single: bool, settings) -> int:
    try:
        configs = cameras.read_camera_file(path)
        if single and len(configs) != 1:
            raise cameras.CameraImportError([f"{path}: `camera add` takes one camera; use `camera import`"])
        with db.connect(settings.require_database()) as conn:
            added, updated = cameras.save_cameras(conn, configs, replace=replace)
    except cameras.CameraImportError as exc:
        for line in exc.problems:
            print(line, file=sys.stderr)
        print("nothing was written", file=sys.stderr)
        return EXIT_REFUSED
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_REFUSED
    for c in configs:
        print(f"{c.code}\t{redact(c.url)}\t{len(c.zones)} zone(s)\t{len(c.lines)} line(s)")
    print(f"{added} camera(s) added, {updated} updated")
    return 0


def run_add(args, settings) -> int:
    """Register one camera."""
    return _save(args.path, args.replace, True, settings)


def run_import(args, settings) -> int:
    """Register every camera of a file, or none."""
    return _save(args.path, args.replace, False, settings)


def run_list(args, settings) -> int:
    """Print one camera a line: code, health, since, position, zones, counting lines, redacted URL, name."""
    with db.connect(settings.require_database()) as conn:
        rows = cameras.load_cameras(conn)
    for r in rows:
        raw = r.raw
        since = r.health_at.isoformat(timespec="seconds") if r.health_at else "-"
        zones = len(r.config.zones) if r.config else "invalid"
        lines = len(r.config.lines) if r.config else "invalid"
        print(f"{r.code}\t{r.health}\t{since}\t{raw['lon']:.6f},{raw['lat']:.6f}\t{zones} zone(s)\t{lines} line(s)\t"
              f"{redact(raw.get('url') or '')}\t{raw.get('name') or ''}")
    print(f"{len(rows)} camera(s)", file=sys.stderr)
    return 0
