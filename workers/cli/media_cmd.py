"""gridwatch media purge [--days N]: delete camera snapshots and clips past their retention."""

from __future__ import annotations

from datetime import timedelta

from video.media import purge


def register(sub) -> None:
    """Add `media purge` to the gridwatch parser."""
    p = sub.add_parser("media", help="camera snapshots and clips")
    media_sub = p.add_subparsers(dest="media_command", required=True)
    pp = media_sub.add_parser("purge", help="delete snapshots and clips older than the retention period")
    pp.add_argument("--days", type=float, default=30.0, help="retention in days (default 30)")
    pp.set_defaults(func=run_purge)


def run_purge(args, settings) -> int:
    """Purge the media directory; 2 on a negative retention."""
    if args.days < 0:
        print("gridwatch media purge: --days must be >= 0")
        return 2
    result = purge(settings.media_path, timedelta(days=args.days))
    print(f"purged {result.files} file(s), {result.bytes} bytes older than {args.days:g} day(s)")
    return 0
